package testutil

import (
	"bytes"
	"errors"
	"os/exec"
	"syscall"
)

// Result is what an observer sees of a finished process: its output bytes
// and its exit status (128+N when killed by signal N, as a shell reports
// it).
type Result struct {
	Stdout string
	Stderr string
	Status int
}

// Run runs cmd to completion and returns its Result. An error means the
// process could not be started or waited for; a non-zero exit is not an
// error.
func Run(cmd *exec.Cmd) (Result, error) {
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := Result{Stdout: stdout.String(), Stderr: stderr.String()}
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			return res, err
		}
		res.Status = ExitStatus(ee.ProcessState.Sys().(syscall.WaitStatus))
	}
	return res, nil
}

// ExitStatus turns a wait status into a shell-style exit status.
func ExitStatus(ws syscall.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}
