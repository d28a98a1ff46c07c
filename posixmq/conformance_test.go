package posixmq_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/shmmap/shmmap/posixmq"
	"github.com/shmmap/shmmap/shmtest"
	"golang.org/x/sys/unix"
)

// TestErrnosAgreeWithC makes each failure happen through glibc (the C
// peer) and through the safe API on the same queue, in the same state, and
// compares the errnos; the expected errno is the one C gets in this run.
// (context.DeadlineExceeded stands for C's ETIMEDOUT.)
func TestErrnosAgreeWithC(t *testing.T) {
	shmtest.Isolate(t)
	p := peer(t)
	name, missing := qname(t), qname(t)
	q := create(t, name, 0, 2, 16)
	expired, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()

	openOp := func(name string, flag int, attr *posixmq.Attr) func() error {
		return func() error {
			q, err := posixmq.Open(name, flag, 0o600, attr)
			if err == nil {
				q.Close()
			}
			return err
		}
	}
	onQueue := func(flag int, op func(q *posixmq.Queue) error) func() error {
		return func() error {
			q, err := posixmq.Open(name, flag, 0, nil)
			if err != nil {
				return err
			}
			defer q.Close()
			return op(q)
		}
	}
	receive := func(size int) func(q *posixmq.Queue) error {
		return func(q *posixmq.Queue) error { _, _, err := q.Receive(make([]byte, size)); return err }
	}
	receiveCtx := func(ctx context.Context) func(q *posixmq.Queue) error {
		return func(q *posixmq.Queue) error { _, _, err := q.ReceiveContext(ctx, make([]byte, 16)); return err }
	}
	within := func(d time.Duration, op func(ctx context.Context) error) func() error {
		return func() error {
			ctx, cancel := context.WithTimeout(context.Background(), d)
			defer cancel()
			return op(ctx)
		}
	}
	const rdwr, nb = os.O_RDWR, unix.O_NONBLOCK
	cases := []struct {
		what string
		c    []string // the last command's answer is compared; the others must succeed
		gofn func() error
		is   error // what errors.Is must also match, if not nil
	}{
		{"open existing", []string{"mqopen " + name + " 02 0 0 0"}, openOp(name, rdwr, nil), nil},
		{"EEXIST", []string{"mqopen " + name + " 0302 0600 2 16"}, openOp(name, rdwr|os.O_CREATE|os.O_EXCL, &posixmq.Attr{MaxMsg: 2, MsgSize: 16}), fs.ErrExist},
		{"ENOENT", []string{"mqopen " + missing + " 02 0 0 0"}, openOp(missing, rdwr, nil), fs.ErrNotExist},
		{"EINVAL without the slash", []string{"mqopen " + missing[1:] + " 0302 0600 2 16"}, openOp(missing[1:], rdwr|os.O_CREATE|os.O_EXCL, &posixmq.Attr{MaxMsg: 2, MsgSize: 16}), unix.EINVAL},
		{"EINVAL maxmsg 0", []string{"mqopen " + missing + " 0302 0600 0 16"}, openOp(missing, rdwr|os.O_CREATE|os.O_EXCL, &posixmq.Attr{MaxMsg: 0, MsgSize: 16}), unix.EINVAL},
		{"EINVAL negative msgsize", []string{"mqopen " + missing + " 0302 0600 2 -1"}, openOp(missing, rdwr|os.O_CREATE|os.O_EXCL, &posixmq.Attr{MaxMsg: 2, MsgSize: -1}), unix.EINVAL},
		{"ENOENT unlink", []string{"mqunlink " + missing}, func() error { return posixmq.Unlink(missing) }, fs.ErrNotExist},
		{"EMSGSIZE send", []string{"mqopen " + name + " 02 0 0 0", "mqsnd 0 " + strings.Repeat("ab", 17)}, func() error { return q.Send(make([]byte, 17), 0) }, unix.EMSGSIZE},
		{"EMSGSIZE receive", []string{"mqrcv 15"}, onQueue(rdwr, receive(15)), unix.EMSGSIZE},
		{"EINVAL priority", []string{"mqsnd 32768 ab"}, func() error { return q.Send([]byte{0xab}, posixmq.PrioMax) }, unix.EINVAL},
		{"ETIMEDOUT empty, deadline passed", []string{"mqrcv 16 0"}, onQueue(rdwr, receiveCtx(expired)), context.DeadlineExceeded},
		{"ETIMEDOUT empty, 30ms", []string{"mqrcv 16 30"}, within(30*time.Millisecond, func(ctx context.Context) error { return receiveCtx(ctx)(q) }), context.DeadlineExceeded},
		{"EAGAIN empty, O_NONBLOCK", []string{"mqopen " + name + " 04002 0 0 0", "mqrcv 16"}, onQueue(rdwr|nb, receive(16)), posixmq.ErrWouldBlock},
		{"EAGAIN empty, O_NONBLOCK, timed", []string{"mqrcv 16 1000"}, onQueue(rdwr|nb, receiveCtx(context.Background())), unix.EAGAIN},
		{"EAGAIN empty, TryReceive", []string{"mqrcv 16"}, func() error { _, _, err := q.TryReceive(make([]byte, 16)); return err }, posixmq.ErrWouldBlock},
		{"fill the queue", []string{"mqsnd 1 0101", "mqsnd 2 0202"}, func() error { return nil }, nil},
		{"EAGAIN full, O_NONBLOCK", []string{"mqsnd 0 03"}, onQueue(rdwr|nb, func(q *posixmq.Queue) error { return q.Send([]byte{3}, 0) }), unix.EAGAIN},
		{"EAGAIN full, TrySend", []string{"mqsnd 0 03"}, func() error { return q.TrySend([]byte{3}, 0) }, posixmq.ErrWouldBlock},
		{"ETIMEDOUT full, deadline passed", []string{"mqopen " + name + " 02 0 0 0", "mqsnd 0 03 0"}, func() error { return q.SendContext(expired, []byte{3}, 0) }, context.DeadlineExceeded},
		{"ETIMEDOUT full, 30ms", []string{"mqsnd 0 03 30"}, within(30*time.Millisecond, func(ctx context.Context) error { return q.SendContext(ctx, []byte{3}, 0) }), context.DeadlineExceeded},
		{"EBADF receive on O_WRONLY", []string{"mqopen " + name + " 01 0 0 0", "mqrcv 16"}, onQueue(os.O_WRONLY, receive(16)), unix.EBADF},
		{"EBADF send on O_RDONLY", []string{"mqopen " + name + " 00 0 0 0", "mqsnd 0 03"}, onQueue(os.O_RDONLY, func(q *posixmq.Queue) error { return q.Send([]byte{3}, 0) }), unix.EBADF},
	}
	for _, c := range cases {
		var want int
		for i, cmd := range c.c {
			line := ask(t, p, "%s", cmd)
			want = answerErrno(t, line)
			if i < len(c.c)-1 && want != 0 {
				t.Fatalf("%s: C setup step %q failed: %s", c.what, cmd, line)
			}
		}
		err := c.gofn()
		if got := errnoOf(err); got != want {
			t.Errorf("%s: Go returned %v (errno %d), C's errno is %d", c.what, err, got, want)
			continue
		}
		if c.is != nil && !errors.Is(err, c.is) {
			t.Errorf("%s: Go returned %v, which does not match %v", c.what, err, c.is)
		}
		var qe *posixmq.QueueError
		if err != nil && !errors.Is(err, context.DeadlineExceeded) && (!errors.As(err, &qe) || qe.Name == "" || !strings.HasPrefix(qe.Op, "mq_")) {
			t.Errorf("%s: Go returned %#v, want a *QueueError naming the call and the queue", c.what, err)
		}
	}

	// The two messages C sent come out by priority, in Go.
	buf := make([]byte, 16)
	for _, want := range []uint{2, 1} {
		n, prio, err := q.TryReceive(buf)
		if err != nil || prio != want || n != 2 || buf[0] != byte(want) {
			t.Errorf("TryReceive = %d, %d, %v (% x); want the 2-byte message of priority %d", n, prio, err, buf[:max(n, 0)], want)
		}
	}
}

