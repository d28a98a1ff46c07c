package layouttest

import (
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"os/exec"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestELF386: the probe program is a well-formed 32-bit x86 executable
// whose entry point lies in its one loadable segment, and, where the
// kernel runs 32-bit programs, it exits 0.
func TestELF386(t *testing.T) {
	b := elf386Exit0()
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if f.Class != elf.ELFCLASS32 || f.Machine != elf.EM_386 || f.Type != elf.ET_EXEC || f.Data != elf.ELFDATA2LSB {
		t.Errorf("class %v machine %v type %v data %v", f.Class, f.Machine, f.Type, f.Data)
	}
	if len(f.Progs) != 1 {
		t.Fatalf("%d program headers", len(f.Progs))
	}
	p := f.Progs[0]
	if p.Type != elf.PT_LOAD || p.Filesz != uint64(len(b)) || f.Entry < p.Vaddr || f.Entry >= p.Vaddr+p.Memsz || p.Flags&elf.PF_X == 0 {
		t.Errorf("segment %+v, entry %#x", p.ProgHeader, f.Entry)
	}
	if runtime.GOOS != "linux" || (runtime.GOARCH != "amd64" && runtime.GOARCH != "386") {
		return
	}
	// It runs and exits 0, or the kernel refuses 32-bit programs
	// altogether (ENOEXEC: no ia32 emulation); any other failure means
	// the program is wrong.
	switch err := run386(); {
	case errors.Is(err, syscall.ENOEXEC):
		t.Skipf("this kernel does not run 32-bit x86 programs (no ia32 emulation): %v", err)
	case err != nil:
		t.Errorf("the 32-bit program: %v; want exit status 0", err)
	}
}

// TestRunPattern: the pattern matches the test's name and no other.
func TestRunPattern(t *testing.T) {
	for name, want := range map[string]string{
		"TestX":           "^TestX$",
		"TestX/sub":       "^TestX$/^sub$",
		"TestX/a.b_(1)":   `^TestX$/^a\.b_\(1\)$`,
		"TestLayout/m=32": "^TestLayout$/^m=32$",
	} {
		got := runPattern(name)
		if got != want {
			t.Errorf("runPattern(%q) = %q, want %q", name, got, want)
		}
		parts := strings.Split(got, "/")
		for i, n := range strings.Split(name, "/") {
			re := regexp.MustCompile(parts[i])
			if !re.MatchString(n) || re.MatchString(n+"2") {
				t.Errorf("%q and %q", parts[i], n)
			}
		}
	}
}

// TestChildEnv: the 32-bit run has GOARCH=386 and CGO_ENABLED=0 once
// each, and no -race in GOFLAGS.
func TestChildEnv(t *testing.T) {
	t.Setenv("GOARCH", "amd64")
	t.Setenv("CGO_ENABLED", "1")
	t.Setenv("GOFLAGS", "-race -mod=mod")
	env := childEnv()
	count := func(kv string) int {
		n := 0
		for _, e := range env {
			if e == kv {
				n++
			}
		}
		return n
	}
	if count("GOARCH=386") != 1 || count("CGO_ENABLED=0") != 1 || count("GOFLAGS=-mod=mod") != 1 ||
		slices.Contains(env, "GOARCH=amd64") || slices.Contains(env, "CGO_ENABLED=1") {
		t.Errorf("%q", env)
	}
}

// TestSkippedOnly tells a skipped run from a passing one.
func TestSkippedOnly(t *testing.T) {
	skipped := "=== RUN   TestX\n    x_test.go:5: no gcc\n--- SKIP: TestX (0.00s)\nPASS\nok  \tp\t0.01s\n"
	passed := "=== RUN   TestX\n--- PASS: TestX (0.00s)\nPASS\nok  \tp\t0.01s\n"
	if !skippedOnly(skipped) || skippedOnly(passed) {
		t.Error("skippedOnly is wrong")
	}
}

// TestChildArgs: the 32-bit run gets the build tags the test binary was
// built with and -short when the test runs short; nothing else of the
// build settings (not -race, which 386 lacks).
func TestChildArgs(t *testing.T) {
	settings := []debug.BuildSetting{{Key: "-race", Value: "true"}, {Key: "-tags", Value: "a,b"}, {Key: "GOARCH", Value: "amd64"}}
	got := childArgs("^TestX$", settings, true)
	want := []string{"test", "-count=1", "-v", "-tags=a,b", "-short", "-run", "^TestX$", "."}
	if !slices.Equal(got, want) {
		t.Errorf("childArgs = %q, want %q", got, want)
	}
	got = childArgs("^TestX$", settings[:1], false)
	want = []string{"test", "-count=1", "-v", "-run", "^TestX$", "."}
	if !slices.Equal(got, want) {
		t.Errorf("without tags or -short: %q, want %q", got, want)
	}
}

// TestChildCommand: the command runs go with childArgs in the 32-bit
// environment, and bounds the wait for its output once go is killed (a
// test binary it started may hold the pipe open).
func TestChildCommand(t *testing.T) {
	cmd := childCommand(context.Background(), "^TestX$")
	if cmd.Args[0] != "go" || cmd.Args[1] != "test" || !slices.Contains(cmd.Args, "^TestX$") {
		t.Errorf("args %q", cmd.Args)
	}
	if cmd.WaitDelay <= 0 {
		t.Errorf("WaitDelay %v: a killed go whose child holds the pipe would hang CombinedOutput", cmd.WaitDelay)
	}
	if !slices.Contains(cmd.Env, "GOARCH=386") || !slices.Contains(cmd.Env, "CGO_ENABLED=0") {
		t.Errorf("env %q", cmd.Env)
	}
}

// taggedBuild is set by tagged_test.go, built only with -tags
// layouttest_tagged.
var taggedBuild bool

// TestAlso386Inner is run by TestAlso386Settings with -tags
// layouttest_tagged -short; its 32-bit re-run must see both.
func TestAlso386Inner(t *testing.T) {
	if !taggedBuild {
		t.Skip("run by TestAlso386Settings, with -tags layouttest_tagged")
	}
	Also386(t)
	if runtime.GOARCH == "386" && !testing.Short() {
		t.Error("the 32-bit re-run is not -short")
	}
}

// TestAlso386Settings runs TestAlso386Inner with a build tag and -short
// and checks that its GOARCH=386 subtest passed: it is skipped when the
// tag does not reach the re-run, and fails when -short does not.
func TestAlso386Settings(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("Also386 re-runs only from amd64")
	}
	if why := cannot386(); why != "" {
		t.Skip(why)
	}
	ctx := context.Background()
	if dl, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl.Add(-5*time.Second))
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, "go", "test", "-count=1", "-v", "-tags", "layouttest_tagged", "-short", "-run", "^TestAlso386Inner$", ".")
	var env []string
	for _, kv := range childEnv() {
		if kv != "GOARCH=386" && kv != "CGO_ENABLED=0" {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "GOARCH=amd64")
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestAlso386Inner/GOARCH=386") {
		t.Errorf("go test -tags layouttest_tagged -short -run TestAlso386Inner: %v\n%s", err, out)
	}
}
