package shmtest

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"
)

// Built programs live in one directory per test binary process, made on
// the first build: os.MkdirTemp in os.TempDir, mode 0755 (and the programs
// 0755) so that a process run as an unprivileged user (Unprivileged, AsUser)
// can execute them (if os.TempDir, $TMPDIR, lets that user through). It is
// shared by every test of the binary, so no test's cleanup may remove it;
// RemoveBuilds (or Main) removes it after m.Run.
//
// A test binary that has no TestMain leaves its directory behind when it
// exits. So that these do not pile up, each directory is held locked
// (flock) by its process for as long as the process lives, and the first
// build of every test binary removes the shmtest-bin-* directories in
// os.TempDir whose lock is free, that is whose process has exited.
var builds struct {
	mu    sync.Mutex
	dir   string
	lock  *os.File
	cache map[string]*build
}

// build is one program, built once.
type build struct {
	once sync.Once
	path string
	err  error
}

// compiles counts the compiler and go build runs, for the tests.
var compiles atomic.Int64

const buildDirPrefix = "shmtest-bin-"

// BuildC compiles the C source file src into a program and returns the
// program's absolute path. The compiler is the one Go uses, `go env CC`
// (split into fields: CC may carry flags), run as
//
//	$CC -O2 -g -o PROGRAM SRC CFLAGS...
//
// cflags come after the source so that -l options link; -m32 builds a
// 32-bit peer (see Require32). A compile error fails the test, showing the
// command line and the compiler's whole output.
//
// The program is named after the source (writer.c gives writer, which is
// also its /proc/PID/comm), in a directory of its own inside one directory
// per test binary that every user may enter (see RemoveBuilds), unless
// $TMPDIR keeps them out.
//
// Each program is built at most once per test binary: the key is the
// source's absolute path, a hash of its content, cflags and the compiler.
// Parallel tests asking for the same program wait for the one build.
// Headers the source includes are not part of the key; edit the .c file,
// or run the tests again, after changing one.
func BuildC(t testing.TB, src string, cflags ...string) string {
	t.Helper()
	path, err := buildC(src, cflags)
	if err != nil {
		t.Fatalf("shmtest.BuildC: %v", err)
	}
	return path
}

// BuildGo builds the Go main package pkg with `go build` and returns the
// program's absolute path. pkg is an import path or a directory relative to
// the test's working directory (the package's directory under go test),
// such as "./testdata/peer"; env is added to the environment of go build,
// for instance "CGO_ENABLED=0" or "GOARCH=386". The program is built at
// most once per test binary for the same working directory, pkg and env
// (go build itself keeps track of the sources); a build error fails the
// test with go build's output. The program is named as go build names it:
// after the package's directory for a directory (BuildGo(t, "..") from
// cmd/peer/internal gives peer), after the last element of an import path.
func BuildGo(t testing.TB, pkg string, env ...string) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatalf("shmtest.BuildGo: %v", err)
	}
	key := hashKey("go", wd, pkg, strings.Join(env, "\x00"))
	name := goProgramName(wd, pkg)
	path, err := cached(key, name, func(out string) error {
		cmd := exec.Command("go", "build", "-o", out, pkg)
		cmd.Env = append(os.Environ(), env...)
		return runBuild(cmd, strings.Join(env, " "), "building "+pkg)
	})
	if err != nil {
		t.Fatalf("shmtest.BuildGo: %v", err)
	}
	return path
}

// goProgramName names the program built from pkg in the working
// directory wd as go build would: after the package's directory for a
// directory (".", "..", "./x", "../x", "/abs/x"), after the last element
// of an import path, skipping a major version suffix (example.com/m/v2
// gives m).
func goProgramName(wd, pkg string) string {
	var name string
	if pkg == "." || pkg == ".." || strings.HasPrefix(pkg, "./") || strings.HasPrefix(pkg, "../") || filepath.IsAbs(pkg) {
		name = filepath.Base(filepath.Join(wd, pkg)) // Join cleans: ".." is a real directory's name
	} else {
		pkg = strings.TrimSuffix(pkg, "/")
		name = path.Base(pkg)
		if dir := path.Dir(pkg); dir != "." && isMajorVersion(name) {
			name = path.Base(dir)
		}
	}
	if name == "" || name == "." || name == ".." || name == "/" {
		name = "program"
	}
	return name
}

