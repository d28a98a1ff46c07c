package layout_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shmmap/shmmap/layout/layouttest"
)

// testdata returns the absolute path of a header in testdata.
func testdata(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// cc returns the C compiler command Go uses, split into fields.
func cc(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("go", "env", "CC").Output()
	if f := strings.Fields(string(out)); err == nil && len(f) > 0 {
		return f
	}
	return []string{"cc"}
}

// runC compiles the C program src with cflags, runs it and returns its
// standard output: the reference the tests hold the package to. With
// -m32, a test is skipped (not failed) if the compiler cannot build 32-bit
// programs or the kernel cannot run them.
func runC(t *testing.T, src string, cflags ...string) string {
	t.Helper()
	dir := t.TempDir()
	cfile := filepath.Join(dir, "ref.c")
	exe := filepath.Join(dir, "ref")
	if err := os.WriteFile(cfile, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	c := cc(t)
	args := append(append(append([]string{}, c[1:]...), cflags...), "-o", exe, cfile)
	if out, err := exec.Command(c[0], args...).CombinedOutput(); err != nil {
		if strings.Contains(strings.Join(cflags, " "), "-m32") {
			t.Skipf("the C compiler cannot build -m32 programs here (gcc-multilib?): %v\n%s", err, out)
		}
		t.Fatalf("%s %s: %v\n%s", c[0], strings.Join(args, " "), err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, exe).Output()
	if errors.Is(err, syscall.ENOEXEC) {
		t.Skipf("this kernel cannot run the %v program: %v", cflags, err)
	}
	if err != nil {
		t.Fatalf("running the C reference: %v", err)
	}
	return string(out)
}

// is32 reports whether the test binary is 32-bit.
func is32() bool { return ptrSize == 4 }

// cflags returns the C flags of this binary's ABI (layouttest.CFlags),
// skipping the test where the compiler cannot use them.
func cflags(t *testing.T) []string {
	t.Helper()
	return layouttest.CFlags(t)
}
