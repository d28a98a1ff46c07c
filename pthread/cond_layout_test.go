package pthread

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/shmmap/shmmap/layout"
	"github.com/shmmap/shmmap/layout/layouttest"
)

// TestCondLayout holds condData, through which Cond reads and writes a
// pthread_cond_t, to glibc's struct __pthread_cond_s as the C compiler
// lays it out, on this binary's ABI and (from a 64-bit run) on i386's.
func TestCondLayout(t *testing.T) {
	layouttest.Also386(t)
	flags := layouttest.CFlags(t)
	// layout wants a header file; this one is glibc's <pthread.h>.
	header := filepath.Join(t.TempDir(), "cond.h")
	if err := os.WriteFile(header, []byte("#include <pthread.h>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := layout.Check(condData{}, header, "struct __pthread_cond_s", flags...); err != nil {
		t.Error(err)
	}
	l, err := layout.Measure(header, "struct __pthread_cond_s", flags...)
	if err != nil {
		t.Fatal(err)
	}
	if l.Size != int64(CondSize) {
		t.Errorf("C sizeof(struct __pthread_cond_s) = %d, CondSize = %d", l.Size, CondSize)
	}
	if l.Align != int64(CondAlign) {
		t.Errorf("C _Alignof(struct __pthread_cond_s) = %d, CondAlign = %d", l.Align, CondAlign)
	}
}
