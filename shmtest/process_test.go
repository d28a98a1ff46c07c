package shmtest_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shmmap/shmmap/shmtest"
)

func attachBin(t *testing.T) string { t.Helper(); return shmtest.BuildC(t, "testdata/attach.c") }
func emitBin(t *testing.T) string   { t.Helper(); return shmtest.BuildC(t, "testdata/emit.c") }

// TestLineDriven drives the C peer line by line: every step is ordered by
// the peer's answer.
func TestLineDriven(t *testing.T) {
	shmtest.Isolate(t)
	shmtest.NoLeaks(t)
	p := shmtest.Start(t, exec.Command(attachBin(t), "0x6161", "4096"))
	ready := p.WaitLine(t, "ready", 10*time.Second)
	var id int
	if _, err := fmt.Sscanf(ready, "ready %d", &id); err != nil {
		t.Fatalf("%q: %v", ready, err)
	}
	p.Send(t, "write hello")
	if got := p.WaitLine(t, "", 10*time.Second); got != "ok" {
		t.Errorf("after write: %q, want ok", got)
	}
	p.Send(t, "remove\n") // a newline of its own is not doubled
	if got := p.WaitLine(t, "", 10*time.Second); got != "removed" {
		t.Errorf("after remove: %q, want removed", got)
	}
	p.Send(t, "exit 3")
	res := p.Wait(t, 10*time.Second)
	want := shmtest.Result{Stdout: ready + "\nok\nremoved\n", Status: 3}
	shmtest.Compare(t, want, res)
	if p.Stdout() != res.Stdout {
		t.Errorf("Stdout() = %q, Result.Stdout %q", p.Stdout(), res.Stdout)
	}
	select {
	case <-p.Exited():
	default:
		t.Error("Exited is open after Wait")
	}
}

// TestWaitLineExited: the process exits without the line; WaitLine fails at
// once and shows what it printed.
func TestWaitLineExited(t *testing.T) {
	emit := emitBin(t)
	const timeout = 20 * time.Second
	start := time.Now()
	ft := fake(t, nil, func(ft *fakeTB) {
		p := shmtest.Start(ft, exec.Command(emit, "hello\nworld\n", "oops\n", "-", "", "3"))
		p.WaitLine(ft, "ready", timeout)
		ft.Errorf("WaitLine returned")
	})
	quick(t, time.Since(start), timeout)
	mustFail(t, ft, "exited with status 3", `a line containing "ready"`, "hello\nworld", "oops")
	if strings.Contains(ft.output(), "WaitLine returned") {
		t.Error("WaitLine returned instead of failing")
	}

	ft = fake(t, nil, func(ft *fakeTB) {
		p := shmtest.Start(ft, exec.Command(emit, "", "", "-", "", "sig9"))
		p.WaitLine(ft, "ready", timeout)
	})
	mustFail(t, ft, "killed by signal 9", "status 137", "stdout: (empty)")
}

// TestWaitLineBeforeExit: a line printed just before exiting is found
// however the exit and the line race.
func TestWaitLineBeforeExit(t *testing.T) {
	emit := emitBin(t)
	for i := range 20 {
		p := shmtest.Start(t, exec.Command(emit, "one\nready at last", "", "-", "", "0"))
		if i%2 == 1 {
			<-p.Exited() // the exit is seen first
		}
		if got := p.WaitLine(t, "ready", 10*time.Second); got != "ready at last" {
			t.Fatalf("got %q", got)
		}
	}
}

// TestWaitLineTimeout: a process that prints nothing more fails WaitLine at
// the deadline, and the failure says it is still running.
func TestWaitLineTimeout(t *testing.T) {
	ns := shmtest.Isolate(t)
	bin := attachBin(t)
	start := time.Now()
	ft := fake(t, ns, func(ft *fakeTB) {
		p := shmtest.Start(ft, exec.Command(bin, "0x6262", "64"))
		p.WaitLine(ft, "ready", 10*time.Second)
		p.WaitLine(ft, "never", 100*time.Millisecond)
	})
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Errorf("WaitLine gave up after %v, before its timeout", d)
	}
	mustFail(t, ft, `no a line containing "never" within 100ms`, "still running", "ready")
}

