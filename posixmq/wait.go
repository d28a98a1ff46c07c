package posixmq

import (
	"context"
	"errors"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

var (
	// noDeadline clears a deadline.
	noDeadline time.Time
	// past is a deadline long gone: setting it wakes a waiter at once.
	past = time.Unix(1, 0)
)

// maxIdle is how many waiter descriptors a queue keeps for reuse.
const maxIdle = 4

// A waiter is a descriptor of the queue on which one call at a time waits
// in the poller: Open's own (the attempts that do not wait use it through
// RawConn.Control, which neither takes its read or write lock nor heeds
// its deadlines), or a dup of it (the same open file description). Each
// waiting call has its own because read and write deadlines belong to an
// *os.File, and the poller lets only one call at a time wait for reading
// on a file: with one each, waits neither serialise nor share a deadline,
// and a queue with one waiter at a time needs no dup.
type waiter struct {
	file *os.File
	conn syscall.RawConn
}

// getWaiter returns an idle waiter, or a new one.
func (q *Queue) getWaiter() (*waiter, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return nil, ErrClosed
	}
	if n := len(q.idle); n > 0 {
		w := q.idle[n-1]
		q.idle = q.idle[:n-1]
		return w, nil
	}
	var fd int
	var err error
	if cerr := q.conn.Control(func(s uintptr) { fd, err = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0) }); cerr != nil {
		return nil, ErrClosed
	}
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), q.name)
	conn, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	w := &waiter{file: f, conn: conn}
	q.all[w] = struct{}{}
	return w, nil
}

// putWaiter returns w for reuse, clearing its deadlines if dirty.
func (q *Queue) putWaiter(w *waiter, dirty bool) {
	if dirty {
		w.file.SetDeadline(noDeadline) // fails only once closed
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return // Close closed it
	}
	if w == q.base || len(q.idle) < maxIdle {
		q.idle = append(q.idle, w)
		return
	}
	delete(q.all, w)
	w.file.Close()
}

func (q *Queue) isClosed() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.closed
}

// send runs mq_send on the queue: wait tells whether to wait while full.
func (q *Queue) send(op string, ctx context.Context, msg []byte, prio uint, wait bool) error {
	return q.do(op, ctx, true, wait, func(fd int) error { return trySend(fd, msg, prio) })
}

// receive runs mq_receive on the queue: wait tells whether to wait while
// empty.
func (q *Queue) receive(op string, ctx context.Context, buf []byte, wait bool) (int, uint, error) {
	var n int
	var prio uint
	err := q.do(op, ctx, false, wait, func(fd int) error {
		var err error
		n, prio, err = tryReceive(fd, buf)
		return err
	})
	if err != nil {
		return 0, 0, err
	}
	return n, prio, nil
}

// do runs attempt, one mq_timedsend or mq_timedreceive on the
// non-blocking descriptor it is given, once; if that fails with EAGAIN and
// wait is set it waits in the poller until attempt succeeds or fails
// otherwise, or ctx ends.
func (q *Queue) do(op string, ctx context.Context, write, wait bool, attempt func(fd int) error) error {
	var err error
	for {
		if cerr := q.conn.Control(func(fd uintptr) { err = attempt(int(fd)) }); cerr != nil {
			return q.err(op, ErrClosed)
		}
		if err != unix.EINTR {
			break
		}
	}
	switch {
	case err == nil:
		return nil
	case err != unix.EAGAIN:
		return q.err(op, err)
	case !wait:
		return q.err(op, ErrWouldBlock)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return q.wait(op, ctx, write, attempt)
}

// wait repeats attempt each time the poller reports the queue readable
// (writable, if write) until it stops failing with EAGAIN. ctx's deadline
// becomes the waiter's read (write) deadline, and ctx's end sets that
// deadline to the past, which wakes the wait. A message is taken only by
// an attempt that succeeds, and the poller calls none once the deadline
// has passed, so a wait that ends with ctx.Err() has taken nothing.
func (q *Queue) wait(op string, ctx context.Context, write bool, attempt func(fd int) error) error {
	w, err := q.getWaiter()
	if err != nil {
		return q.err(op, err)
	}
	setDeadline := w.file.SetReadDeadline
	if write {
		setDeadline = w.file.SetWriteDeadline
	}
	dirty := false
	if d, ok := ctx.Deadline(); ok {
		setDeadline(d)
		dirty = true
	}
	var stop func() bool
	var fired chan struct{}
	if ctx.Done() != nil {
		fired = make(chan struct{})
		stop = context.AfterFunc(ctx, func() {
			setDeadline(past)
			close(fired)
		})
		dirty = true
	}
	var aerr error
	body := func(fd uintptr) bool {
		for {
			aerr = attempt(int(fd))
			if aerr != unix.EINTR {
				return aerr != unix.EAGAIN
			}
		}
	}
	if write {
		err = w.conn.Write(body)
	} else {
		err = w.conn.Read(body)
	}
	if stop != nil && !stop() {
		<-fired // the deadline is set: let it be, then clear it
	}
	q.putWaiter(w, dirty)
	switch {
	case err == nil && aerr == nil:
		return nil
	case err == nil:
		return q.err(op, aerr)
	case errors.Is(err, os.ErrDeadlineExceeded):
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		// The clock passed the deadline a moment before ctx's timer.
		return context.DeadlineExceeded
	case q.isClosed():
		return q.err(op, ErrClosed)
	}
	return q.err(op, err)
}
