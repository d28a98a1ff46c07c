package shmtest

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"
)

// holdGrace is how long, after the process has exited, Start's machinery
// waits for its stdout and stderr to close before concluding that a
// process it started holds them, and killing its process group.
const holdGrace = 200 * time.Millisecond

// waitDelay is the Cmd.WaitDelay Start sets: how long after the process
// has exited os/exec waits for its stdout and stderr to close before it
// closes them itself (a process outside the group holds them).
const waitDelay = holdGrace + time.Second

// Process is a running program started by Start. Its methods may be called
// from any goroutine, but only the test's goroutine may call the ones that
// take a testing.TB and can fail the test (as with t.Fatal).
type Process struct {
	// Cmd is the command; Cmd.Process is the running process. Use it for
	// what Process does not offer, such as Cmd.Process.Signal.
	Cmd *exec.Cmd

	name   string
	stdin  *os.File      // the pipe's write end; nil when the caller set Cmd.Stdin
	stdout *lineBuffer   // nil when the caller set Cmd.Stdout
	stderr *lineBuffer   // nil when the caller set Cmd.Stderr
	died   chan struct{} // closed once the process has exited (its output may still be coming)
	exited chan struct{} // closed once reaped and its output read

	dieOnce     sync.Once
	stdinClosed atomic.Bool

	mu     sync.Mutex
	pgid   int // the process group to kill: the process's own, or 0
	next   int // the first stdout line WaitLine has not returned
	res    Result
	note   string // what became of processes it left holding its output
	logged bool   // note has been logged
}

// Start starts cmd and returns the running Process. Unless the caller set
// them:
//
//   - stdout is captured line by line, for WaitLine and the Result;
//   - stderr is captured, for the Result and failure messages;
//   - stdin is a pipe the test writes with Send and closes with
//     CloseStdin (or Wait); a program reading it sees end of file only
//     then.
//
// A start failure fails the test.
//
// The process is the leader of a process group of its own
// (SysProcAttr.Setpgid, added to a SysProcAttr the caller or AsUser set),
// which its children, such as a shell script's background jobs, join. Start
// registers a cleanup that, whatever happens, kills the whole group
// (SIGKILL) and the process if it is still running, closes its stdin and
// reaps it; if the test has failed, the cleanup logs the process's stderr.
// Kill, and Wait when it times out, kill the group too. A descendant that
// leaves the group (setsid, as daemons do) is not killed. If the caller set
// SysProcAttr.Setsid, the process leads a session and a group of its own
// all the same; if the caller set SysProcAttr.Setpgid (or Foreground)
// with a Pgid, Start leaves that alone and kills only the process itself.
//
// When the process exits, the Result is ready once its stdout and stderr
// close. A process it started that still holds them 200ms after it exited
// (a background job of a shell script, a forked child) is taken to be
// left over: the process group, everything left in it, is killed then,
// and Wait (or the cleanup) logs that it was. One that is not in the group
// (so not killed) is given a second more, then the pipes are closed
// (Cmd.WaitDelay, unless the caller set that). A process that must outlive
// its parent during the test should leave the group or close its stdout
// and stderr.
//
// The process is forked from the calling goroutine's thread: started after
// Isolate, from the test's goroutine, it runs in the test's IPC namespace.
func Start(t testing.TB, cmd *exec.Cmd) *Process {
	t.Helper()
	if cmd == nil || cmd.Path == "" {
		t.Fatalf("shmtest.Start: no command")
	}
	if cmd.Process != nil {
		t.Fatalf("shmtest.Start: %s already started", cmd.Path)
	}
	p := &Process{Cmd: cmd, name: filepath.Base(cmd.Path), died: make(chan struct{}), exited: make(chan struct{})}
	if cmd.Stdout == nil {
		p.stdout = newLineBuffer()
		cmd.Stdout = p.stdout
	}
	if cmd.Stderr == nil {
		p.stderr = newLineBuffer()
		cmd.Stderr = p.stderr
	}
	var stdinRead *os.File
	if cmd.Stdin == nil {
		// A pipe of our own rather than cmd.StdinPipe: an *os.File takes a
		// write deadline, so that Send cannot block for ever.
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatalf("shmtest.Start: %s: stdin: %v", p.name, err)
		}
		cmd.Stdin, p.stdin, stdinRead = r, w, r
	}
	if cmd.WaitDelay == 0 {
		cmd.WaitDelay = waitDelay
	}
	ownGroup := setGroup(cmd)
	err := cmd.Start()
	if stdinRead != nil {
		stdinRead.Close() // the child has its copy
	}
	if err != nil {
		if p.stdin != nil {
			p.stdin.Close()
		}
		t.Fatalf("shmtest.Start: %s: %v", shellQuote(cmd.Args), err)
	}
	pid := cmd.Process.Pid
	if ownGroup {
		p.pgid = pid
	}
	p.name = fmt.Sprintf("%s (pid %d)", p.name, pid)
	go p.watchDeath(pid)
	go p.reap()
	t.Cleanup(func() {
		t.Helper() // report the line that called Start
		p.kill()
		p.CloseStdin()
		<-p.exited
		p.logNote(t)
		if t.Failed() && p.stderr != nil {
			if s := p.stderr.String(); s != "" {
				t.Logf("stderr of %s:\n%s", p.name, tail(s))
			}
		}
	})
	return p
}

