package shmmap

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/shmmap/shmmap/sysapi"
	"golang.org/x/sys/unix"
)

// A Queue is a System V message queue (msgget): messages of a type (a
// positive C long) and up to msgmax bytes of text, which C programs send
// with msgsnd and receive with msgrcv. Like a Segment, a Queue value holds
// no resource in this process; only Remove destroys the queue.
//
// # Waiting with a context
//
// System V msgsnd and msgrcv have no timeout and no descriptor to poll, so
// SendContext, ReceiveContext and ReceiveWith wait like this:
//
//  1. If ctx can never be done (context.Background), the call blocks in the
//     kernel as C's does, retrying after a signal (EINTR). (Through purego,
//     the implementation of Default, msgsnd and msgrcv first try with
//     IPC_NOWAIT as a raw system call, which the Go scheduler does not see,
//     and block only if they must: see package purego.)
//  2. Otherwise it first tries with IPC_NOWAIT, which costs nothing more
//     when the queue is ready.
//  3. If it must wait, the goroutine locks itself to its OS thread and
//     blocks in msgsnd or msgrcv there. When ctx is done, a helper sends
//     that thread SIGURG with tgkill, again and again (after 20µs, then
//     doubling up to every 10ms) until the call has returned, so a signal
//     sent just before the thread entered the kernel is not lost.
//     msgsnd and msgrcv are never restarted after a signal handler, even
//     with SA_RESTART (signal(7)): the call fails with EINTR, and the
//     method returns ctx.Err(). SIGURG is the signal the Go runtime itself
//     uses to preempt goroutines, which every Go program must already
//     tolerate arriving spuriously; its default action is to ignore it.
//
// # Spinning before blocking
//
// With SetSpin(n), n > 0, a call that would block is retried before any
// of this: after the first IPC_NOWAIT attempt fails because the queue is
// full (has no matching message), it is made again with IPC_NOWAIT up to n
// times, each time after yielding the CPU (sched_yield; with GOMAXPROCS 1,
// from the second time, runtime.Gosched first), and checking ctx. Only then
// does the call block as above. When the peer process shares this CPU, as
// the two ends of a round trip pinned to one CPU do, the yield lets it run
// and answer, and the next attempt finds the answer: the round trip then
// costs no blocking system call, hence none of the Go scheduler's handling
// of one (with GOMAXPROCS 1, sysmon retakes the P of a goroutine blocked
// in msgrcv and then wakes every 20µs, on the CPU the peer needs); with
// the ends on two CPUs, a peer that answers within the spin is seen
// without either end sleeping. On an idle CPU a yield returns at once, so
// a call that must wait longer spends a few microseconds polling before it
// sleeps (bench/msg_test.go, BenchmarkMsgSpinCost, measures it), as
// package ring's reads do.
//
// Queues do not spin by default: the gain is a fraction of a round trip
// (in BenchmarkMsgRoundTrip, pinned to one CPU, from 1.5–1.9× C's time to
// 1.1–1.6×, on a shared machine: each answer still costs a failed attempt
// and a sched_yield more than C's one blocking msgrcv), and the hazard
// below is only bounded by a heuristic.
//
// A yield is not always short: when another process wants this CPU,
// sched_yield hands it a whole time slice (milliseconds), while a call
// blocked in the kernel would have been woken, and run, as soon as the
// answer came; spinning through such yields made a round trip cost a
// time slice. So a yield that keeps the caller off the CPU for more than
// 500µs ends the spin (the call blocks), and calls through the same
// *Queue do not spin for the next 100ms; then they try again.
//
// The semantics are those of the blocking call: every attempt is the
// kernel's msgsnd or msgrcv, so a message is taken only by an attempt that
// succeeds, and msgtyp, MSG_EXCEPT, MSG_NOERROR and E2BIG are decided as in
// the blocking call. A spinning call is not on the kernel's list of
// waiters, though: a receiver blocked in msgrcv is handed a message in
// msgsnd before a spinning one can see it, and a blocked sender gets room
// before a spinning one; and a blocked receiver takes the first message
// that matches as it arrives, a spinning one the message msgrcv selects
// among those in the queue when it looks, as a caller arriving then would.
// A queue removed during the spin fails the next attempt with EINVAL, its
// id no longer naming a queue, which the call reports as EIDRM, the error
// of a call blocked at the removal (it had accepted the arguments before);
// so is EINVAL from the blocking call made after a spin.
//
// No message is lost or duplicated: the kernel either completes the call
// (the message is sent, or removed from the queue and copied out; it is
// then returned even if ctx ended at the same moment) or fails it with
// EINTR having changed nothing. No thread stays blocked once ctx is done,
// and the helper goroutine exists only after ctx is done, so a wait costs
// one locked OS thread while it lasts, as a blocking C call does.
// A program that asks os/signal for SIGURG will see these signals.
type Queue struct {
	sys  *System
	key  Key
	id   int
	spin atomic.Int32 // SetSpin's n: 0 blocks at once
	// spinOff is the monotime before which calls do not spin (see
	// spinLongYield), or 0.
	spinOff atomic.Int64
}