// TestPermissionsAgreeWithC compares EACCES for another user's queue:
// opening it and unlinking it, as nobody, in C and in Go.
func TestPermissionsAgreeWithC(t *testing.T) {
	shmtest.Isolate(t)
	shmtest.RequireRoot(t)
	name := qname(t)
	create(t, name, 0, 2, 16)
	c := peer(t, shmtest.Unprivileged)
	wantOpen := answerErrno(t, ask(t, c, "mqopen %s 02 0 0 0", name))
	wantRead := answerErrno(t, ask(t, c, "mqopen %s 00 0 0 0", name))
	wantUnlink := answerErrno(t, ask(t, c, "mqunlink %s", name))
	t.Logf("C as nobody: open O_RDWR errno %d, open O_RDONLY errno %d, unlink errno %d", wantOpen, wantRead, wantUnlink)
	if wantOpen == 0 || wantRead == 0 || wantUnlink == 0 {
		t.Fatalf("C as nobody was allowed into a 0600 queue of root's; the test cannot compare refusals")
	}
	var openErr, readErr, unlinkErr error
	shmtest.DoUnprivileged(t, func() {
		var q *posixmq.Queue
		if q, openErr = posixmq.Open(name, os.O_RDWR, 0, nil); openErr == nil {
			q.Close()
		}
		if q, readErr = posixmq.Open(name, os.O_RDONLY, 0, nil); readErr == nil {
			q.Close()
		}
		unlinkErr = posixmq.Unlink(name)
	})
	for _, c := range []struct {
		what string
		want int
		err  error
	}{{"open O_RDWR", wantOpen, openErr}, {"open O_RDONLY", wantRead, readErr}, {"unlink", wantUnlink, unlinkErr}} {
		if got := errnoOf(c.err); got != c.want {
			t.Errorf("%s as nobody: Go %v (errno %d), C errno %d", c.what, c.err, got, c.want)
		}
		if c.want == int(unix.EACCES) && !errors.Is(c.err, fs.ErrPermission) {
			t.Errorf("%s as nobody: %v does not match fs.ErrPermission", c.what, c.err)
		}
	}
	// The queue is still there: root opens it.
	q, err := posixmq.Open(name, os.O_RDONLY, 0, nil)
	if err != nil {
		t.Fatalf("the queue after nobody's failed unlink: %v", err)
	}
	q.Close()
}
