package shmmap_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shmmap/shmmap/internal/testutil"
)

// mmapRun is what a run of the mmap program shows: its output and status
// and what mmap.txt holds afterwards.
type mmapRun struct {
	Run  testutil.Result
	File string
}

// TestMmapMatrix runs the C mmap program and both Go ports on the same
// starting mmap.txt and compares everything they show.
func TestMmapMatrix(t *testing.T) {
	write := func(content string, mode os.FileMode) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			path := filepath.Join(dir, "mmap.txt")
			if err := os.WriteFile(path, []byte(content), mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, mode); err != nil { // past the umask
				t.Fatal(err)
			}
		}
	}
	cases := []struct {
		name   string
		setup  func(t *testing.T, dir string)
		nobody bool
	}{
		{"the article's text", write("memory map me\n", 0o644), false},
		{"empty file", write("", 0o644), false},
		{"missing file", func(*testing.T, string) {}, false},
		{"shorter than the message", write("abc", 0o644), false},
		{"exactly the message length", write("0123456789abc", 0o644), false},
		{"NUL byte inside", write("ab\x00cd\nefghijklmnopqrstuvwxyz\n", 0o644), false},
		{"non-ASCII text", write("共享内存和内存映射 — ünïcødé\n", 0o644), false},
		{"longest defined: 1023 bytes", write(strings.Repeat("x", 1022)+"\n", 0o644), false},
		{"directory named mmap.txt", func(t *testing.T, dir string) {
			if err := os.Mkdir(filepath.Join(dir, "mmap.txt"), 0o755); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"file the unprivileged user may not write", write("memory map me\n", 0o644), true},
		{"file nobody may read or write, run as root", write("memory map me\n", 0o000), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.nobody {
				testutil.RequireRoot(t)
			}
			got := map[string]mmapRun{}
			for _, p := range programs("mmap") {
				dir, err := testutil.MkdirShared("shmmap-mmap-")
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { os.RemoveAll(dir) })
				tc.setup(t, dir)
				r := mmapRun{Run: run(t, p, dir, tc.nobody)}
				b, err := os.ReadFile(filepath.Join(dir, "mmap.txt"))
				switch {
				case err == nil:
					r.File = string(b)
				default:
					r.File = "<" + err.(*os.PathError).Err.Error() + ">"
				}
				got[p.Name] = r
			}
			want := got["C"]
			for name, r := range got {
				if d := cmp.Diff(want, r); d != "" {
					t.Errorf("%s differs from C (-C +%s):\n%s", name, name, d)
				}
			}
		})
	}
}
