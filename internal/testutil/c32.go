package testutil

import (
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
)

var c32 struct {
	once sync.Once
	err  error
}

// C32 reports whether this machine builds and runs 32-bit C programs: the C
// compiler links `-m32` (Debian's gcc-multilib and libc6-dev-i386) and the
// kernel executes i386 binaries (ia32 emulation). The error says which of
// the two is missing; tests that need a 32-bit C peer skip with it.
func C32() error {
	c32.once.Do(func() { c32.err = probeC32() })
	return c32.err
}

func probeC32() error {
	dir, err := os.MkdirTemp("", "shmmap-c32-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	src := filepath.Join(dir, "p.c")
	if err := os.WriteFile(src, []byte("#include <stdio.h>\nint main(void) { printf(\"%zu\\n\", sizeof(void *)); return 0; }\n"), 0o600); err != nil {
		return err
	}
	out := filepath.Join(dir, "p")
	if err := BuildCFlags(out, []string{"-m32"}, src); err != nil {
		return fmt.Errorf("the C compiler cannot build 32-bit programs (install gcc-multilib and libc6-dev-i386): %v", err)
	}
	b, err := exec.Command(out).Output()
	if err != nil {
		return fmt.Errorf("this kernel does not run 32-bit binaries (ia32 emulation off): %v", err)
	}
	if strings.TrimSpace(string(b)) != "4" {
		return fmt.Errorf("a -m32 program has %s-byte pointers, want 4", strings.TrimSpace(string(b)))
	}
	return nil
}

// NativeCFlags returns the C compiler flags that build C programs for this
// test binary's ABI: -m32 in a 386 binary (when the machine can build and
// run them, see C32), nothing otherwise. The second result is false when
// a 386 binary has to make do with 64-bit C programs.
func NativeCFlags() ([]string, bool) {
	if runtime.GOARCH != "386" {
		return nil, true
	}
	if C32() != nil {
		return nil, false
	}
	return []string{"-m32"}, true
}

// ELFClass returns the ELF class of the executable at path: elf.ELFCLASS32
// or elf.ELFCLASS64.
func ELFClass(path string) (elf.Class, error) {
	f, err := elf.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return f.Class, nil
}
