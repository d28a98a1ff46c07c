package shmtest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// DefaultTimeout bounds Run, and the waits given a timeout of zero or less.
const DefaultTimeout = 30 * time.Second

// waitDelay is how long, after the process has exited, Wait waits for a
// process it left behind to close the stdout or stderr it inherited.
const waitDelay = 5 * time.Second

// Process is a running program started by Start. Its methods may be called
// from any goroutine, but only the test's goroutine may call the ones that
// take a testing.TB and can fail the test (as with t.Fatal).
type Process struct {
	// Cmd is the command; Cmd.Process is the running process. Use it for
	// what Process does not offer, such as Cmd.Process.Signal.
	Cmd *exec.Cmd

	name   string
	stdin  io.WriteCloser // nil when the caller set Cmd.Stdin
	stdout *lineBuffer    // nil when the caller set Cmd.Stdout
	stderr *lineBuffer    // nil when the caller set Cmd.Stderr
	exited chan struct{}  // closed once reaped and its output read

	mu   sync.Mutex
	next int // the first stdout line WaitLine has not returned
	res  Result
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
// A start failure fails the test. Start registers a cleanup that, whatever
// happens, kills the process (SIGKILL) if it is still running, closes its
// stdin and reaps it; if the test has failed, the cleanup logs the
// process's stderr.
//
// The process is forked from the calling goroutine's thread: started after
// Isolate, from the test's goroutine, it runs in the test's IPC namespace.
// Unless the caller set Cmd.WaitDelay, a process that leaves a descendant
// holding its stdout or stderr is considered finished 5 seconds after it
// exits.
func Start(t testing.TB, cmd *exec.Cmd) *Process {
	t.Helper()
	if cmd == nil || cmd.Path == "" {
		t.Fatalf("shmtest.Start: no command")
	}
	if cmd.Process != nil {
		t.Fatalf("shmtest.Start: %s already started", cmd.Path)
	}
	p := &Process{Cmd: cmd, name: filepath.Base(cmd.Path), exited: make(chan struct{})}
	if cmd.Stdout == nil {
		p.stdout = newLineBuffer()
		cmd.Stdout = p.stdout
	}
	if cmd.Stderr == nil {
		p.stderr = newLineBuffer()
		cmd.Stderr = p.stderr
	}
	if cmd.Stdin == nil {
		w, err := cmd.StdinPipe()
		if err != nil {
			t.Fatalf("shmtest.Start: %s: stdin: %v", p.name, err)
		}
		p.stdin = w
	}
	if cmd.WaitDelay == 0 {
		cmd.WaitDelay = waitDelay
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("shmtest.Start: %s: %v", shellQuote(cmd.Args), err)
	}
	p.name = fmt.Sprintf("%s (pid %d)", p.name, cmd.Process.Pid)
	go p.reap()
	t.Cleanup(func() {
		t.Helper()           // report the line that called Start
		p.Cmd.Process.Kill() // an error only says it has exited already
		p.CloseStdin()
		<-p.exited
		if t.Failed() && p.stderr != nil {
			if s := p.stderr.String(); s != "" {
				t.Logf("stderr of %s:\n%s", p.name, tail(s))
			}
		}
	})
	return p
}

// reap waits for the process; cmd.Wait returns once the output has been
// copied to the buffers, so everything the process wrote is there before
// exited is closed.
func (p *Process) reap() {
	err := p.Cmd.Wait()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) && !errors.Is(err, exec.ErrWaitDelay) && p.stderr != nil {
		// An I/O error on the pipes: say so where it will be read.
		fmt.Fprintf(p.stderr, "\nshmtest: waiting for the process: %v\n", err)
	}
	res := Result{Status: ExitStatus(p.Cmd.ProcessState)}
	if p.stdout != nil {
		p.stdout.close()
		res.Stdout = p.stdout.String()
	}
	if p.stderr != nil {
		p.stderr.close()
		res.Stderr = p.stderr.String()
	}
	p.mu.Lock()
	p.res = res
	p.mu.Unlock()
	close(p.exited)
}