// CreateQueue creates a new message queue with permission bits perm
// (IPC_CREAT|IPC_EXCL). If a queue exists at key the error satisfies
// errors.Is(err, fs.ErrExist). With IPCPrivate it always creates one.
func CreateQueue(key Key, perm fs.FileMode) (*Queue, error) { return Default.CreateQueue(key, perm) }

// CreateQueue is CreateQueue through s's implementation.
func (s *System) CreateQueue(key Key, perm fs.FileMode) (*Queue, error) {
	return s.msgget(key, unix.IPC_CREAT|unix.IPC_EXCL|int(perm.Perm()))
}

// OpenQueue finds the existing queue at key; it never creates one. A
// missing queue gives an error satisfying errors.Is(err, fs.ErrNotExist).
func OpenQueue(key Key) (*Queue, error) { return Default.OpenQueue(key) }

// OpenQueue is OpenQueue through s's implementation.
func (s *System) OpenQueue(key Key) (*Queue, error) {
	if key == IPCPrivate {
		return nil, &QueueError{Op: "msgget", Key: key, ID: -1, Err: syscall.ENOENT}
	}
	return s.msgget(key, 0)
}

// OpenOrCreateQueue finds the queue at key or creates it with perm, and
// reports which happened.
func OpenOrCreateQueue(key Key, perm fs.FileMode) (q *Queue, created bool, err error) {
	return Default.OpenOrCreateQueue(key, perm)
}

// OpenOrCreateQueue is OpenOrCreateQueue through s's implementation.
func (s *System) OpenOrCreateQueue(key Key, perm fs.FileMode) (*Queue, bool, error) {
	for {
		q, err := s.CreateQueue(key, perm)
		if err == nil || !errors.Is(err, fs.ErrExist) {
			return q, err == nil, err
		}
		q, err = s.msgget(key, 0)
		if err == nil || !errors.Is(err, fs.ErrNotExist) {
			return q, false, err
		}
		// Removed between the two calls: try again.
	}
}

// OpenQueueID returns the queue with the given id (as ipcs -q shows it),
// checking with IPC_STAT that it exists and that the caller may read it.
func OpenQueueID(id int) (*Queue, error) { return Default.OpenQueueID(id) }

// OpenQueueID is OpenQueueID through s's implementation.
func (s *System) OpenQueueID(id int) (*Queue, error) {
	q := &Queue{sys: s, key: IPCPrivate, id: id}
	if id < 0 || id > math.MaxInt32 {
		// msgctl takes a C int: a larger id would name another queue.
		return nil, q.err("msgctl IPC_STAT", syscall.EINVAL)
	}
	ds, err := q.stat()
	if err != nil {
		return nil, err
	}
	q.key = Key(ds.Key)
	return q, nil
}

func (s *System) msgget(key Key, flag int) (*Queue, error) {
	id, err := s.impl.Msgget(int(key), flag)
	if err != nil {
		return nil, &QueueError{Op: "msgget", Key: key, ID: -1, Err: err}
	}
	return &Queue{sys: s, key: key, id: id}, nil
}

// Key returns the queue's key (IPCPrivate for a private queue or one
// opened by id whose key is private).
func (q *Queue) Key() Key { return q.key }

// ID returns the queue's id.
func (q *Queue) ID() int { return q.id }

// Send sends msg as one message of type typ, waiting while the queue is
// full. typ must be at least 1 and fit in a C long; msg may be empty and
// at most msgmax bytes (/proc/sys/kernel/msgmax). Both are EINVAL
// otherwise. If the queue is removed while Send waits the error matches
// unix.EIDRM.
func (q *Queue) Send(typ int64, msg []byte) error {
	return q.SendContext(context.Background(), typ, msg)
}

// SendContext is Send that gives up, returning ctx.Err(), when ctx is
// done; the message is then not sent. See Queue for how it waits.
func (q *Queue) SendContext(ctx context.Context, typ int64, msg []byte) error {
	return q.wait(ctx, "msgsnd", unix.EAGAIN, func(flag int) error {
		return q.sys.impl.Msgsnd(q.id, typ, msg, flag)
	})
}

