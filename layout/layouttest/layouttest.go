// Package layouttest checks C struct layouts from tests on both x86 ABIs
// in one go test run: a test that calls Also386 first is re-run as a
// 32-bit (GOARCH=386) binary, where the machine allows, and CFlags gives
// the compiler flags for the binary running the test.
//
//	func TestStatsLayout(t *testing.T) {
//		layouttest.Also386(t)           // and again as GOARCH=386, where possible
//		cflags := layouttest.CFlags(t) // -m64 here, -m32 in the 386 run
//		if err := layout.Check(Stats{}, "stats.h", "struct stats", cflags...); err != nil {
//			t.Error(err)
//		}
//	}
//
// On an amd64 machine, `go test` then checks Stats against the 64-bit C
// layout in its own binary, and runs TestStatsLayout again with
// GOARCH=386 CGO_ENABLED=0 go test -run '^TestStatsLayout$' as the
// subtest GOARCH=386, which checks the 32-bit Go layout against C compiled
// with -m32. A difference in either fails the test. Where the 32-bit run
// is impossible — the kernel does not execute 32-bit programs (no ia32
// emulation), the C compiler cannot compile -m32 (gcc-multilib missing),
// or the go tool is not on PATH — the subtest is skipped and says why.
package layouttest

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shmmap/shmmap/layout"
)

// Also386 re-runs the calling test as a 32-bit binary, as the subtest
// GOARCH=386, when the test binary is amd64: it runs `go test -count=1
// -run PATTERN .` with GOARCH=386 and CGO_ENABLED=0 in the test's
// package directory, PATTERN matching exactly this test, with the build
// tags the test binary was built with (-tags) and -short if the test runs
// short. The subtest fails if that run fails, and is skipped, saying why,
// if the 32-bit run is impossible here or the test skipped itself there.
// In a 386 binary, and on other architectures, Also386 does nothing, so
// the re-run test does not re-run itself.
func Also386(t *testing.T) {
	t.Helper()
	if runtime.GOARCH != "amd64" {
		return
	}
	pattern := runPattern(t.Name())
	t.Run("GOARCH=386", func(t *testing.T) {
		if why := cannot386(); why != "" {
			t.Skip("the 32-bit layout is not checked here: " + why)
		}
		ctx := context.Background()
		if dl, ok := t.Deadline(); ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(ctx, dl.Add(-5*time.Second))
			defer cancel()
		}
		cmd := childCommand(ctx, pattern)
		out, err := cmd.CombinedOutput()
		text := string(out)
		what := "GOARCH=386 CGO_ENABLED=0 " + strings.Join(cmd.Args, " ")
		switch {
		case err != nil:
			t.Errorf("%s: %v\n%s", what, err, text)
		case strings.Contains(text, "no tests to run"):
			t.Errorf("%s ran no test:\n%s", what, text)
		case skippedOnly(text):
			t.Skipf("%s skipped:\n%s", what, text)
		default:
			t.Logf("%s:\n%s", what, text)
		}
	})
}

// childCommand returns the command of the 32-bit run of the tests
// matching pattern: go test with childArgs, in childEnv. When ctx ends,
// go is killed, and the wait for its output is bounded: a test binary go
// started may outlive it and hold the pipe open.
func childCommand(ctx context.Context, pattern string) *exec.Cmd {
	var settings []debug.BuildSetting
	if bi, ok := debug.ReadBuildInfo(); ok {
		settings = bi.Settings
	}
	cmd := exec.CommandContext(ctx, "go", childArgs(pattern, settings, testing.Short())...)
	cmd.Env = childEnv()
	cmd.WaitDelay = 10 * time.Second
	return cmd
}

// childArgs returns the arguments of go for the 32-bit run: go test of
// the package in the current directory, run verbosely and uncached, for
// the tests matching pattern, with the build tags of the test binary
// (its build settings) and -short if short.
func childArgs(pattern string, settings []debug.BuildSetting, short bool) []string {
	args := []string{"test", "-count=1", "-v"}
	for _, s := range settings {
		if s.Key == "-tags" && s.Value != "" {
			args = append(args, "-tags="+s.Value)
		}
	}
	if short {
		args = append(args, "-short")
	}
	return append(args, "-run", pattern, ".")
}

