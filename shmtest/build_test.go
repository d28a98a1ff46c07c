package shmtest_test

import (
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shmmap/shmmap/shmtest"
	"golang.org/x/sys/unix"
)

// writeC writes a C program printing msg into dir and returns its path.
func writeC(t *testing.T, dir, name, msg string) string {
	t.Helper()
	src := filepath.Join(dir, name)
	prog := fmt.Sprintf("#include <stdio.h>\nint main(void) { puts(%q); return 0; }\n", msg)
	if err := os.WriteFile(src, []byte(prog), 0o644); err != nil {
		t.Fatal(err)
	}
	return src
}

func TestBuildCOnce(t *testing.T) {
	// A source no other test builds: its content includes this run's time.
	msg := fmt.Sprintf("built at %d", time.Now().UnixNano())
	src := writeC(t, t.TempDir(), "once.c", msg)

	before := shmtest.Compiles()
	bin := shmtest.BuildC(t, src)
	if got := shmtest.Compiles() - before; got != 1 {
		t.Fatalf("the first BuildC ran the compiler %d times", got)
	}
	if !filepath.IsAbs(bin) {
		t.Errorf("BuildC returned %q, not an absolute path", bin)
	}
	fi1, err := os.Stat(bin)
	if err != nil {
		t.Fatal(err)
	}
	if fi1.Mode().Perm() != 0o755 {
		t.Errorf("the program's mode is %v, want 0755 (an unprivileged user runs it)", fi1.Mode())
	}
	if fi, err := os.Stat(filepath.Dir(bin)); err != nil {
		t.Error(err)
	} else if fi.Mode().Perm() != 0o755 {
		t.Errorf("the build directory's mode is %v, want 0755", fi.Mode())
	}
	if res := shmtest.Run(t, exec.Command(bin)); res.Stdout != msg+"\n" {
		t.Errorf("the program printed %q, want %q", res.Stdout, msg+"\n")
	}

	// The same inputs again, from the same path and through a relative
	// one: no compiler run, the same file, untouched.
	bin2 := shmtest.BuildC(t, src)
	wd, _ := os.Getwd()
	rel, err := filepath.Rel(wd, src)
	if err != nil {
		t.Fatal(err)
	}
	bin3 := shmtest.BuildC(t, rel)
	if got := shmtest.Compiles() - before; got != 1 {
		t.Errorf("after three BuildC calls on the same source the compiler ran %d times, want 1", got)
	}
	if bin2 != bin || bin3 != bin {
		t.Errorf("BuildC returned %q, %q and %q for the same source", bin, bin2, bin3)
	}
	if fi2, err := os.Stat(bin); err != nil || !fi2.ModTime().Equal(fi1.ModTime()) {
		t.Errorf("the program was rewritten (%v, %v): not cached", fi2.ModTime(), err)
	}

	// Other flags, or other content, are another program.
	bin4 := shmtest.BuildC(t, src, "-DUNUSED=1")
	if bin4 == bin || shmtest.Compiles()-before != 2 {
		t.Errorf("other cflags: %q (was %q), %d compiles; want a new build", bin4, bin, shmtest.Compiles()-before)
	}
	writeC(t, filepath.Dir(src), "once.c", msg+" again")
	bin5 := shmtest.BuildC(t, src)
	if bin5 == bin || shmtest.Compiles()-before != 3 {
		t.Errorf("changed source: %q (was %q), %d compiles; want a new build", bin5, bin, shmtest.Compiles()-before)
	}
	if res := shmtest.Run(t, exec.Command(bin5)); res.Stdout != msg+" again\n" {
		t.Errorf("the rebuilt program printed %q", res.Stdout)
	}
}

// TestBuildCConcurrent: parallel callers wait for one build.
func TestBuildCConcurrent(t *testing.T) {
	src := writeC(t, t.TempDir(), "concurrent.c", fmt.Sprintf("concurrent %d", time.Now().UnixNano()))
	before := shmtest.Compiles()
	const n = 8
	paths := make([]string, n)
	fakes := make([]*fakeTB, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			fakes[i] = fake(t, nil, func(ft *fakeTB) { paths[i] = shmtest.BuildC(ft, src) })
		})
	}
	wg.Wait()
	for i := range n {
		mustPass(t, fakes[i])
		if paths[i] != paths[0] {
			t.Errorf("caller %d got %q, caller 0 %q", i, paths[i], paths[0])
		}
	}
	if got := shmtest.Compiles() - before; got != 1 {
		t.Errorf("%d concurrent BuildC calls ran the compiler %d times, want 1", n, got)
	}
	if _, err := os.Stat(paths[0]); err != nil {
		t.Error(err)
	}
}

