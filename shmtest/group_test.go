package shmtest_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shmmap/shmmap/shmtest"
)

// procStat reads the state and the process group of pid from
// /proc/PID/stat; ok is false if there is no such process.
func procStat(pid int) (state byte, pgrp, sid int, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, 0, false
	}
	// pid (comm) state ppid pgrp session ...: comm may hold anything, up
	// to the last ')'.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	pgrp, _ = strconv.Atoi(f[2])
	sid, _ = strconv.Atoi(f[3])
	return f[0][0], pgrp, sid, true
}

// dead reports whether pid has exited: gone, or a zombie waiting for its
// parent (init, for an orphan) to reap it.
func dead(pid int) bool {
	state, _, _, ok := procStat(pid)
	return !ok || state == 'Z' || state == 'X'
}

// waitDead waits until pid has exited, failing the test if it is still
// running after a few seconds (SIGKILL takes effect well before).
func waitDead(t *testing.T, pid int, what string) {
	t.Helper()
	shmtest.WaitFor(t, what+" (pid "+strconv.Itoa(pid)+") to be killed", 5*time.Second, func() bool { return dead(pid) })
}

// leftover parses the pid a shell script printed after prefix, and makes
// sure that process, a sleep, is gone when the test ends whatever happens.
func leftover(t *testing.T, line, prefix string) int {
	t.Helper()
	pid, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, prefix)))
	if err != nil {
		t.Fatalf("no pid in %q: %v", line, err)
	}
	t.Cleanup(func() {
		if cmd, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil && bytes.HasPrefix(cmd, []byte("sleep\x00")) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	return pid
}

// TestCleanupKillsGroup: the cleanup kills what the process started, a
// shell's background job, not only the process; and it does not stall.
func TestCleanupKillsGroup(t *testing.T) {
	ns := shmtest.Isolate(t) // an orphan left running would keep the namespace alive
	var sh, bg int
	start := time.Now()
	ft := fake(t, ns, func(ft *fakeTB) {
		p := shmtest.Start(ft, exec.Command("sh", "-c", `sleep 77 & echo ready $!; exec sleep 100`))
		bg = leftover(t, p.WaitLine(ft, "ready", 10*time.Second), "ready")
		sh = p.Pid()
		// The script leads a group of its own, which its job joined.
		if _, pgrp, _, _ := procStat(sh); pgrp != sh {
			ft.Errorf("the process is in group %d, not one of its own (%d)", pgrp, sh)
		}
		if _, pgrp, _, _ := procStat(bg); pgrp != sh {
			ft.Errorf("its background job is in group %d, not %d", pgrp, sh)
		}
	}) // the cleanups run here
	mustPass(t, ft)
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("the test and its cleanup took %v", d)
	}
	if !dead(sh) {
		t.Errorf("the process %d is still running after the cleanup", sh)
	}
	waitDead(t, bg, "the background sleep 77")
}

// TestRunLeftoverJob: Run of a script that leaves a job holding its stdout
// returns soon after the script exits, kills the job and says so.
func TestRunLeftoverJob(t *testing.T) {
	start := time.Now()
	var res shmtest.Result
	ft := fake(t, nil, func(ft *fakeTB) {
		res = shmtest.Run(ft, exec.Command("sh", "-c", `sleep 30 & echo $!`))
	})
	d := time.Since(start)
	mustPass(t, ft)
	bg := leftover(t, res.Stdout, "")
	if res.Status != 0 {
		t.Errorf("status %d, want 0", res.Status)
	}
	if d > 2*time.Second {
		t.Errorf("Run took %v: it waited for the job holding its stdout", d)
	}
	waitDead(t, bg, "the background sleep 30")
	for _, want := range []string{"exited with status 0, but a process it started still held its stdout or stderr", "killed its process group"} {
		if !strings.Contains(ft.logged(), want) {
			t.Errorf("the log does not say %q: %q", want, ft.logged())
		}
	}
}

// TestWaitHeldOutput: the process exits at once but its job holds its
// stdout; Wait, with a timeout shorter than the job, neither blames the
// process nor fails, and returns the process's own status and output.
func TestWaitHeldOutput(t *testing.T) {
	var res shmtest.Result
	var p *shmtest.Process
	start := time.Now()
	ft := fake(t, nil, func(ft *fakeTB) {
		p = shmtest.Start(ft, exec.Command("sh", "-c", `sleep 13 & echo bye $!; exit 5`))
		res = p.Wait(ft, 200*time.Millisecond)
	})
	d := time.Since(start)
	mustPass(t, ft)
	bg := leftover(t, res.Stdout, "bye")
	if res.Status != 5 || !strings.HasPrefix(res.Stdout, "bye ") {
		t.Errorf("Wait returned %+v, want status 5 and bye", res)
	}
	if d > 2*time.Second {
		t.Errorf("Wait took %v", d)
	}
	if want := fmt.Sprintf("sh (pid %d) exited with status 5, but a process it started still held its stdout or stderr", p.Pid()); !strings.Contains(ft.logged(), want) {
		t.Errorf("the log does not say %q: %q", want, ft.logged())
	}
	waitDead(t, bg, "the background sleep 13")
}

