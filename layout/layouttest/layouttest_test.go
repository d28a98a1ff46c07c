package layouttest

import (
	"bytes"
	"debug/elf"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
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
	if runtime.GOOS == "linux" && (runtime.GOARCH == "amd64" || runtime.GOARCH == "386") {
		if err := run386(); err != nil {
			t.Logf("this machine does not run it (ia32 emulation off?): %v", err)
		}
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
