package conformance

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/shmmap/shmmap"
	"github.com/shmmap/shmmap/sysapi"
	"golang.org/x/sys/unix"
)

// TestAPIInvalidModes: an AttachMode or MapMode that is not one of the
// constants is EINVAL, never a guess.
func TestAPIInvalidModes(t *testing.T) {
	each(t, func(t *testing.T, impl sysapi.Impl) [2]string {
		sys := shmmap.Using(impl)
		seg, err := sys.CreateSegment(shmmap.IPCPrivate, 100, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		defer seg.Remove()
		_, attachErr := seg.Attach(shmmap.AttachMode(7))
		path := filepath.Join(t.TempDir(), "f")
		if err := os.WriteFile(path, []byte("data"), 0o600); err != nil {
			t.Fatal(err)
		}
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		_, mapErr := sys.Map(f, 0, 0, shmmap.MapMode(-1))
		for _, err := range []error{attachErr, mapErr} {
			if !errors.Is(err, unix.EINVAL) {
				t.Errorf("invalid mode: %v, want EINVAL", err)
			}
		}
		return [2]string{errString(attachErr), errString(mapErr)}
	})
}
