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
	// c is the call waiting on this waiter, copied in for the wait and
	// out after it, and body is w.run, made once, for conn's Read and
	// Write: so a wait allocates nothing.
	c    call
	body func(fd uintptr) bool
}

// newWaiter returns the waiter of file, whose RawConn is conn.
func newWaiter(file *os.File, conn syscall.RawConn) *waiter {
	w := &waiter{file: file, conn: conn}
	w.body = w.run
	return w
}

// setDeadline sets w's write deadline (write) or read deadline to t.
func (w *waiter) setDeadline(write bool, t time.Time) {
	if write {
		w.file.SetWriteDeadline(t)
	} else {
		w.file.SetReadDeadline(t)
	}
}

// run makes w.c's attempt on fd, again after EINTR, and reports whether
// the wait is over: the attempt did not fail with EAGAIN.
func (w *waiter) run(fd uintptr) bool {
	for {
		w.c.attempt(int(fd))
		if w.c.err != unix.EINTR {
			return w.c.err != unix.EAGAIN
		}
	}
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
	if q.base == nil {
		// The first wait: fd itself becomes the waiter, and its file
		// takes over closing it.
		q.cleanup.Stop()
		f := os.NewFile(uintptr(q.fd), q.name)
		conn, err := f.SyscallConn()
		q.base = newWaiter(f, conn)
		q.waited.Store(true)
		if err == nil {
			// A descriptor the poller cannot take has no deadlines;
			// mqueue descriptors are pollable on every Linux, so this
			// is a safeguard.
			err = f.SetDeadline(noDeadline)
		}
		if err != nil {
			q.baseErr = err
			return nil, err
		}
		return q.base, nil
	}
	if q.baseErr != nil {
		return nil, q.baseErr
	}
	fd, err := unix.FcntlInt(uintptr(q.fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), q.name)
	conn, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	w := newWaiter(f, conn)
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
	c := call{write: true, buf: msg, prio: prio}
	return q.do(op, ctx, &c, wait)
}

// receive runs mq_receive on the queue: wait tells whether to wait while
// empty.
func (q *Queue) receive(op string, ctx context.Context, buf []byte, wait bool) (int, uint, error) {
	c := call{buf: buf}
	if err := q.do(op, ctx, &c, wait); err != nil {
		return 0, 0, err
	}
	return c.n, c.prio, nil
}

// do makes c's attempt, one mq_timedsend or mq_timedreceive on the
// non-blocking descriptor, once; if that fails with EAGAIN and wait is set
// it waits in the poller until an attempt succeeds or fails otherwise, or
// ctx ends.
func (q *Queue) do(op string, ctx context.Context, c *call, wait bool) error {
	if wait && ctx.Done() == nil && q.waited.Load() {
		// A queue calls have waited on before, likely to wait again:
		// the waiter's first attempt (which the poller makes before it
		// waits) is the only one, rather than the second.
		return q.wait(op, ctx, c)
	}
	for {
		q.fdmu.RLock()
		if q.fdClosed {
			q.fdmu.RUnlock()
			return q.err(op, ErrClosed)
		}
		c.attempt(q.fd)
		q.fdmu.RUnlock()
		if c.err != unix.EINTR {
			break
		}
	}
	switch {
	case c.err == nil:
		return nil
	case c.err != unix.EAGAIN:
		return q.err(op, c.err)
	case !wait:
		return q.err(op, ErrWouldBlock)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return q.wait(op, ctx, c)
}

// wait repeats c's attempt each time the poller reports the queue
// readable (writable, for a send) until it stops failing with EAGAIN.
// ctx's deadline becomes the waiter's read (write) deadline, and ctx's end
// sets that deadline to the past, which wakes the wait. A message is taken only by
// an attempt that succeeds, and the poller calls none once the deadline
// has passed, so a wait that ends with ctx.Err() has taken nothing.
func (q *Queue) wait(op string, ctx context.Context, c *call) error {
	w, err := q.getWaiter()
	if err != nil {
		return q.err(op, err)
	}
	write := c.write
	dirty := false
	if d, ok := ctx.Deadline(); ok {
		w.setDeadline(write, d)
		dirty = true
	}
	var stop func() bool
	var fired chan struct{}
	if ctx.Done() != nil {
		fired = make(chan struct{})
		stop = context.AfterFunc(ctx, func() {
			w.setDeadline(write, past)
			close(fired)
		})
		dirty = true
	}
	w.c = *c
	if write {
		err = w.conn.Write(w.body)
	} else {
		err = w.conn.Read(w.body)
	}
	*c, w.c = w.c, call{} // w keeps no reference to the caller's buffer
	if stop != nil && !stop() {
		<-fired // the deadline is set: let it be, then clear it
	}
	q.putWaiter(w, dirty)
	switch {
	case err == nil && c.err == nil:
		return nil
	case err == nil:
		return q.err(op, c.err)
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
