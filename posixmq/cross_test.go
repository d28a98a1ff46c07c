package posixmq_test

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shmmap/shmmap/posixmq"
	"github.com/shmmap/shmmap/shmtest"
	"golang.org/x/sys/unix"
)

// The message generator of testdata/msgpeer.c ("Scripts" in its header
// comment), for the Go halves of its mqsndscript and mqrcvscript.

func next(x *uint64) uint64 {
	*x ^= *x << 13
	*x ^= *x >> 7
	*x ^= *x << 17
	return *x
}

func start(seed, i uint64) uint64 {
	if x := seed + (i+1)*0x9E3779B97F4A7C15; x != 0 {
		return x
	}
	return 1
}

// gen returns message i of seed, at most max bytes, and its priority.
func gen(seed, i uint64, max int) (uint, []byte) {
	x := start(seed, i)
	class := uint(next(&x) % 8)
	var n int
	switch k := next(&x) % 16; k {
	case 0:
	case 1:
		n = max
	default:
		n = int(next(&x) % uint64(max+1))
	}
	msg := make([]byte, n)
	for j := range msg {
		msg[j] = byte(next(&x) >> 56)
	}
	return class, msg
}

func record(prio uint, msg []byte) string {
	h := fnv.New64a()
	h.Write(msg)
	return fmt.Sprintf("%d %d %016x\n", prio, len(msg), h.Sum64())
}

// goSendScript is mqsndscript in Go: TrySend of messages from ..
// from+count-1, returning their records.
func goSendScript(t *testing.T, q *posixmq.Queue, seed, from, count uint64, max int) string {
	t.Helper()
	var b strings.Builder
	for i := from; i < from+count; i++ {
		prio, msg := gen(seed, i, max)
		if err := q.TrySend(msg, prio); err != nil {
			t.Fatalf("Go sender, message %d: %v", i, err)
		}
		b.WriteString(record(prio, msg))
	}
	return b.String()
}

// goReceiveScript is mqrcvscript in Go: TryReceive until the queue is
// empty, recording each message and then "err 11" (EAGAIN), as C does on
// an O_NONBLOCK descriptor.
func goReceiveScript(t *testing.T, q *posixmq.Queue, bufsize int) string {
	t.Helper()
	var b strings.Builder
	buf := make([]byte, bufsize)
	for {
		n, prio, err := q.TryReceive(buf)
		if errors.Is(err, posixmq.ErrWouldBlock) {
			fmt.Fprintf(&b, "err %d\n", errnoOf(err))
			return b.String()
		}
		if err != nil {
			t.Fatalf("Go receiver: %v", err)
		}
		b.WriteString(record(prio, buf[:n]))
	}
}