// isMajorVersion reports whether elem is a module major version suffix,
// v2 or later.
func isMajorVersion(elem string) bool {
	n, err := strconv.Atoi(strings.TrimPrefix(elem, "v"))
	return strings.HasPrefix(elem, "v") && err == nil && n >= 2 && "v"+strconv.Itoa(n) == elem
}

// buildC is BuildC without a test, for the -m32 probe.
func buildC(src string, cflags []string) (string, error) {
	abs, err := filepath.Abs(src)
	if err != nil {
		return "", err
	}
	content, err := os.ReadFile(abs)
	if err != nil {
		return "", err
	}
	cc := compiler()
	sum := sha256.Sum256(content)
	key := hashKey("c", abs, hex.EncodeToString(sum[:]), strings.Join(cflags, "\x00"), strings.Join(cc, "\x00"))
	name := strings.TrimSuffix(filepath.Base(abs), filepath.Ext(abs))
	return cached(key, name, func(out string) error {
		args := append(append(append([]string{}, cc[1:]...), "-O2", "-g", "-o", out, abs), cflags...)
		return runBuild(exec.Command(cc[0], args...), "", "compiling "+abs)
	})
}

// cached returns the program for key, running produce(path) the first
// time. A failure is remembered too, for the life of the test binary:
// every later BuildC or BuildGo of the same key fails with the same error
// without building again (the source has not changed, or the key would
// differ; a fix to a header or to go build's environment needs a new test
// run).
func cached(key, name string, produce func(out string) error) (string, error) {
	builds.mu.Lock()
	if builds.cache == nil {
		builds.cache = map[string]*build{}
	}
	b := builds.cache[key]
	if b == nil {
		b = &build{}
		builds.cache[key] = b
	}
	builds.mu.Unlock()
	b.once.Do(func() {
		dir, err := buildDir()
		if err != nil {
			b.err = err
			return
		}
		// One directory per program, so the program keeps its own name
		// (its /proc/PID/comm, and the name in messages).
		sub := filepath.Join(dir, key[:16])
		if err := os.Mkdir(sub, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			b.err = err
			return
		}
		if err := os.Chmod(sub, 0o755); err != nil {
			b.err = err
			return
		}
		out := filepath.Join(sub, name)
		if err := produce(out); err != nil {
			b.err = err
			return
		}
		// Executable by everyone whatever the umask: an unprivileged
		// user runs these.
		if err := os.Chmod(out, 0o755); err != nil {
			b.err = err
			return
		}
		b.path = out
	})
	return b.path, b.err
}

// runBuild runs a compiler command, returning its command line and output
// on failure.
func runBuild(cmd *exec.Cmd, envDesc, what string) error {
	compiles.Add(1)
	out, err := cmd.CombinedOutput()
	if err == nil {
		return nil
	}
	line := shellQuote(cmd.Args)
	if envDesc != "" {
		line = envDesc + " " + line
	}
	return fmt.Errorf("%s failed: %v\n$ %s\n%s", what, err, line, out)
}

// buildDir returns this process's directory for built programs, making it
// on first use.
func buildDir() (string, error) {
	builds.mu.Lock()
	defer builds.mu.Unlock()
	if builds.dir != "" {
		return builds.dir, nil
	}
	sweepBuildDirs()
	// Made under a name the sweep ignores, locked, then renamed: another
	// test binary sweeping at this moment never sees it unlocked.
	tmp, err := os.MkdirTemp("", ".shmtest-new-")
	if err != nil {
		return "", err
	}
	lock, err := os.Open(tmp)
	if err == nil {
		err = unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	}
	if err == nil {
		err = os.Chmod(tmp, 0o755)
	}
	dir := filepath.Join(filepath.Dir(tmp), buildDirPrefix+strings.TrimPrefix(filepath.Base(tmp), ".shmtest-new-"))
	if err == nil {
		err = os.Rename(tmp, dir)
	}
	if err != nil {
		if lock != nil {
			lock.Close()
		}
		os.RemoveAll(tmp)
		return "", fmt.Errorf("making the directory for built programs: %w", err)
	}
	builds.dir, builds.lock = dir, lock
	return dir, nil
}

// sweepBuildDirs removes the build directories of test binaries that have
// exited (their lock is free).
func sweepBuildDirs() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), buildDirPrefix+"*"))
	for _, d := range dirs {
		f, err := os.Open(d)
		if err != nil {
			continue
		}
		if unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) == nil {
			os.RemoveAll(d)
		}
		f.Close()
	}
}

