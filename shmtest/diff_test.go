package shmtest_test

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shmmap/shmmap/shmtest"
)

// run runs testdata/emit.c in a directory of its own, reading the file it
// writes: a C process's whole observable behaviour.
func runEmit(t *testing.T, stdout, stderr, content, status string) shmtest.Result {
	t.Helper()
	dir := t.TempDir()
	res := shmtest.Run(t, exec.Command(emitBin(t), stdout, stderr, filepath.Join(dir, "mmap.txt"), content, status))
	res.ReadFiles(t, dir, "mmap.txt")
	return res
}

func TestDiffEqual(t *testing.T) {
	a := runEmit(t, "shared memory here!\n", "", "txt changed!\n", "0")
	b := runEmit(t, "shared memory here!\n", "", "txt changed!\n", "0")
	if d := shmtest.Diff(a, b); d != "" {
		t.Errorf("two identical runs differ:\n%s", d)
	}
	ft := fake(t, nil, func(ft *fakeTB) {
		if !shmtest.Compare(ft, a, b) {
			ft.Errorf("Compare returned false")
		}
	})
	mustPass(t, ft)
	// No files read and an empty map of files are the same.
	if d := shmtest.Diff(shmtest.Result{Files: map[string][]byte{}}, shmtest.Result{}); d != "" {
		t.Errorf("nil and empty Files differ:\n%s", d)
	}
}

// TestDiffStdoutOneByte: one byte of stdout differs; Diff says where and
// shows both sides there.
func TestDiffStdoutOneByte(t *testing.T) {
	want := runEmit(t, "line one\nshared memory here!\n", "", "", "0")
	got := runEmit(t, "line one\nshared memory hare!\n", "", "", "0")
	if cmp.Equal(want, got) {
		t.Fatal("the runs are equal: the C program ignored its arguments")
	}
	d := shmtest.Diff(want, got)
	off := len("line one\nshared memory h")
	for _, s := range []string{
		"Stdout: want 29 bytes, got 29",
		"first difference at byte " + itoa(off) + " (line 2, column 16)",
		`want: "line one\nshared memory here!\n"`,
		`got : "line one\nshared memory hare!\n"`,
	} {
		if !strings.Contains(d, s) {
			t.Errorf("the diff does not say %q:\n%s", s, d)
		}
	}
	if strings.Contains(d, "Status") || strings.Contains(d, "Files") || strings.Contains(d, "Stderr") {
		t.Errorf("the diff names fields that are equal:\n%s", d)
	}
	// The caret is under the differing byte of the lines above it.
	lines := strings.Split(d, "\n")
	caret := lines[len(lines)-1]
	wantLine := lines[len(lines)-3]
	col := strings.Index(caret, "^")
	if col < 0 || !strings.HasPrefix(wantLine[col:], "ere!") {
		t.Errorf("the caret is not under the difference:\n%s", d)
	}

	ft := fake(t, nil, func(ft *fakeTB) { shmtest.Compare(ft, want, got) })
	mustFail(t, ft, "shmtest.Compare: the results differ", "first difference at byte")
}

// TestDiffLongText: far into a long output, the context is cut on both
// sides.
func TestDiffLongText(t *testing.T) {
	long := strings.Repeat("0123456789abcdef\n", 100)
	changed := long[:1000] + "X" + long[1001:]
	d := shmtest.Diff(shmtest.Result{Stdout: long}, shmtest.Result{Stdout: changed})
	if !strings.Contains(d, "first difference at byte 1000") || !strings.Contains(d, `…`) || len(d) > 600 {
		t.Errorf("diff of one byte in 1700:\n%s", d)
	}
	d = shmtest.Diff(shmtest.Result{Stderr: "abc"}, shmtest.Result{Stderr: "abcdef"})
	if !strings.Contains(d, "Stderr: want 3 bytes, got 6; first difference at byte 3") || !strings.Contains(d, "the wanted one is a prefix") {
		t.Errorf("prefix diff:\n%s", d)
	}
}

// TestDiffFileOneByte: one byte of a file differs; Diff gives the offset
// and the row holding it from each side, as hexdump -C prints it.
func TestDiffFileOneByte(t *testing.T) {
	want := runEmit(t, "", "", "mapped file contents, byte by byte\n", "0")
	got := runEmit(t, "", "", "mapped file contents, byte by bytE\n", "0")
	d := shmtest.Diff(want, got)
	off := strings.Index("mapped file contents, byte by byte\n", "e\n")
	if s := `Files["mmap.txt"]: want 35 bytes, got 35; first difference at offset 0x21 (` + itoa(off) + ")"; !strings.Contains(d, s) {
		t.Errorf("the diff does not say %q:\n%s", s, d)
	}
	for _, side := range []struct {
		label string
		data  []byte
	}{{"  want ", want.Files["mmap.txt"]}, {"  got  ", got.Files["mmap.txt"]}} {
		hd := hexdump(t, side.data)
		row := hd[len(hd)-2] // the row at 0x20, before the final offset
		if !strings.Contains(d, side.label+row+"\n") {
			t.Errorf("the diff does not show hexdump -C's row %q:\n%s", row, d)
		}
	}
	lines := strings.Split(d, "\n")
	if col := strings.Index(lines[3], "^^"); col < 0 || lines[1][col:col+2] != "65" || lines[2][col:col+2] != "45" {
		t.Errorf("the carets are not under the differing byte:\n%s", d)
	}
	if strings.Contains(d, "Stdout") {
		t.Errorf("the diff names Stdout, which is equal:\n%s", d)
	}
	ft := fake(t, nil, func(ft *fakeTB) { shmtest.Compare(ft, want, got) })
	mustFail(t, ft, `Files["mmap.txt"]`)

	// A file one run made and the other did not.
	none := runEmit(t, "", "", "", "0")
	delete(none.Files, "mmap.txt")
	if d := shmtest.Diff(want, none); !strings.Contains(d, `Files["mmap.txt"]: want 35 bytes, got no such file`) {
		t.Errorf("missing file:\n%s", d)
	}
}

// TestDiffStatus: only the exit status differs.
func TestDiffStatus(t *testing.T) {
	want := runEmit(t, "same\n", "same\n", "same", "0")
	got := runEmit(t, "same\n", "same\n", "same", "1")
	if d := shmtest.Diff(want, got); d != "Status: want 0 (success), got 1 (exit code)" {
		t.Errorf("status diff:\n%s", d)
	}
	killed := runEmit(t, "same\n", "same\n", "same", "sig6")
	if d := shmtest.Diff(want, killed); !strings.Contains(d, "got 134 (killed by SIGABRT)") {
		t.Errorf("signal diff:\n%s", d)
	}
	ft := fake(t, nil, func(ft *fakeTB) { shmtest.Compare(ft, want, got) })
	mustFail(t, ft, "Status: want 0")
}

func itoa(n int) string { return strconv.Itoa(n) }

// hexdump returns the lines hexdump -C prints for data.
func hexdump(t *testing.T, data []byte) []string {
	t.Helper()
	if _, err := exec.LookPath("hexdump"); err != nil {
		t.Skip("no hexdump here to compare with")
	}
	cmd := exec.Command("hexdump", "-C")
	cmd.Stdin = bytes.NewReader(data)
	res := shmtest.Run(t, cmd)
	if res.Status != 0 {
		t.Fatalf("hexdump: %+v", res)
	}
	return strings.Split(strings.TrimSuffix(res.Stdout, "\n"), "\n")
}