// TrySend sends msg if the queue has room now, and returns an error
// matching ErrWouldBlock (and unix.EAGAIN) otherwise.
func (q *Queue) TrySend(typ int64, msg []byte) error {
	if err := q.sys.impl.Msgsnd(q.id, typ, msg, unix.IPC_NOWAIT); err != nil {
		if err == syscall.EAGAIN {
			return q.err("msgsnd", queueWouldBlock{syscall.EAGAIN})
		}
		return q.err("msgsnd", err)
	}
	return nil
}

// ReceiveOpts are msgrcv's choices beyond the type.
type ReceiveOpts struct {
	// Except (MSG_EXCEPT), with a positive type, takes the first message
	// whose type is not that type. It has no effect with a type of 0 or
	// less, as in C.
	Except bool
	// Truncate (MSG_NOERROR) receives a message longer than the buffer,
	// cut to the buffer's length; the rest is lost. Without it such a
	// message is an error matching unix.E2BIG and stays in the queue.
	Truncate bool
	// NoWait (IPC_NOWAIT) returns an error matching ErrWouldBlock (and
	// unix.ENOMSG) at once if no message matches, instead of waiting.
	NoWait bool
}

// Receive removes a message from the queue and copies its text into buf,
// waiting until one matches typ: with typ 0 the first message, with typ >
// 0 the first of type typ, with typ < 0 the first of the lowest type not
// above -typ. It returns the message's type and length. A message longer
// than buf is an error matching unix.E2BIG and stays queued (see
// ReceiveOpts.Truncate). If the queue is removed while Receive waits the
// error matches unix.EIDRM.
func (q *Queue) Receive(buf []byte, typ int64) (mtype int64, n int, err error) {
	return q.ReceiveWith(context.Background(), buf, typ, ReceiveOpts{})
}

// ReceiveContext is Receive that gives up, returning ctx.Err(), when ctx
// is done; no message is then taken. See Queue for how it waits.
func (q *Queue) ReceiveContext(ctx context.Context, buf []byte, typ int64) (mtype int64, n int, err error) {
	return q.ReceiveWith(ctx, buf, typ, ReceiveOpts{})
}

// TryReceive is Receive that returns an error matching ErrWouldBlock (and
// unix.ENOMSG, msgrcv's errno for it) if no message matches now.
func (q *Queue) TryReceive(buf []byte, typ int64) (mtype int64, n int, err error) {
	return q.ReceiveWith(context.Background(), buf, typ, ReceiveOpts{NoWait: true})
}

// ReceiveWith is ReceiveContext with the choices in opts; with
// opts.NoWait it never waits and ctx is only checked first.
func (q *Queue) ReceiveWith(ctx context.Context, buf []byte, typ int64, opts ReceiveOpts) (mtype int64, n int, err error) {
	flag := 0
	if opts.Except {
		flag |= sysapi.MSG_EXCEPT
	}
	if opts.Truncate {
		flag |= sysapi.MSG_NOERROR
	}
	if opts.NoWait {
		if err := ctx.Err(); err != nil {
			return 0, 0, err
		}
		mtype, n, err := q.sys.impl.Msgrcv(q.id, buf, typ, flag|unix.IPC_NOWAIT)
		if err != nil {
			if err == syscall.ENOMSG {
				err = queueWouldBlock{syscall.ENOMSG}
			}
			return 0, 0, q.err("msgrcv", err)
		}
		return mtype, n, nil
	}
	err = q.wait(ctx, "msgrcv", unix.ENOMSG, func(f int) error {
		var e error
		mtype, n, e = q.sys.impl.Msgrcv(q.id, buf, typ, flag|f)
		return e
	})
	if err != nil {
		return 0, 0, err
	}
	return mtype, n, nil
}