// RemoveBuilds removes the directory holding the programs BuildC and
// BuildGo built in this test binary. Call it from TestMain after m.Run
// (Main does):
//
//	func TestMain(m *testing.M) {
//		code := m.Run()
//		shmtest.RemoveBuilds()
//		os.Exit(code)
//	}
//
// Without it the directory stays in os.TempDir until the next test binary
// using shmtest builds something and removes it. Programs still running
// are not affected on Linux, but no test may build or start one after
// RemoveBuilds.
func RemoveBuilds() {
	builds.mu.Lock()
	defer builds.mu.Unlock()
	if builds.dir == "" {
		return
	}
	os.RemoveAll(builds.dir)
	builds.lock.Close()
	builds.dir, builds.lock, builds.cache = "", nil, nil
}

// Main runs the tests and removes the built programs: a package's whole
// TestMain can be
//
//	func TestMain(m *testing.M) { shmtest.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	RemoveBuilds()
	os.Exit(code)
}

var cc struct {
	once   sync.Once
	fields []string
}

// compiler returns `go env CC` split into fields; without a go command it
// falls back to $CC, then cc.
func compiler() []string {
	cc.once.Do(func() {
		out, err := exec.Command("go", "env", "CC").Output()
		s := strings.TrimSpace(string(out))
		if err != nil || s == "" {
			s = os.Getenv("CC")
		}
		cc.fields = strings.Fields(s)
		if len(cc.fields) == 0 {
			cc.fields = []string{"cc"}
		}
	})
	return cc.fields
}

func hashKey(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// shellQuote joins args as a shell would need them typed.
func shellQuote(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a != "" && !strings.ContainsFunc(a, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,+@%", r))
		}) {
			q[i] = a
		} else {
			q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(q, " ")
}

// probe32 is CanRun32's answer, found once.
var probe32 struct {
	once sync.Once
	err  error
}

const probe32Source = `#include <stdio.h>
int main(void) { printf("%d\n", (int)(sizeof(void *) * 8)); return 0; }
`

// CanRun32 reports whether this machine can build and run 32-bit C programs
// (BuildC with -m32): the C compiler must link them (on Debian and Ubuntu,
// gcc-multilib and libc6-dev-i386) and the kernel must run them (x86 with
// ia32 emulation), and must be allowed to execute the programs BuildC
// makes (os.TempDir, $TMPDIR, must not be mounted noexec). When it cannot,
// reason says which part is missing. The probe runs once per test binary.
func CanRun32() (ok bool, reason string) {
	probe32.once.Do(func() { probe32.err = probe() })
	if probe32.err != nil {
		return false, probe32.err.Error()
	}
	return true, ""
}

// Require32 skips the test, saying why, unless CanRun32.
func Require32(t testing.TB) {
	t.Helper()
	if ok, reason := CanRun32(); !ok {
		t.Skipf("shmtest.Require32: no 32-bit C peer on this machine: %s", reason)
	}
}

func probe() error {
	dir, err := buildDir()
	if err != nil {
		return err
	}
	src := filepath.Join(dir, "probe32.c")
	if err := os.WriteFile(src, []byte(probe32Source), 0o644); err != nil {
		return err
	}
	bin, err := buildC(src, []string{"-m32"})
	if err != nil {
		return fmt.Errorf("the C compiler cannot build -m32 programs (on Debian or Ubuntu install gcc-multilib and libc6-dev-i386): %w", err)
	}
	return run32(bin)
}

// run32 runs the -m32 probe program bin, which prints its pointer size,
// and says why it could not.
func run32(bin string) error {
	out, err := exec.Command(bin).Output()
	switch {
	case errors.Is(err, unix.ENOEXEC):
		return fmt.Errorf("the kernel does not run 32-bit x86 programs (ia32 emulation is off: CONFIG_IA32_EMULATION, or the ia32_emulation=0 boot option): %w", err)
	case errors.Is(err, unix.EACCES):
		return fmt.Errorf("the kernel refused to execute the built program %s (EACCES: is %s, the directory of built programs ($TMPDIR), on a filesystem mounted noexec?): %w",
			bin, filepath.Dir(filepath.Dir(bin)), err)
	case err != nil:
		return fmt.Errorf("running a -m32 program: %w", err)
	}
	if got := strings.TrimSpace(string(out)); got != "32" {
		return fmt.Errorf("a -m32 program reports %s-bit pointers", got)
	}
	return nil
}