// TestPrioritiesAcrossLanguages sends the same script of messages of
// random priorities and sizes in batches, C to C, Go to C, C to Go and Go
// to Go, and compares what each receiver got, in order, with the C to C
// run: the kernel's priority order is the same whichever language sends
// or receives.
func TestPrioritiesAcrossLanguages(t *testing.T) {
	shmtest.Isolate(t)
	const (
		seed    = 0x5eed
		count   = 2000
		maxmsg  = 10 // the default msg_max: no privilege needed
		msgsize = 128
	)
	dir := t.TempDir()
	type run struct{ snd, rcv string }
	runs := map[string]run{}
	for _, combo := range []string{"C->C", "Go->C", "C->Go", "Go->Go"} {
		cSends, cReceives := strings.HasPrefix(combo, "C"), strings.HasSuffix(combo, "C")
		name := qname(t)
		q := create(t, name, 0, maxmsg, msgsize)
		var p *shmtest.Process
		sndFile := filepath.Join(dir, strings.ReplaceAll(combo, "->", "-")+".snd")
		rcvFile := filepath.Join(dir, strings.ReplaceAll(combo, "->", "-")+".rcv")
		if cSends || cReceives {
			p = peer(t)
			// O_RDWR|O_NONBLOCK: the receiver's last record is EAGAIN's,
			// as TryReceive's.
			if line := ask(t, p, "mqopen %s 04002 0 0 0", name); line != "ok" {
				t.Fatalf("%s: C mqopen: %s", combo, line)
			}
		}
		var r run
		for from := uint64(0); from < count; from += maxmsg {
			if cSends {
				if line := ask(t, p, "mqsndscript %d %d %d %d %s", seed, from, maxmsg, msgsize, sndFile); !strings.HasPrefix(line, "ok") {
					t.Fatalf("%s: C mqsndscript from %d: %s", combo, from, line)
				}
			} else {
				r.snd += goSendScript(t, q, seed, from, maxmsg, msgsize)
			}
			if cReceives {
				if line := ask(t, p, "mqrcvscript %d %s", msgsize, rcvFile); !strings.HasPrefix(line, "ok") {
					t.Fatalf("%s: C mqrcvscript after %d: %s", combo, from, line)
				}
			} else {
				r.rcv += goReceiveScript(t, q, msgsize)
			}
		}
		if cSends {
			r.snd = readFile(t, sndFile)
		}
		if cReceives {
			r.rcv = readFile(t, rcvFile)
		}
		runs[combo] = r
	}
	want := runs["C->C"]
	if lines := strings.Count(want.rcv, "\n"); lines != count+count/maxmsg {
		t.Fatalf("C->C received %d records, want %d messages and %d ends of batch", lines, count, count/maxmsg)
	}
	if want.rcv == want.snd {
		t.Fatalf("C->C received the messages in the order they were sent: the script tests no priorities")
	}
	for combo, got := range runs {
		if got.snd != want.snd {
			t.Errorf("%s: the messages sent differ from C's (the Go generator?)\n%s", combo, firstDifference(want.snd, got.snd))
		}
		if got.rcv != want.rcv {
			t.Errorf("%s: the messages received differ from C->C's\n%s", combo, firstDifference(want.rcv, got.rcv))
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// firstDifference shows the first line where two records differ.
func firstDifference(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range min(len(w), len(g)) {
		if w[i] != g[i] {
			return fmt.Sprintf("line %d: want %q, got %q", i+1, w[i], g[i])
		}
	}
	return fmt.Sprintf("want %d lines, got %d", len(w), len(g))
}

// asleep reports whether process pid sleeps in a POSIX queue's wait
// (wchan wq_sleep, as msgpeer.c's header says).
func asleep(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/wchan", pid))
	return err == nil && string(b) == "wq_sleep"
}

// TestBlockingAcrossLanguages: a Go receiver waiting in the poller is woken
// by a C send and a C receiver blocked in mq_receive by a Go send; a C
// sender blocked on a full queue by a Go receive and a Go sender waiting on
// a full queue by a C receive. mq_getattr's counts agree on the way, and a
// C mq_timedreceive times out where a Go ReceiveContext does.
func TestBlockingAcrossLanguages(t *testing.T) {
	shmtest.Isolate(t)
	name := qname(t)
	q := create(t, name, 0, 2, 64)
	p := peer(t)
	if line := ask(t, p, "mqopen %s 02 0 0 0", name); line != "ok" {
		t.Fatalf("C mqopen: %s", line)
	}
	buf := make([]byte, 64)

	// Go waits; C sends.
	type received struct {
		msg  string
		prio uint
		err  error
	}
	got := make(chan received, 1)
	go func() {
		n, prio, err := q.ReceiveContext(context.Background(), buf)
		got <- received{string(buf[:max(n, 0)]), prio, err}
	}()
	waitParked(t, 1)
	if line := ask(t, p, "mqsnd 5 %x", "from C"); line != "ok" {
		t.Fatalf("C mqsnd: %s", line)
	}
	if r := <-got; r != (received{"from C", 5, nil}) {
		t.Errorf("Go ReceiveContext woken by C's send: %+v", r)
	}

	// C waits; Go sends.
	p.Send(t, "mqrcv 64")
	shmtest.WaitFor(t, "C asleep in mq_receive", 20*time.Second, func() bool { return asleep(p.Pid()) }, p)
	if err := q.Send([]byte("from Go"), 3); err != nil {
		t.Fatal(err)
	}
	if line := p.WaitLine(t, "", 20*time.Second); line != "ok 3 "+hex.EncodeToString([]byte("from Go")) {
		t.Errorf("C mq_receive woken by Go's send: %s", line)
	}

	// A full queue: Go fills it, C's send waits, a Go receive wakes it.
	for _, prio := range []uint{1, 2} {
		if err := q.Send([]byte{byte(prio)}, prio); err != nil {
			t.Fatal(err)
		}
	}
	compareAttr(t, q, p, 2)
	p.Send(t, "mqsnd 7 07")
	shmtest.WaitFor(t, "C asleep in mq_send", 20*time.Second, func() bool { return asleep(p.Pid()) }, p)
	if n, prio, err := q.Receive(buf); err != nil || prio != 2 || n != 1 {
		t.Fatalf("Go Receive = %d, %d, %v; want the message of priority 2", n, prio, err)
	}
	if line := p.WaitLine(t, "", 20*time.Second); line != "ok" {
		t.Errorf("C mq_send woken by Go's receive: %s", line)
	}
	compareAttr(t, q, p, 2)

	// Full again: Go's send waits in the poller, a C receive wakes it.
	sent := make(chan error, 1)
	go func() { sent <- q.SendContext(context.Background(), []byte{9}, 9) }()
	waitParked(t, 1)
	if line := ask(t, p, "mqrcv 64"); line != "ok 7 07" {
		t.Errorf("C mq_receive of the full queue: %s, want priority 7's message", line)
	}
	if err := <-sent; err != nil {
		t.Errorf("Go SendContext woken by C's receive: %v", err)
	}
	compareAttr(t, q, p, 2)
	for _, want := range []string{"ok 9 09", "ok 1 01"} {
		if line := ask(t, p, "mqrcv 64"); line != want {
			t.Errorf("C mq_receive: %s, want %s", line, want)
		}
	}
	compareAttr(t, q, p, 0)

	// Timeouts: 30ms on the empty queue, in C and in Go.
	if line := ask(t, p, "mqrcv 64 30"); line != "err 110" {
		t.Errorf("C mq_timedreceive on the empty queue: %s, want err 110 (ETIMEDOUT)", line)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, _, err := q.ReceiveContext(ctx, buf); err != context.DeadlineExceeded {
		t.Errorf("Go ReceiveContext on the empty queue: %v, want context.DeadlineExceeded", err)
	}
}

// compareAttr checks that C's mq_getattr and Go's Attr agree, and that
// the queue holds cur messages.
func compareAttr(t *testing.T, q *posixmq.Queue, p *shmtest.Process, cur int) {
	t.Helper()
	a, err := q.Attr()
	if err != nil {
		t.Fatal(err)
	}
	goLine := fmt.Sprintf("ok flags=%#o maxmsg=%d msgsize=%d curmsgs=%d", a.Flags, a.MaxMsg, a.MsgSize, a.CurMsgs)
	if cLine := ask(t, p, "mqattr"); cLine != goLine || a.CurMsgs != cur {
		t.Errorf("mq_getattr: C %q, Go %q; want %d messages", cLine, goLine, cur)
	}
}

// TestNonblockAcrossLanguages: a queue opened O_NONBLOCK reports the flag
// in Go's Attr as in C's mq_getattr, and its Send, Receive and Context
// forms fail with EAGAIN where C's mq_send, mq_receive and mq_timedreceive
// do.
func TestNonblockAcrossLanguages(t *testing.T) {
	shmtest.Isolate(t)
	name := qname(t)
	q := create(t, name, unix.O_NONBLOCK, 1, 16)
	p := peer(t)
	if line := ask(t, p, "mqopen %s 04002 0 0 0", name); line != "ok" {
		t.Fatalf("C mqopen: %s", line)
	}
	compareAttr(t, q, p, 0)
	buf := make([]byte, 16)
	steps := []struct {
		c    string
		gofn func() error
	}{
		{"mqrcv 16", func() error { _, _, err := q.Receive(buf); return err }},
		{"mqrcv 16 1000", func() error { _, _, err := q.ReceiveContext(context.Background(), buf); return err }},
		{"mqsnd 0 01", nil}, // C's message fills the queue
		{"mqsnd 0 01", func() error { return q.Send([]byte{2}, 0) }},
		{"mqsnd 0 01 1000", func() error { return q.SendContext(context.Background(), []byte{2}, 0) }},
	}
	for i, s := range steps {
		want := answerErrno(t, ask(t, p, "%s", s.c))
		if s.gofn == nil {
			if want != 0 {
				t.Fatalf("C's step %d, %q, failed: errno %d", i, s.c, want)
			}
			continue
		}
		if got := errnoOf(s.gofn()); got != want {
			t.Errorf("%s: Go errno %d, C errno %d", s.c, got, want)
		}
	}
	compareAttr(t, q, p, 1)
}