// TestWaitLineFunc takes lines in order and matches with a predicate.
func TestWaitLineFunc(t *testing.T) {
	emit := emitBin(t)
	p := shmtest.Start(t, exec.Command(emit, "a 1\nb 2\nc 3\nd 4\n", "", "-", "", "0"))
	if got := p.WaitLine(t, "b", 10*time.Second); got != "b 2" {
		t.Errorf("got %q", got)
	}
	// "a 1" came before the line WaitLine returned: it is not seen again.
	if got := p.WaitLineFunc(t, func(s string) bool { return strings.HasSuffix(s, "1") || strings.HasSuffix(s, "4") }, 10*time.Second); got != "d 4" {
		t.Errorf("got %q, want d 4", got)
	}
}

// TestSendExited: writing to a process that has exited fails the test.
func TestSendExited(t *testing.T) {
	emit := emitBin(t)
	ft := fake(t, nil, func(ft *fakeTB) {
		p := shmtest.Start(ft, exec.Command(emit, "bye\n", "", "-", "", "0"))
		<-p.Exited()
		p.Send(ft, "hello")
	})
	mustFail(t, ft, `Send "hello"`, "exited with status 0", "bye")
}

// TestWaitTimeoutKills: a process that does not exit in time is killed,
// and the test fails.
func TestWaitTimeoutKills(t *testing.T) {
	ns := shmtest.Isolate(t)
	bin := attachBin(t)
	// The peer's stdin is a pipe this test holds open: closing it is not
	// the end of file the peer waits for.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	var p *shmtest.Process
	ft := fake(t, ns, func(ft *fakeTB) {
		cmd := exec.Command(bin, "0x6363", "64")
		cmd.Stdin = r
		p = shmtest.Start(ft, cmd)
		p.WaitLine(ft, "ready", 10*time.Second)
		p.Wait(ft, 100*time.Millisecond)
	})
	mustFail(t, ft, "did not exit within 100ms; killed it", "ready")
	if res := p.Kill(); res.Status != 128+int(syscall.SIGKILL) {
		t.Errorf("status %d after the kill, want %d", res.Status, 128+int(syscall.SIGKILL))
	}
}

// TestStartCleanup: the cleanup Start registers kills and reaps the
// process.
func TestStartCleanup(t *testing.T) {
	ns := shmtest.Isolate(t)
	bin := attachBin(t)
	var p *shmtest.Process
	ft := fake(t, ns, func(ft *fakeTB) {
		p = shmtest.Start(ft, exec.Command(bin, "0x6464", "64"))
		p.WaitLine(ft, "ready", 10*time.Second)
		if len(ft.cleanups) != 1 {
			ft.Errorf("Start registered %d cleanups", len(ft.cleanups))
		}
	}) // fake runs the cleanups
	mustPass(t, ft)
	select {
	case <-p.Exited():
	default:
		t.Fatal("the process is still running after the cleanup")
	}
	if res := p.Kill(); res.Status != 137 {
		t.Errorf("status %d, want 137: the cleanup's SIGKILL", res.Status)
	}
	if err := syscall.Kill(p.Pid(), 0); err != syscall.ESRCH {
		t.Errorf("kill(%d, 0) = %v: not reaped", p.Pid(), err)
	}

	// A failed test gets the process's stderr in its log.
	emit := emitBin(t)
	ft = fake(t, nil, func(ft *fakeTB) {
		p := shmtest.Start(ft, exec.Command(emit, "", "some diagnostics\n", "-", "", "1"))
		<-p.Exited()
		ft.Errorf("failing")
	})
	mustFail(t, ft, "failing")
	if !strings.Contains(ft.logged(), "some diagnostics") {
		t.Errorf("the failed test's log lacks the process's stderr: %q", ft.logged())
	}
}