// TestWaitHolderOutsideGroup: a job that left the group (setsid) and holds
// the output is not killed; its pipes are closed a little after the
// process exited, and Wait says so.
func TestWaitHolderOutsideGroup(t *testing.T) {
	if _, err := exec.LookPath("setsid"); err != nil {
		t.Skip("no setsid command")
	}
	var res shmtest.Result
	start := time.Now()
	ft := fake(t, nil, func(ft *fakeTB) {
		res = shmtest.Run(ft, exec.Command("sh", "-c", `setsid sleep 13 & echo $!; exit 3`))
	})
	d := time.Since(start)
	mustPass(t, ft)
	bg := leftover(t, res.Stdout, "")
	if d > 4*time.Second {
		t.Errorf("Run took %v", d)
	}
	if res.Status != 3 {
		t.Errorf("status %d, want 3", res.Status)
	}
	if !strings.Contains(ft.logged(), "exited with status 3, but a process it started still holds its stdout or stderr, and is not in its process group, so it was not killed; stopped reading them") {
		t.Errorf("the log does not say the holder was left: %q", ft.logged())
	}
	if _, _, sid, _ := procStat(bg); sid != bg || dead(bg) {
		t.Errorf("the setsid job: dead %v, session %d (want its own, %d)", dead(bg), sid, bg)
	}
}

// TestKillKillsGroup: Kill, and Wait at its timeout, kill the group.
func TestKillKillsGroup(t *testing.T) {
	p := shmtest.Start(t, exec.Command("sh", "-c", `sleep 77 & echo ready $!; exec sleep 100`))
	bg := leftover(t, p.WaitLine(t, "ready", 10*time.Second), "ready")
	if res := p.Kill(); res.Status != 137 {
		t.Errorf("status %d after Kill, want 137", res.Status)
	}
	waitDead(t, bg, "the background sleep 77 after Kill")

	var sh int
	ft := fake(t, nil, func(ft *fakeTB) {
		p := shmtest.Start(ft, exec.Command("sh", "-c", `sleep 78 & echo ready $!; exec sleep 100`))
		bg = leftover(t, p.WaitLine(ft, "ready", 10*time.Second), "ready")
		sh = p.Pid()
		p.Wait(ft, 100*time.Millisecond)
	})
	mustFail(t, ft, "did not exit within 100ms; killed it")
	if !dead(sh) {
		t.Errorf("the process is still running after Wait's timeout")
	}
	waitDead(t, bg, "the background sleep 78 after Wait's timeout")
}

// TestStartCallerGroup: a SysProcAttr the caller set is kept (and not
// changed), a group the caller chose is left alone and not killed, and a
// session the caller asked for is the process's group.
func TestStartCallerGroup(t *testing.T) {
	leader := shmtest.Start(t, exec.Command("sleep", "100"))

	// Another process joins leader's group; killing it spares the leader.
	shared := &syscall.SysProcAttr{Setpgid: true, Pgid: leader.Pid()}
	cmd := exec.Command("sleep", "100")
	cmd.SysProcAttr = shared
	member := shmtest.Start(t, cmd)
	if _, pgrp, _, _ := procStat(member.Pid()); pgrp != leader.Pid() {
		t.Errorf("the member is in group %d, want the caller's %d", pgrp, leader.Pid())
	}
	member.Kill()
	if dead(leader.Pid()) {
		t.Errorf("killing the member killed the group the caller put it in")
	}

	// A SysProcAttr without a group gets Setpgid on a copy.
	attr := &syscall.SysProcAttr{}
	cmd = exec.Command("sleep", "100")
	cmd.SysProcAttr = attr
	p := shmtest.Start(t, cmd)
	if attr.Setpgid || cmd.SysProcAttr == attr || !cmd.SysProcAttr.Setpgid {
		t.Errorf("the caller's SysProcAttr: changed %v, replaced %v, Setpgid %v", attr.Setpgid, cmd.SysProcAttr != attr, cmd.SysProcAttr.Setpgid)
	}
	if _, pgrp, _, _ := procStat(p.Pid()); pgrp != p.Pid() {
		t.Errorf("group %d, want its own", pgrp)
	}

	// Setsid: a session, and so a group, of its own; Setpgid is not added.
	cmd = exec.Command("sh", "-c", `sleep 79 & echo ready $!; exec sleep 100`)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	p = shmtest.Start(t, cmd)
	bg := leftover(t, p.WaitLine(t, "ready", 10*time.Second), "ready")
	if _, pgrp, sid, _ := procStat(p.Pid()); pgrp != p.Pid() || sid != p.Pid() || cmd.SysProcAttr.Setpgid {
		t.Errorf("with Setsid: group %d, session %d, Setpgid %v; want %d, %d, false", pgrp, sid, cmd.SysProcAttr.Setpgid, p.Pid(), p.Pid())
	}
	p.Kill()
	waitDead(t, bg, "the Setsid script's job")
}

// TestStartAsUserGroup: AsUser's credentials and Start's group combine.
func TestStartAsUserGroup(t *testing.T) {
	shmtest.RequireRoot(t)
	cmd := shmtest.Unprivileged(exec.Command("sleep", "100"))
	cmd.Dir = "/"
	p := shmtest.Start(t, cmd)
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.Pid()))
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("\nUid:\t%d\t%d", shmtest.Nobody, shmtest.Nobody); !strings.Contains(string(status), want) {
		t.Errorf("the process does not run as nobody:\n%s", status)
	}
	if _, pgrp, _, _ := procStat(p.Pid()); pgrp != p.Pid() {
		t.Errorf("group %d, want its own", pgrp)
	}
	if res := p.Kill(); res.Status != 137 {
		t.Errorf("status %d after Kill", res.Status)
	}
}