func TestBuildCCompileError(t *testing.T) {
	src := filepath.Join(t.TempDir(), "broken.c")
	if err := os.WriteFile(src, []byte("int main(void) { return undeclared_thing; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := shmtest.Compiles()
	ft := fake(t, nil, func(ft *fakeTB) {
		shmtest.BuildC(ft, src, "-DMARK=1")
		ft.Errorf("BuildC returned after a compile error")
	})
	// The compiler's own message, the source, the command line with the
	// flags.
	mustFail(t, ft, "undeclared_thing", src, "-O2 -g", "-DMARK=1", "shmtest.BuildC")
	if strings.Contains(ft.output(), "BuildC returned") {
		t.Error("BuildC returned after a compile error instead of failing the test")
	}
	// A second caller gets the same failure without compiling again.
	ft2 := fake(t, nil, func(ft *fakeTB) { shmtest.BuildC(ft, src, "-DMARK=1") })
	mustFail(t, ft2, "undeclared_thing")
	if got := shmtest.Compiles() - before; got != 1 {
		t.Errorf("the compiler ran %d times, want 1", got)
	}

	ft3 := fake(t, nil, func(ft *fakeTB) { shmtest.BuildC(ft, filepath.Join(t.TempDir(), "absent.c")) })
	mustFail(t, ft3, "absent.c", "no such file")
}

// TestBuildC32 builds a 32-bit C peer: an ELFCLASS32 i386 program that
// runs and has 32-bit pointers.
func TestBuildC32(t *testing.T) {
	shmtest.Require32(t)
	src := filepath.Join(t.TempDir(), "ptr.c")
	prog := "#include <stdio.h>\nint main(void) { printf(\"%d\\n\", (int)(sizeof(void *) * 8)); return 0; }\n"
	if err := os.WriteFile(src, []byte(prog), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := shmtest.BuildC(t, src, "-m32")
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Class != elf.ELFCLASS32 || f.Machine != elf.EM_386 {
		t.Errorf("BuildC -m32 made a %v %v program, want ELFCLASS32 EM_386", f.Class, f.Machine)
	}
	if res := shmtest.Run(t, exec.Command(bin)); res.Stdout != "32\n" || res.Status != 0 {
		t.Errorf("the -m32 program: %+v, want 32-bit pointers", res)
	}
	// Without -m32 the compiler of an x86-64 machine makes a 64-bit
	// program: the flag is what made the difference.
	var u unix.Utsname
	if unix.Uname(&u) == nil && unix.ByteSliceToString(u.Machine[:]) == "x86_64" {
		f64, err := elf.Open(shmtest.BuildC(t, src))
		if err != nil {
			t.Fatal(err)
		}
		defer f64.Close()
		if f64.Class != elf.ELFCLASS64 {
			t.Errorf("without -m32: %v, want ELFCLASS64", f64.Class)
		}
	}
}

func TestCanRun32Reason(t *testing.T) {
	ok, reason := shmtest.CanRun32()
	if ok != (reason == "") {
		t.Errorf("CanRun32 = %v, %q: a reason is given exactly when it cannot", ok, reason)
	}
	if !ok {
		t.Logf("no 32-bit C peers here: %s", reason)
	}
	ft := fake(t, nil, func(ft *fakeTB) { shmtest.Require32(ft) })
	if ft.Skipped() == ok || ft.Failed() {
		t.Errorf("Require32 skipped=%v failed=%v, CanRun32=%v: %s", ft.Skipped(), ft.Failed(), ok, ft.output())
	}
	if !ok && !strings.Contains(ft.output(), reason) {
		t.Errorf("Require32's skip does not say why: %s", ft.output())
	}
}

func TestBuildGo(t *testing.T) {
	bin := shmtest.BuildGo(t, "./testdata/goreader", "CGO_ENABLED=0") // built now, or by an earlier -count run
	before := shmtest.Compiles()
	if shmtest.BuildGo(t, "./testdata/goreader", "CGO_ENABLED=0") != bin || shmtest.Compiles() != before {
		t.Errorf("a second BuildGo built again (%d builds)", shmtest.Compiles()-before)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()

	// The environment reaches go build: GOARCH=386 makes a 32-bit program.
	bin386 := shmtest.BuildGo(t, "./testdata/goreader", "CGO_ENABLED=0", "GOARCH=386")
	if bin386 == bin {
		t.Fatal("another environment gave the same program")
	}
	f, err = elf.Open(bin386)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Class != elf.ELFCLASS32 || f.Machine != elf.EM_386 {
		t.Errorf("BuildGo GOARCH=386 made a %v %v program", f.Class, f.Machine)
	}

	ft := fake(t, nil, func(ft *fakeTB) { shmtest.BuildGo(ft, "./testdata/nosuchpkg") })
	mustFail(t, ft, "shmtest.BuildGo", "nosuchpkg", "go build")
}

// TestSweepBuildDirs: a build directory whose test binary has exited (its
// lock is free) is removed; this binary's (locked) is not.
func TestSweepBuildDirs(t *testing.T) {
	shmtest.BuildC(t, writeC(t, t.TempDir(), "sweep.c", "sweep"))
	mine := shmtest.BuildDir()
	stale, err := os.MkdirTemp("", shmtest.BuildDirPrefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(stale) })
	if err := os.WriteFile(filepath.Join(stale, "prog"), nil, 0o755); err != nil {
		t.Fatal(err)
	}
	shmtest.SweepBuildDirs()
	if _, err := os.Stat(stale); err == nil {
		t.Errorf("the stale %s is still there", stale)
	}
	if _, err := os.Stat(mine); err != nil {
		t.Errorf("the sweep removed this binary's own directory: %v", err)
	}
}

func TestGoProgramName(t *testing.T) {
	for _, c := range []struct{ wd, pkg, want string }{
		{"/src/m/cmd/peer", ".", "peer"},
		{"/src/m/cmd/peer/sub", "..", "peer"},
		{"/src/m/cmd/peer/sub", "../", "peer"},
		{"/src/m/cmd/sub", "../peer", "peer"},
		{"/src/m", "./testdata/goreader/", "goreader"},
		{"/src/m", "/abs/tool", "tool"},
		{"/src/m", "example.com/m/cmd/tool", "tool"},
		{"/src/m", "example.com/m/v2", "m"},
		{"/src/m", "example.com/m/v2/cmd/v3tool", "v3tool"},
		{"/src/m", "example.com/m/v1", "v1"},
		{"/", "..", "program"},
	} {
		if got := shmtest.GoProgramName(c.wd, c.pkg); got != c.want {
			t.Errorf("in %s, BuildGo(%q) names the program %q, want %q", c.wd, c.pkg, got, c.want)
		}
	}
}

// TestBuildGoParentDir: BuildGo(t, "..") builds a program named after the
// parent directory, in a directory of its own like any other, not into the
// shared build directory.
func TestBuildGoParentDir(t *testing.T) {
	mod := t.TempDir()
	if err := os.MkdirAll(filepath.Join(mod, "peer", "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	msg := fmt.Sprintf("peer built at %d", time.Now().UnixNano())
	files := map[string]string{
		"go.mod":       "module example.com/m\n\ngo 1.26\n",
		"peer/main.go": fmt.Sprintf("package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(%q) }\n", msg),
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(mod, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	shmtest.BuildC(t, writeC(t, t.TempDir(), "first.c", "first")) // the build directory exists
	t.Chdir(filepath.Join(mod, "peer", "sub"))
	for _, pkg := range []string{"..", "../"} {
		bin := shmtest.BuildGo(t, pkg, "CGO_ENABLED=0")
		if filepath.Base(bin) != "peer" || filepath.Dir(filepath.Dir(bin)) != shmtest.BuildDir() {
			t.Errorf("BuildGo(%q) = %s, want BUILDDIR/KEY/peer (BUILDDIR %s)", pkg, bin, shmtest.BuildDir())
		}
		if fi, err := os.Stat(bin); err != nil || !fi.Mode().IsRegular() {
			t.Fatalf("BuildGo(%q): %s is not a program: %v %v", pkg, bin, fi, err)
		}
		if res := shmtest.Run(t, exec.Command(bin)); res.Stdout != msg+"\n" {
			t.Errorf("BuildGo(%q)'s program printed %+v", pkg, res)
		}
	}
}

// TestRun32Reasons: CanRun32's probe tells a kernel without ia32
// emulation (ENOEXEC) from a program it may not execute (EACCES: a noexec
// $TMPDIR, here a file without execute permission, which the kernel
// refuses with the same error).
func TestRun32Reasons(t *testing.T) {
	dir := t.TempDir()
	noexec := filepath.Join(dir, "noexec")
	if err := os.WriteFile(noexec, []byte("#!/bin/sh\necho 32\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := shmtest.Run32(noexec)
	if !errors.Is(err, unix.EACCES) || !strings.Contains(err.Error(), "noexec") || strings.Contains(err.Error(), "ia32") {
		t.Errorf("a program the kernel may not execute: %v; want EACCES, blamed on noexec and not on ia32 emulation", err)
	}
	garbage := filepath.Join(dir, "garbage")
	if err := os.WriteFile(garbage, []byte("\x7fELF not really"), 0o755); err != nil {
		t.Fatal(err)
	}
	err = shmtest.Run32(garbage)
	if !errors.Is(err, unix.ENOEXEC) || !strings.Contains(err.Error(), "ia32 emulation") {
		t.Errorf("a program the kernel cannot run: %v; want ENOEXEC, blamed on ia32 emulation", err)
	}
	wrong := filepath.Join(dir, "wrong")
	if err := os.WriteFile(wrong, []byte("#!/bin/sh\necho 64\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := shmtest.Run32(wrong); err == nil || !strings.Contains(err.Error(), "64-bit pointers") {
		t.Errorf("a probe reporting 64-bit pointers: %v", err)
	}
}
