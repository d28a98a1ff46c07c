package posixmq_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/shmmap/shmmap/posixmq"
	"github.com/shmmap/shmmap/shmtest"
)

// TestMain fails the run if a queue a test named is left behind in the
// machine's namespace (those of isolated tests went with their namespace).
func TestMain(m *testing.M) {
	code := m.Run()
	shmtest.RemoveBuilds()
	namesMu.Lock()
	defer namesMu.Unlock()
	for _, name := range names {
		if q, err := posixmq.Open(name, os.O_RDONLY, 0, nil); err == nil {
			q.Close()
			posixmq.Unlink(name)
			fmt.Fprintln(os.Stderr, "queue left behind:", name)
			code = 1
		}
	}
	os.Exit(code)
}

var (
	nameSeq atomic.Int64
	namesMu sync.Mutex
	names   []string // every name qname gave
)

// qname returns a queue name no other test uses (the process id, a
// sequence number and the test's name), and unlinks it at the end of the
// test. After shmtest.Isolate the cleanup runs in the test's namespace.
func qname(t *testing.T) string {
	test := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, strings.TrimPrefix(t.Name(), "Test"))
	if len(test) > 60 {
		test = test[:60]
	}
	name := fmt.Sprintf("/posixmq-%d-%d-%s", os.Getpid(), nameSeq.Add(1), test)
	namesMu.Lock()
	names = append(names, name)
	namesMu.Unlock()
	t.Cleanup(func() { posixmq.Unlink(name) })
	return name
}

// create creates a new queue (O_RDWR|O_CREATE|O_EXCL, mode 0600) with the
// extra flags and closes it at the end of the test.
func create(t *testing.T, name string, flag, maxmsg, msgsize int) *posixmq.Queue {
	t.Helper()
	q, err := posixmq.Open(name, os.O_RDWR|os.O_CREATE|os.O_EXCL|flag, 0o600, &posixmq.Attr{MaxMsg: maxmsg, MsgSize: msgsize})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	return q
}

// errnoOf returns the errno err wraps: ETIMEDOUT for
// context.DeadlineExceeded (C's answer to a timeout), 0 for nil, and -1 for
// an error with no errno.
func errnoOf(err error) int {
	var e syscall.Errno
	switch {
	case err == nil:
		return 0
	case errors.Is(err, context.DeadlineExceeded):
		return int(syscall.ETIMEDOUT)
	case errors.As(err, &e):
		return int(e)
	}
	return -1
}

// peer starts testdata/msgpeer.c (from the test's goroutine: after Isolate
// it is in the test's namespace).
func peer(t *testing.T, wrap ...func(*exec.Cmd) *exec.Cmd) *shmtest.Process {
	t.Helper()
	cmd := exec.Command(shmtest.BuildC(t, "../testdata/msgpeer.c", "-lrt"))
	for _, w := range wrap {
		cmd = w(cmd)
	}
	return shmtest.Start(t, cmd)
}

// ask sends one command to the peer and returns its answer.
func ask(t *testing.T, p *shmtest.Process, format string, args ...any) string {
	t.Helper()
	p.Send(t, fmt.Sprintf(format, args...))
	line := p.WaitLine(t, "", 20*time.Second)
	if strings.HasPrefix(line, "bad") {
		t.Fatalf("msgpeer did not understand %q: %s", fmt.Sprintf(format, args...), line)
	}
	return line
}

// answerErrno is the errno of a peer's answer: 0 for "ok ...", N for
// "err N ...".
func answerErrno(t *testing.T, line string) int {
	t.Helper()
	if strings.HasPrefix(line, "ok") {
		return 0
	}
	f := strings.Fields(line)
	if len(f) >= 2 && f[0] == "err" {
		if n, err := strconv.Atoi(f[1]); err == nil {
			return n
		}
	}
	t.Fatalf("unexpected answer from msgpeer: %q", line)
	return 0
}

// parked counts the goroutines waiting in the poller inside posixmq: the
// handshake that a Send or Receive really waits before a test acts.
func parked() int {
	buf := make([]byte, 1<<16)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "internal/poll.runtime_pollWait") && strings.Contains(g, "posixmq.(*Queue).wait") {
			count++
		}
	}
	return count
}

// waitParked waits until at least n goroutines wait in the poller.
func waitParked(t *testing.T, n int) {
	t.Helper()
	shmtest.WaitFor(t, fmt.Sprintf("%d goroutines waiting in the poller", n), 20*time.Second, func() bool { return parked() >= n })
}
