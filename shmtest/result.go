package shmtest

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// Result is what an observer sees of a finished process: its output, its
// exit status and, if the test reads them with ReadFiles, the files it
// left. Two Results are compared with Diff or Compare (or with go-cmp's
// cmp.Diff directly: it is plain data).
type Result struct {
	// Stdout and Stderr are the bytes the process wrote ("" when the
	// caller set Cmd.Stdout or Cmd.Stderr: not captured).
	Stdout string
	Stderr string
	// Status is the exit status as a shell reports it: the exit code, or
	// 128+N when the process was killed by signal N (137 for SIGKILL, 134
	// for SIGABRT). A C program's exit(-1) is 255.
	Status int
	// Files maps a file name, as given to ReadFiles, to its content; a
	// name ReadFiles found missing has no entry.
	Files map[string][]byte
}

// Run runs cmd to completion and returns its Result, as Start followed by
// Wait: stdin reads end of file (unless the caller set Cmd.Stdin), stdout
// and stderr are captured (unless set), and a process still running after
// DefaultTimeout (or near the test binary's -timeout) is killed, with its
// process group, and fails the test. A process it started and left
// holding its output is killed too (see Start). A non-zero exit is not a
// failure: it is in Result.Status. For another timeout use
// Start(t, cmd).Wait(t, timeout).
func Run(t testing.TB, cmd *exec.Cmd) Result {
	t.Helper()
	return Start(t, cmd).Wait(t, DefaultTimeout)
}

// ReadFiles reads the named files in dir into r.Files, keyed by name (so
// that the Results of two runs in different directories compare), making
// r.Files if need be. A missing file gets no entry, so that Diff reports a
// file one run made and the other did not; any other error fails the test.
func (r *Result) ReadFiles(t testing.TB, dir string, names ...string) {
	t.Helper()
	if r.Files == nil {
		r.Files = map[string][]byte{}
	}
	for _, name := range names {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if errors.Is(err, fs.ErrNotExist) {
			delete(r.Files, name)
			continue
		}
		if err != nil {
			t.Fatalf("shmtest: ReadFiles: %v", err)
		}
		r.Files[name] = b
	}
}

// ExitStatus turns the state of a finished process into a shell-style exit
// status: the exit code, or 128+N if signal N killed it. It returns -1 for
// a nil state (a process that never ran).
func ExitStatus(ps *os.ProcessState) int {
	if ps == nil {
		return -1
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

// signalOf returns the signal that killed a process with a shell-style
// exit status (128+N), if one did.
func signalOf(status int) (sig int, ok bool) {
	if status > 128 && status < 128+65 {
		return status - 128, true
	}
	return 0, false
}

// signalName names signal n as C does: SIGKILL.
func signalName(n int) string {
	if name := unix.SignalName(syscall.Signal(n)); name != "" {
		return name
	}
	return "signal " + strconv.Itoa(n)
}