// reap waits for the process, through cmd.Wait, which returns once the
// output has been copied to the buffers, so everything the process wrote
// is there before exited is closed. If the output is still open holdGrace
// after the process exited, what holds it is killed with the group.
func (p *Process) reap() {
	waited := make(chan error, 1)
	go func() { waited <- p.Cmd.Wait() }()
	var err error
	held, killed := false, false
	var diedAt time.Time
	select {
	case err = <-waited:
	case <-p.died:
		diedAt = time.Now()
		grace := time.NewTimer(holdGrace)
		select {
		case err = <-waited:
		case <-grace.C:
			held = true
			killed = p.killGroup()
			err = <-waited
		}
		grace.Stop()
	}
	p.markDied()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) && !errors.Is(err, exec.ErrWaitDelay) && p.stderr != nil {
		// An I/O error on the pipes: say so where it will be read.
		fmt.Fprintf(p.stderr, "\nshmtest: waiting for the process: %v\n", err)
	}
	status := ExitStatus(p.Cmd.ProcessState)
	// os/exec closed the pipes itself (it says so only after a
	// successful exit; otherwise the time tells: its WaitDelay began when
	// it saw the exit, about when p.died was closed).
	gaveUp := errors.Is(err, exec.ErrWaitDelay) || held && time.Since(diedAt) >= p.Cmd.WaitDelay-50*time.Millisecond
	var note string
	switch {
	case gaveUp:
		note = fmt.Sprintf("%s %s, but a process it started still holds its stdout or stderr, "+
			"and is not in its process group, so it was not killed; stopped reading them %v after the exit",
			p.name, describeStatus(status), p.Cmd.WaitDelay)
	case killed:
		note = fmt.Sprintf("%s %s, but a process it started still held its stdout or stderr %v later: "+
			"killed its process group (pgid %d)", p.name, describeStatus(status), holdGrace, p.Cmd.Process.Pid)
	}
	res := Result{Status: status}
	if p.stdout != nil {
		p.stdout.close()
		res.Stdout = p.stdout.String()
	}
	if p.stderr != nil {
		p.stderr.close()
		res.Stderr = p.stderr.String()
	}
	p.forgetEmptyGroup()
	p.mu.Lock()
	p.res, p.note = res, note
	p.mu.Unlock()
	close(p.exited)
}

// Pid returns the process id.
func (p *Process) Pid() int { return p.Cmd.Process.Pid }

// Exited returns a channel that is closed once the process has exited and
// been reaped, and everything it wrote to the captured stdout and stderr
// has been read: when they close, or, if a process it started holds them,
// once that has been dealt with (see Start), a little over a second after
// the exit at most.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Stdout returns the captured stdout so far.
func (p *Process) Stdout() string {
	if p.stdout == nil {
		return ""
	}
	return p.stdout.String()
}

// Stderr returns the captured stderr so far.
func (p *Process) Stderr() string {
	if p.stderr == nil {
		return ""
	}
	return p.stderr.String()
}

