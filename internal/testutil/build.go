package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// ModuleRoot returns the directory holding go.mod, found from this file.
func ModuleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// GoEnv returns `go env name`.
func GoEnv(name string) (string, error) {
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		return "", fmt.Errorf("go env %s: %w", name, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// BuildC compiles the C sources into the executable out with the C compiler
// Go uses (`go env CC`), the way the Makefile does.
func BuildC(out string, srcs ...string) error {
	return BuildCFlags(out, nil, srcs...)
}

// BuildCFlags is BuildC with extra compiler flags, such as -m32.
func BuildCFlags(out string, cflags []string, srcs ...string) error {
	cc, err := GoEnv("CC")
	if err != nil || cc == "" {
		cc = "cc"
	}
	args := append(strings.Fields(cc)[1:], "-O2", "-g")
	args = append(append(args, cflags...), "-o", out)
	cmd := exec.Command(strings.Fields(cc)[0], append(args, srcs...)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s %s: %v\n%s", cc, strings.Join(cflags, " "), strings.Join(srcs, " "), err, b)
	}
	return nil
}

// BuildGo builds the Go package pkg (an import path or ./dir relative to
// the module root) into out; env is added to the environment, for example
// "CGO_ENABLED=0".
func BuildGo(out, pkg string, env ...string) error {
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = ModuleRoot()
	cmd.Env = append(os.Environ(), env...)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s %s: %v\n%s", strings.Join(env, " "), pkg, err, b)
	}
	return nil
}

// MkdirShared makes a temporary directory that the unprivileged user can
// read and enter (t.TempDir's directories are private to root).
func MkdirShared(pattern string) (string, error) {
	dir, err := os.MkdirTemp("", pattern)
	if err != nil {
		return "", err
	}
	return dir, os.Chmod(dir, 0o755)
}