func TestStartErrors(t *testing.T) {
	emit := emitBin(t)
	ft := fake(t, nil, func(ft *fakeTB) {
		shmtest.Start(ft, exec.Command(filepath.Join(t.TempDir(), "missing")))
	})
	mustFail(t, ft, "shmtest.Start", "missing")

	ft = fake(t, nil, func(ft *fakeTB) {
		cmd := exec.Command(emit, "", "", "-", "", "0")
		cmd.Stdout = new(strings.Builder)
		p := shmtest.Start(ft, cmd)
		p.WaitLine(ft, "x", time.Second)
	})
	mustFail(t, ft, "stdout was set by the caller")

	ft = fake(t, nil, func(ft *fakeTB) {
		cmd := exec.Command(emit, "", "", "-", "", "0")
		cmd.Stdin = strings.NewReader("")
		p := shmtest.Start(ft, cmd)
		p.Send(ft, "x")
	})
	mustFail(t, ft, "stdin was set by the caller")
}

// TestRun: the Result is what the C program was told to do, and Status is
// what a shell reports for the same process.
func TestRun(t *testing.T) {
	emit := emitBin(t)
	dir := t.TempDir()
	res := shmtest.Run(t, exec.Command(emit, "to stdout\n", "to stderr\n", filepath.Join(dir, "out.txt"), "file\x01bytes", "7"))
	res.ReadFiles(t, dir, "out.txt", "absent.txt")
	want := shmtest.Result{Stdout: "to stdout\n", Stderr: "to stderr\n", Status: 7, Files: map[string][]byte{"out.txt": []byte("file\x01bytes")}}
	shmtest.Compare(t, want, res)
	if _, ok := res.Files["absent.txt"]; ok {
		t.Error("a missing file has an entry")
	}

	// Killed by a signal: the shell's $? for the same program is the
	// expected status.
	bin := emit
	for _, sig := range []string{"sig6", "sig9", "sig15", "0", "255"} {
		sh := shmtest.Run(t, exec.Command("sh", "-c", `"$0" "" "" - "" "$1"; echo $?`, bin, sig))
		got := shmtest.Run(t, exec.Command(bin, "", "", "-", "", sig))
		if want := strings.TrimSpace(sh.Stdout); fmt.Sprint(got.Status) != want {
			t.Errorf("%s: Status %d, the shell says %s", sig, got.Status, want)
		}
	}

	// Run closes stdin: a program reading to end of file finishes.
	if res := shmtest.Run(t, exec.Command("cat")); res.Status != 0 || res.Stdout != "" {
		t.Errorf("cat: %+v", res)
	}
	cmd := exec.Command("cat")
	cmd.Stdin = strings.NewReader("given input")
	if res := shmtest.Run(t, cmd); res.Stdout != "given input" {
		t.Errorf("cat with Stdin set: %+v", res)
	}
}

// TestSendNotReading: a process that never reads its stdin does not make
// Send block for ever: the write has a deadline, and the failure quotes
// only the start of a long line.
func TestSendNotReading(t *testing.T) {
	long := strings.Repeat("x", 1<<20) // far more than a pipe holds
	start := time.Now()
	ft := fake(t, nil, func(ft *fakeTB) {
		p := shmtest.Start(ft, exec.Command("sleep", "100"))
		p.SendTimeout(ft, long, 200*time.Millisecond)
		ft.Errorf("SendTimeout returned")
	})
	quick(t, time.Since(start), 10*time.Second)
	mustFail(t, ft, "the write did not complete within 200ms", "not reading its stdin", `"xxxxxxxx`, "… (1048576 bytes)")
	if n := len(ft.output()); n > 1000 {
		t.Errorf("the failure is %d bytes long: the line was not cut", n)
	}
	if strings.Contains(ft.output(), "SendTimeout returned") {
		t.Error("SendTimeout returned instead of failing")
	}
}

// TestSendClosed: Send after CloseStdin says so.
func TestSendClosed(t *testing.T) {
	ft := fake(t, nil, func(ft *fakeTB) {
		p := shmtest.Start(ft, exec.Command("sleep", "100"))
		p.CloseStdin()
		p.Send(ft, "late")
	})
	mustFail(t, ft, `Send "late"`, "stdin has been closed")
}