// WaitLine waits until the process prints a line containing substr on
// stdout and returns that line, without its newline. Lines are taken in
// order: each call looks only at the lines after the one the previous call
// returned, so WaitLine(t, "", timeout) returns the next line.
//
// It fails the test at once, showing the output so far, if the process
// exits without printing such a line, and after timeout (DefaultTimeout if
// zero or less) if it is still running without having printed one. It
// reads the lines as they arrive; there is no polling.
//
// A C program's stdout is fully buffered when it is a pipe, as here: a
// peer that announces a step must fflush(stdout) after the line, or call
// setvbuf(stdout, NULL, _IOLBF, 0) once, or its line arrives only when it
// exits.
func (p *Process) WaitLine(t testing.TB, substr string, timeout time.Duration) string {
	t.Helper()
	return p.waitLine(t, "a line containing "+quoteShort(substr), func(s string) bool { return strings.Contains(s, substr) }, timeout)
}

// WaitLineFunc is WaitLine for the first line for which match returns
// true.
func (p *Process) WaitLineFunc(t testing.TB, match func(line string) bool, timeout time.Duration) string {
	t.Helper()
	return p.waitLine(t, "a matching line", match, timeout)
}

func (p *Process) waitLine(t testing.TB, what string, match func(string) bool, timeout time.Duration) string {
	t.Helper()
	if p.stdout == nil {
		t.Fatalf("shmtest: WaitLine on %s: its stdout was set by the caller, not captured", p.name)
	}
	lim := waitLimit(t, timeout)
	deadline := lim.timer()
	defer deadline.Stop()
	for {
		changed := p.stdout.changed()
		if line, ok := p.scan(match); ok {
			return line
		}
		select {
		case <-changed:
		case <-p.exited:
			// Everything it printed is in the buffer now.
			if line, ok := p.scan(match); ok {
				return line
			}
			t.Fatalf("shmtest: %s %s before printing %s\n%s", p.name, p.exitDesc(), what, p.outputs())
		case <-deadline.C:
			if p.hasDied() {
				// It has exited, and what it started holds its stdout
				// a little longer: the end is near.
				deadline.Reset(waitDelay + time.Second)
				continue
			}
			t.Fatalf("shmtest: %s printed no %s within %v (it is still running)\n%s", p.name, what, lim, p.outputs())
		}
	}
}

// scan looks for a matching line among those not yet returned.
func (p *Process) scan(match func(string) bool) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	lines := p.stdout.linesFrom(p.next)
	for i, line := range lines {
		if match(line) {
			p.next += i + 1
			return line, true
		}
	}
	p.next += len(lines)
	return "", false
}

// Send writes line, and a newline if it has none, to the process's stdin:
// the way to drive a peer that takes one command per line. It fails the
// test if the process no longer reads its stdin (it exited), and if the
// write does not complete within DefaultTimeout (the process does not read
// its stdin, and the pipe is full); SendTimeout takes another timeout.
func (p *Process) Send(t testing.TB, line string) {
	t.Helper()
	p.SendTimeout(t, line, DefaultTimeout)
}

// SendTimeout is Send with a timeout for the write (DefaultTimeout if zero
// or less): a pipe holds 64 KiB, and a process that reads no more of it
// blocks the writer.
func (p *Process) SendTimeout(t testing.TB, line string, timeout time.Duration) {
	t.Helper()
	if p.stdin == nil {
		t.Fatalf("shmtest: Send to %s: its stdin was set by the caller, not a pipe", p.name)
	}
	if !strings.HasSuffix(line, "\n") {
		line += "\n"
	}
	lim := waitLimit(t, timeout)
	quoted := quoteShort(strings.TrimSuffix(line, "\n"))
	if p.stdinClosed.Load() {
		t.Fatalf("shmtest: Send %s to %s: its stdin has been closed (CloseStdin or Wait)", quoted, p.name)
	}
	err := p.stdin.SetWriteDeadline(time.Now().Add(lim.d))
	if err == nil {
		_, err = io.WriteString(p.stdin, line)
	}
	switch {
	case err == nil:
		return
	case errors.Is(err, os.ErrClosed):
		t.Fatalf("shmtest: Send %s to %s: its stdin has been closed (CloseStdin or Wait)", quoted, p.name)
	case errors.Is(err, os.ErrDeadlineExceeded):
		t.Fatalf("shmtest: Send %s to %s: the write did not complete within %v: it is not reading its stdin (a pipe holds 64 KiB)\n%s",
			quoted, p.name, lim, p.outputs())
	}
	if p.hasDied() {
		<-p.exited
		t.Fatalf("shmtest: Send %s to %s: it %s\n%s", quoted, p.name, p.exitDesc(), p.outputs())
	}
	t.Fatalf("shmtest: Send %s to %s: %v\n%s", quoted, p.name, err, p.outputs())
}