// runPattern returns the -run pattern matching exactly the test named
// name ("TestX/sub" gives ^TestX$/^sub$).
func runPattern(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}

// skippedOnly reports whether go test -v output shows the test skipped
// and nothing passing.
func skippedOnly(out string) bool {
	return strings.Contains(out, "--- SKIP: ") && !strings.Contains(out, "--- PASS: ")
}

// childEnv is the environment of the 32-bit run: GOARCH=386, no cgo, and
// GOFLAGS without -race (which 386 does not have).
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		switch {
		case strings.HasPrefix(kv, "GOARCH="), strings.HasPrefix(kv, "CGO_ENABLED="):
			continue
		case strings.HasPrefix(kv, "GOFLAGS="):
			var keep []string
			for _, f := range strings.Fields(strings.TrimPrefix(kv, "GOFLAGS=")) {
				if f != "-race" && f != "--race" && !strings.HasPrefix(f, "-race=") {
					keep = append(keep, f)
				}
			}
			kv = "GOFLAGS=" + strings.Join(keep, " ")
		}
		env = append(env, kv)
	}
	return append(env, "GOARCH=386", "CGO_ENABLED=0")
}

// cannot386 says why a 32-bit re-run is impossible here, or returns "".
var cannot386 = sync.OnceValue(func() string {
	if runtime.GOOS != "linux" {
		return "only Linux is supported, this is " + runtime.GOOS
	}
	if _, err := exec.LookPath("go"); err != nil {
		return "the go tool is not on PATH"
	}
	if err := run386(); errors.Is(err, syscall.ENOEXEC) {
		return "this kernel does not run 32-bit x86 programs (no ia32 emulation): " + err.Error()
	} else if err != nil {
		return "a 32-bit x86 program could not be run: " + err.Error()
	}
	if err := cCompiles([]string{"-m32"}); err != nil {
		return "the C compiler cannot compile with -m32 (on Debian and Ubuntu, install gcc-multilib): " + err.Error()
	}
	return ""
})

// CFlags returns the C compiler flags for the ABI of the running test
// binary (layout.ABIFlags: -m32 in a GOARCH=386 binary), and skips the
// test, saying why, if the C compiler cannot compile with them (a 386
// binary where gcc-multilib is not installed).
func CFlags(t *testing.T) []string {
	t.Helper()
	flags := layout.ABIFlags()
	if err := abiCompiles(); err != nil {
		t.Skipf("the C compiler cannot compile for this binary's ABI (GOARCH=%s, flags %q; for -m32 on Debian and Ubuntu, install gcc-multilib): %v", runtime.GOARCH, flags, err)
	}
	return flags
}

// abiCompiles is cCompiles(layout.ABIFlags()), once.
var abiCompiles = sync.OnceValue(func() error { return cCompiles(layout.ABIFlags()) })

// cCompiles measures a small struct from a header that includes the C
// library's stddef.h and stdint.h with cflags: whether the compiler and
// its headers for that target are installed.
func cCompiles(cflags []string) error {
	dir, err := os.MkdirTemp("", "layouttest-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	h := filepath.Join(dir, "probe.h")
	src := "#include <stddef.h>\n#include <stdint.h>\nstruct layouttest_probe { int64_t a; size_t b; };\n"
	if err := os.WriteFile(h, []byte(src), 0o600); err != nil {
		return err
	}
	_, err = layout.Measure(h, "struct layouttest_probe", cflags...)
	return err
}

// run386 executes a minimal 32-bit x86 Linux program, which exits 0.
func run386() error {
	dir, err := os.MkdirTemp("", "layouttest-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	exe := filepath.Join(dir, "exit0")
	if err := os.WriteFile(exe, elf386Exit0(), 0o700); err != nil {
		return err
	}
	for range 50 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		var stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, exe)
		cmd.Stderr = &stderr
		err = cmd.Run()
		cancel()
		// ETXTBSY: another goroutine forked while the file was open for
		// writing, and its child has not exec'd yet.
		if err == nil || !errors.Is(err, syscall.ETXTBSY) {
			return err
		}
	}
	return err
}