// wait runs call (msgsnd or msgrcv with the flags it is given ORed in)
// until it completes or ctx is done, as Queue's documentation describes.
// busy is the errno of the IPC_NOWAIT call when it would have to wait.
func (q *Queue) wait(ctx context.Context, op string, busy syscall.Errno, call func(flag int) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	spins := q.spins()
	if spins > 0 && q.spinPaused() {
		spins = 0
	}
	if ctx.Done() != nil || spins > 0 {
		// Without a context and without spinning the blocking call below
		// is the first: through purego it makes its own IPC_NOWAIT attempt.
		if done, err := q.spinTry(ctx, op, spins, busy, call); done {
			return err
		}
	}
	if ctx.Done() == nil {
		for {
			err := call(0)
			if err != syscall.EINTR {
				if spins > 0 {
					err = removed(err)
				}
				return q.wrap(op, err)
			}
		}
	}

	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	pid, tid := unix.Getpid(), unix.Gettid()
	returned := make(chan struct{})
	interrupted := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(interrupted)
		t := time.NewTimer(time.Hour)
		defer t.Stop()
		for d := 20 * time.Microsecond; ; d = min(2*d, 10*time.Millisecond) {
			select {
			case <-returned:
				return
			default:
			}
			// The thread is locked to this call's goroutine until
			// interrupted is closed, so the signal reaches no one else.
			unix.Tgkill(pid, tid, unix.SIGURG)
			t.Reset(d)
			select {
			case <-returned:
				return
			case <-t.C:
			}
		}
	})
	var err error
	for {
		if err = ctx.Err(); err != nil {
			break
		}
		err = call(0)
		if err != syscall.EINTR {
			err = q.wrap(op, removed(err))
			break
		}
	}
	close(returned)
	if !stop() {
		<-interrupted // the helper ran: wait until it sends no more
	}
	return err
}

// wrap returns nil for nil and a *QueueError for an errno.
func (q *Queue) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return q.err(op, err)
}

// Stat returns the queue's IPC_STAT information.
func (q *Queue) Stat() (*QueueInfo, error) {
	ds, err := q.stat()
	if err != nil {
		return nil, err
	}
	return queueInfoFromDS(q.id, &ds), nil
}

// SetMaxBytes sets the most bytes of message text the queue holds
// (msg_qbytes, with IPC_SET). Raising it above msgmnb
// (/proc/sys/kernel/msgmnb) needs CAP_SYS_RESOURCE (EPERM otherwise); a
// negative n, or one above what a C unsigned long holds, is EINVAL.
func (q *Queue) SetMaxBytes(n int64) error {
	if n < 0 || uint64(n) > math.MaxUint {
		return q.err("msgctl IPC_SET", syscall.EINVAL)
	}
	ds, err := q.stat()
	if err != nil {
		return err
	}
	ds.Qbytes = uint64(n)
	if _, err := q.sys.impl.Msgctl(q.id, unix.IPC_SET, &ds); err != nil {
		return q.err("msgctl IPC_SET", err)
	}
	return nil
}

// Remove destroys the queue at once (IPC_RMID), with the messages in it;
// senders and receivers waiting on it fail with EIDRM.
func (q *Queue) Remove() error {
	if _, err := q.sys.impl.Msgctl(q.id, unix.IPC_RMID, nil); err != nil {
		return q.err("msgctl IPC_RMID", err)
	}
	return nil
}

func (q *Queue) stat() (sysapi.MsqidDS, error) {
	var ds sysapi.MsqidDS
	if _, err := q.sys.impl.Msgctl(q.id, unix.IPC_STAT, &ds); err != nil {
		return ds, q.err("msgctl IPC_STAT", err)
	}
	return ds, nil
}

func (q *Queue) err(op string, err error) error {
	return &QueueError{Op: op, Key: q.key, ID: q.id, Err: err}
}

// QueueError records an error and the operation and message queue that
// caused it. Err is the errno, so errors.Is(err, fs.ErrNotExist),
// errors.Is(err, fs.ErrExist), errors.Is(err, fs.ErrPermission) and
// errors.Is(err, unix.EIDRM) and the like work, or an error matching
// ErrWouldBlock from the Try forms.
type QueueError struct {
	Op  string // "msgget", "msgsnd", "msgrcv", "msgctl IPC_STAT", ...
	Key Key    // the queue's key (IPCPrivate if private or not known)
	ID  int    // the queue's id, -1 if not known
	Err error
}

func (e *QueueError) Error() string {
	if e.ID < 0 {
		return fmt.Sprintf("%s queue key %v: %v", e.Op, e.Key, e.Err)
	}
	return fmt.Sprintf("%s queue key %v id %d: %v", e.Op, e.Key, e.ID, e.Err)
}

// Unwrap returns the underlying error.
func (e *QueueError) Unwrap() error { return e.Err }

// queueWouldBlock is EAGAIN (a full queue) or ENOMSG (no matching
// message) from an IPC_NOWAIT call: it matches ErrWouldBlock and its errno.
type queueWouldBlock struct{ errno syscall.Errno }

func (w queueWouldBlock) Error() string {
	if w.errno == syscall.EAGAIN {
		return "shmmap: message queue is full"
	}
	return "shmmap: no matching message in the queue"
}

func (w queueWouldBlock) Is(target error) bool { return target == ErrWouldBlock || target == w.errno }
