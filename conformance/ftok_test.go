package conformance

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/shmmap/shmmap/sysapi"
)

// TestFtok compares ftok over many paths and project ids, including ids
// with bit 7 set (a negative key_t in C), ids above 0xff (only the low 8
// bits count) and paths that do not exist.
func TestFtok(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "key file with spaces")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(file, link); err != nil {
		t.Fatal(err)
	}
	exe, _ := os.Executable()
	paths := []string{"/", "/tmp", "/proc/self", "/dev/null", "/etc/passwd", exe, dir, file, link,
		filepath.Join(dir, "missing"), filepath.Join(file, "not-a-dir"), ""}
	projs := []int{0, 1, 'A', 0x7f, 0x80, 0xfe, 0xff, 0x100, 0x1234, -1}

	type result struct {
		Key int
		Err string
	}
	each(t, func(t *testing.T, sys sysapi.Impl) map[string]result {
		out := map[string]result{}
		for _, p := range paths {
			for _, proj := range projs {
				k, err := sys.Ftok(p, proj)
				out[fmt.Sprintf("%q proj %#x", p, proj)] = result{k, errString(err)}
				if err == nil && proj&0x80 != 0 && k >= 0 {
					t.Errorf("Ftok(%q, %#x) = %#x: key_t with bit 31 set must be negative", p, proj, k)
				}
			}
		}
		return out
	})
}