// Pid returns the process id.
func (p *Process) Pid() int { return p.Cmd.Process.Pid }

// Exited returns a channel that is closed once the process has exited and
// been reaped, and everything it wrote to the captured stdout and stderr
// has been read.
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
	return p.waitLine(t, fmt.Sprintf("a line containing %q", substr), func(s string) bool { return strings.Contains(s, substr) }, timeout)
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
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	deadline := time.NewTimer(timeout)
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
			t.Fatalf("shmtest: %s printed no %s within %v (it is still running)\n%s", p.name, what, timeout, p.outputs())
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
// test if the process no longer reads its stdin (it exited).
func (p *Process) Send(t testing.TB, line string) {
	t.Helper()
	if p.stdin == nil {
		t.Fatalf("shmtest: Send to %s: its stdin was set by the caller, not a pipe", p.name)
	}
	if !strings.HasSuffix(line, "\n") {
		line += "\n"
	}
	if _, err := io.WriteString(p.stdin, line); err != nil {
		select {
		case <-p.exited:
			t.Fatalf("shmtest: Send %q to %s: it %s\n%s", strings.TrimSuffix(line, "\n"), p.name, p.exitDesc(), p.outputs())
		default:
		}
		t.Fatalf("shmtest: Send %q to %s: %v\n%s", strings.TrimSuffix(line, "\n"), p.name, err, p.outputs())
	}
}

// CloseStdin closes the process's stdin, so that it reads end of file.
// Closing it again does nothing.
func (p *Process) CloseStdin() {
	if p.stdin != nil {
		p.stdin.Close()
	}
}

// Wait closes stdin, waits until the process exits and returns its Result.
// If it is still running after timeout (DefaultTimeout if zero or less),
// Wait kills it and fails the test with its output.
func (p *Process) Wait(t testing.TB, timeout time.Duration) Result {
	t.Helper()
	p.CloseStdin()
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	select {
	case <-p.exited:
	case <-deadline.C:
		p.Cmd.Process.Kill()
		<-p.exited
		t.Fatalf("shmtest: %s did not exit within %v; killed it\n%s", p.name, timeout, p.outputs())
	}
	return p.result()
}

// Kill kills the process with SIGKILL if it is still running, waits until
// it has been reaped, and returns its Result: Status is 137 (128+9) if the
// kill ended it. A killed process has detached its System V segments (but
// not removed them) by the time Kill returns.
func (p *Process) Kill() Result {
	p.Cmd.Process.Kill()
	<-p.exited
	return p.result()
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
	if status > 128 && status < 128+65 {
		return fmt.Sprintf("was killed by signal %d (%v, status %d)", status-128, signalName(status-128), status)
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

// lineBuffer is an io.Writer that keeps everything written to it and
// splits it into lines, waking whoever waits for a new line.
type lineBuffer struct {
	mu     sync.Mutex
	all    []byte
	lines  []string
	start  int           // where the unfinished last line begins in all
	notify chan struct{} // closed and replaced at each new line
}

func newLineBuffer() *lineBuffer { return &lineBuffer{notify: make(chan struct{})} }

func (b *lineBuffer) Write(data []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.all = append(b.all, data...)
	added := false
	for {
		i := bytes.IndexByte(b.all[b.start:], '\n')
		if i < 0 {
			break
		}
		b.lines = append(b.lines, string(b.all[b.start:b.start+i]))
		b.start += i + 1
		added = true
	}
	if added {
		close(b.notify)
		b.notify = make(chan struct{})
	}
	return len(data), nil
}

// close makes an unfinished last line a line.
func (b *lineBuffer) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.start < len(b.all) {
		b.lines = append(b.lines, string(b.all[b.start:]))
		b.start = len(b.all)
		close(b.notify)
		b.notify = make(chan struct{})
	}
}

// changed returns a channel closed at the next new line.
func (b *lineBuffer) changed() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.notify
}

func (b *lineBuffer) linesFrom(i int) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.lines[i:len(b.lines):len(b.lines)]
}

func (b *lineBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.all)
}

func (b *lineBuffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.all)
}
