package shmtest

import (
	"errors"
	"os/exec"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// setGroup makes cmd's process the leader of a process group of its own,
// unless the caller chose its group, and reports whether the process's
// group will be its own (its pgid its pid), for killing. The caller's
// SysProcAttr is copied, not changed: it may be shared by other commands.
func setGroup(cmd *exec.Cmd) (own bool) {
	var attr syscall.SysProcAttr
	if cmd.SysProcAttr != nil {
		attr = *cmd.SysProcAttr
	}
	switch {
	case attr.Setsid:
		// A session leader leads a group of its own.
		return true
	case attr.Setpgid || attr.Foreground:
		// The caller's choice: a group of its own only with Pgid 0.
		return attr.Pgid == 0
	}
	attr.Setpgid, attr.Pgid = true, 0
	cmd.SysProcAttr = &attr
	return true
}

// watchDeath closes p.died when the process pid has exited, without
// reaping it (WNOWAIT): cmd.Wait does that, and returns only once the
// process's output has closed, which a process it started may delay.
func (p *Process) watchDeath(pid int) {
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if !errors.Is(err, unix.EINTR) {
			// Exited (nil), or already reaped by cmd.Wait (ECHILD).
			break
		}
	}
	p.markDied()
}

func (p *Process) markDied() { p.dieOnce.Do(func() { close(p.died) }) }

// killGroup sends SIGKILL to the process's group, if it has one of its
// own, and reports whether there was a process in it to kill.
func (p *Process) killGroup() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pgid == 0 {
		return false
	}
	return unix.Kill(-p.pgid, unix.SIGKILL) == nil
}

// forgetEmptyGroup stops p from signalling its group once the group is
// empty (the process has been reaped, and nothing it started is left in
// it): the number may then be reused for another group.
func (p *Process) forgetEmptyGroup() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pgid != 0 && errors.Is(unix.Kill(-p.pgid, 0), unix.ESRCH) {
		p.pgid = 0
	}
}

// kill kills the process's group and the process itself (which may have
// left its group).
func (p *Process) kill() {
	p.killGroup()
	p.Cmd.Process.Kill() // an error only says it has exited already
}

// logNote logs, once, what became of processes it left holding its output.
func (p *Process) logNote(t testing.TB) {
	t.Helper()
	p.mu.Lock()
	note := p.note
	if p.logged {
		note = ""
	}
	p.logged = true
	p.mu.Unlock()
	if note != "" {
		t.Logf("shmtest: %s", note)
	}
}
