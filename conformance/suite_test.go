package conformance

import (
	"errors"
	"fmt"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shmmap/shmmap/impls"
	"github.com/shmmap/shmmap/shmtest"
	"github.com/shmmap/shmmap/sysapi"
	"golang.org/x/sys/unix"
)

// each runs scenario once per built-in implementation, each run in a fresh
// IPC namespace of its own, and fails if the outcomes differ. It returns the
// outcomes by implementation name so the caller can assert what they must
// be.
func each[T any](t *testing.T, scenario func(t *testing.T, sys sysapi.Impl) T) map[string]T {
	t.Helper()
	all := impls.All()
	out := make(map[string]T, len(all))
	for _, sys := range all {
		t.Run(sys.Name, func(t *testing.T) {
			shmtest.Isolate(t)
			out[sys.Name] = scenario(t, sys)
		})
	}
	if t.Failed() || t.Skipped() {
		return out
	}
	if len(all) < 2 {
		t.Logf("only %s is built in (CGO_ENABLED=0): no cross-implementation comparison", all[0].Name)
	}
	first := all[0].Name
	for _, sys := range all[1:] {
		if d := cmp.Diff(out[first], out[sys.Name]); d != "" {
			t.Errorf("%s and %s disagree (-%s +%s):\n%s", first, sys.Name, first, sys.Name, d)
		}
	}
	return out
}

// errString renders an error for comparison: the errno name and number, or
// the text of another error, or "" for nil.
func errString(err error) string {
	var e syscall.Errno
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return fmt.Sprintf("%s (%d)", unix.ErrnoName(e), int(e))
	default:
		return err.Error()
	}
}
