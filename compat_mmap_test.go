package shmmap_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shmmap/shmmap/shmtest"
)

// mmapFile is the file every run of the mmap program works on.
const mmapFile = "mmap.txt"

// readMmapFile puts what dir's mmap.txt holds after a run into res.Files:
// its content under "mmap.txt"; no entry if it does not exist; and if it
// cannot be read (a directory), the error under "mmap.txt (unreadable)".
func readMmapFile(res *shmtest.Result, dir string) {
	res.Files = map[string][]byte{}
	b, err := os.ReadFile(filepath.Join(dir, mmapFile))
	var pe *fs.PathError
	switch {
	case err == nil:
		res.Files[mmapFile] = b
	case errors.Is(err, fs.ErrNotExist):
	case errors.As(err, &pe):
		res.Files[mmapFile+" (unreadable)"] = []byte(pe.Err.Error())
	default:
		res.Files[mmapFile+" (unreadable)"] = []byte(err.Error())
	}
}

// TestMmapMatrix runs the C mmap program and both Go ports on the same
// starting mmap.txt and compares everything they show.
func TestMmapMatrix(t *testing.T) {
	write := func(content string, mode os.FileMode) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			path := filepath.Join(dir, mmapFile)
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
			if err := os.Mkdir(filepath.Join(dir, mmapFile), 0o755); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"file the unprivileged user may not write", write("memory map me\n", 0o644), true},
		{"file nobody may read or write, run as root", write("memory map me\n", 0o000), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.nobody {
				shmtest.RequireRoot(t)
			}
			got := map[string]shmtest.Result{}
			for _, p := range programs(t, "mmap") {
				dir := shmtest.SharedDir(t)
				tc.setup(t, dir)
				r := run(t, p, dir, tc.nobody)
				readMmapFile(&r, dir)
				got[p.Name] = r
			}
			want := got["C"]
			for name, r := range got {
				if d := shmtest.Diff(want, r); d != "" {
					t.Errorf("%s differs from C (want: C, got: %s):\n%s", name, name, d)
				}
			}
		})
	}
}