// quoteShort quotes s for a message, cut to its first 200 bytes.
func quoteShort(s string) string {
	const max = 200
	if len(s) <= max {
		return strconv.Quote(s)
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… (%d bytes)", strconv.Quote(s[:cut]), len(s))
}

// CloseStdin closes the process's stdin, so that it reads end of file.
// Closing it again does nothing.
func (p *Process) CloseStdin() {
	if p.stdin != nil {
		p.stdinClosed.Store(true)
		p.stdin.Close()
	}
}

// Wait closes stdin, waits until the process exits and returns its Result.
// If it is still running after timeout (DefaultTimeout if zero or less, and
// ending a second before the test binary's -timeout deadline), Wait kills
// it and its process group and fails the test with its output.
//
// Once the process has exited, Wait returns when its stdout and stderr
// close; if a process it started still holds them, that takes at most a
// little over a second (see Start), whatever the timeout, and Wait logs
// (t.Logf) what was killed or given up on.
func (p *Process) Wait(t testing.TB, timeout time.Duration) Result {
	t.Helper()
	p.CloseStdin()
	lim := waitLimit(t, timeout)
	deadline := lim.timer()
	defer deadline.Stop()
	select {
	case <-p.exited:
	case <-deadline.C:
		if p.hasDied() {
			// It did exit; what it left holding its output is being
			// dealt with, in bounded time.
			<-p.exited
			break
		}
		p.kill()
		<-p.exited
		p.logNote(t)
		t.Fatalf("shmtest: %s did not exit within %v; killed it (SIGKILL to its process group)\n%s", p.name, lim, p.outputs())
	}
	p.logNote(t)
	return p.result()
}

// Kill kills the process and its process group (see Start) with SIGKILL
// if it is still running, waits until it has been reaped, and returns its
// Result: Status is 137 (128+9) if the kill ended it. A killed process has
// detached its System V segments (but not removed them) by the time Kill
// returns; the other processes of its group are killed too, but not waited
// for (they are not this process's children), unless they held its stdout
// or stderr.
func (p *Process) Kill() Result {
	p.kill()
	<-p.exited
	return p.result()
}

// hasDied reports whether the process has exited (its output may still be
// coming).
func (p *Process) hasDied() bool {
	select {
	case <-p.died:
		return true
	default:
		return false
	}
}

func (p *Process) result() Result {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.res
}

// exitDesc says how the process ended; it must have.
func (p *Process) exitDesc() string {
	return describeStatus(p.result().Status)
}

func describeStatus(status int) string {
	if sig, ok := signalOf(status); ok {
		return fmt.Sprintf("was killed by signal %d (%v, status %d)", sig, signalName(sig), status)
	}
	return fmt.Sprintf("exited with status %d", status)
}

// outputs shows what the process printed, for failure messages.
func (p *Process) outputs() string {
	var b strings.Builder
	show := func(name string, buf *lineBuffer) {
		switch {
		case buf == nil:
			fmt.Fprintf(&b, "%s: not captured\n", name)
		case buf.Len() == 0:
			fmt.Fprintf(&b, "%s: (empty)\n", name)
		default:
			fmt.Fprintf(&b, "%s:\n%s", name, tail(buf.String()))
			if !strings.HasSuffix(b.String(), "\n") {
				b.WriteString("\n")
			}
		}
	}
	show("stdout", p.stdout)
	show("stderr", p.stderr)
	return strings.TrimSuffix(b.String(), "\n")
}

// tail returns the last 4 KiB of s, saying if there was more.
func tail(s string) string {
	const max = 4096
	if len(s) <= max {
		return s
	}
	return fmt.Sprintf("[... %d bytes before ...]\n%s", len(s)-max, s[len(s)-max:])
}
