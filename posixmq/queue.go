package posixmq

import (
	"context"
	"io/fs"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/shmmap/shmmap/purego"
	"github.com/shmmap/shmmap/sysapi"
	"golang.org/x/sys/unix"
)

// PrioMax bounds message priorities: a priority is 0 to PrioMax-1, and
// the highest is received first (MQ_PRIO_MAX on Linux).
const PrioMax = sysapi.MQ_PRIO_MAX

// Attr is struct mq_attr. Each field is a C long, which int matches on
// every Linux architecture.
type Attr struct {
	Flags   int // 0 or O_NONBLOCK, as given to Open; ignored by Open
	MaxMsg  int // mq_maxmsg: most messages in the queue
	MsgSize int // mq_msgsize: largest message, in bytes
	CurMsgs int // mq_curmsgs: messages in the queue now; ignored by Open
}

// Queue is an open POSIX message queue: a message queue descriptor of
// this process. Its methods are safe for concurrent use.
type Queue struct {
	name     string
	nonblock bool // the caller opened it with O_NONBLOCK
	// base is fd as a waiter, made by the first call that waits (so a
	// queue no call waits on is never registered with the poller, whose
	// wake-ups it would otherwise take: see getWaiter); never in all.
	// Once it exists, its file owns fd; until then, cleanup closes fd if
	// q is dropped unclosed.
	base    *waiter
	baseErr error       // why fd cannot be a waiter (the poller refused it)
	waited  atomic.Bool // base exists: see do
	cleanup runtime.Cleanup

	// fd is the descriptor Open got, on which Send and Receive make
	// their first attempt (see attempt.go and do); fdmu is read-locked
	// around each such attempt, and Close write-locks it to set fdClosed
	// before it closes fd, so that an attempt never uses the number once
	// it is closed (and perhaps reused).
	fd       int
	fdmu     sync.RWMutex
	fdClosed bool

	mu     sync.Mutex
	closed bool
	idle   []*waiter            // waiter descriptors ready for reuse
	all    map[*waiter]struct{} // every dup, idle or in use
}

// Open is mq_open(3): it opens the queue name, which must start with a
// slash (glibc's rule; the kernel then refuses an empty name, another
// slash, "." and "..", and names longer than NAME_MAX). flag holds the
// access mode (os.O_RDONLY, os.O_WRONLY or os.O_RDWR) and os.O_CREATE,
// os.O_EXCL and O_NONBLOCK as for mq_open. With os.O_CREATE a missing queue
// is created with the permission bits perm (less the umask) and attr's
// MaxMsg and MsgSize, or the system's defaults when attr is nil; perm and
// attr are ignored otherwise.
//
// Without O_NONBLOCK, Send and Receive wait as mq_send and mq_receive do;
// with it they fail at once with ErrWouldBlock (unix.EAGAIN). Either way
// the descriptor itself is non-blocking, so that waits happen in the Go
// runtime's poller, and TrySend and TryReceive never block.
//
// Errors are *QueueError with Op "mq_open", wrapping the errno:
// errors.Is(err, fs.ErrExist), fs.ErrNotExist, fs.ErrPermission and
// unix.EINVAL work.
func Open(name string, flag int, perm fs.FileMode, attr *Attr) (*Queue, error) {
	var a *sysapi.MqAttr
	if attr != nil {
		a = &sysapi.MqAttr{Maxmsg: int64(attr.MaxMsg), Msgsize: int64(attr.MsgSize)}
	}
	fd, err := purego.MqOpen(name, flag|unix.O_NONBLOCK|unix.O_CLOEXEC, uint32(perm.Perm()), a)
	if err != nil {
		return nil, &QueueError{Op: "mq_open", Name: name, Err: err}
	}
	q := &Queue{name: name, nonblock: flag&unix.O_NONBLOCK != 0, fd: fd, all: map[*waiter]struct{}{}}
	// Until a call waits (see getWaiter), nothing but q owns fd.
	q.cleanup = runtime.AddCleanup(q, func(fd int) { unix.Close(fd) }, fd)
	return q, nil
}

// Unlink is mq_unlink(3): it removes the name; processes that have the
// queue open keep using it, and it is destroyed when the last one closes
// it. Names as for Open; EPERM is reported as EACCES, as glibc does.
// Errors are *QueueError with Op "mq_unlink".
func Unlink(name string) error {
	if err := purego.MqUnlink(name); err != nil {
		return &QueueError{Op: "mq_unlink", Name: name, Err: err}
	}
	return nil
}

// Name returns the name given to Open.
func (q *Queue) Name() string { return q.name }

// Send is mq_send(3): it adds msg to the queue with priority prio (0 to
// PrioMax-1), waiting while the queue is full, unless the queue was opened
// with O_NONBLOCK (ErrWouldBlock then). A message longer than the queue's
// MsgSize is EMSGSIZE; a priority from PrioMax up is EINVAL; a queue opened
// O_RDONLY is EBADF.
func (q *Queue) Send(msg []byte, prio uint) error {
	return q.send("mq_send", context.Background(), msg, prio, !q.nonblock)
}

// SendContext is mq_timedsend(3) with ctx's deadline: Send that gives up
// when ctx is done, returning ctx.Err(). It never adds the message once it
// has returned an error. Like mq_timedsend it first tries to send without
// waiting, so it may succeed when ctx is already done.
func (q *Queue) SendContext(ctx context.Context, msg []byte, prio uint) error {
	return q.send("mq_timedsend", ctx, msg, prio, !q.nonblock)
}

// TrySend is Send that never waits: on a full queue it returns an error
// matching ErrWouldBlock (and unix.EAGAIN).
func (q *Queue) TrySend(msg []byte, prio uint) error {
	return q.send("mq_send", context.Background(), msg, prio, false)
}

// Receive is mq_receive(3): it removes the oldest message of the highest
// priority from the queue, copies it into buf and returns its length and
// priority, waiting while the queue is empty, unless the queue was opened
// with O_NONBLOCK (ErrWouldBlock then). buf must hold at least the queue's
// MsgSize bytes (see Attr), or the call fails with EMSGSIZE whatever the
// length of the next message. A queue opened O_WRONLY is EBADF.
func (q *Queue) Receive(buf []byte) (n int, prio uint, err error) {
	return q.receive("mq_receive", context.Background(), buf, !q.nonblock)
}

// ReceiveContext is mq_timedreceive(3) with ctx's deadline: Receive that
// gives up when ctx is done, returning ctx.Err(). A message is either
// returned or left in the queue, never lost: when ctx ends as a message
// arrives, either ReceiveContext returns it or a later receive finds it.
// Like mq_timedreceive it first tries without waiting, so it may succeed
// when ctx is already done.
func (q *Queue) ReceiveContext(ctx context.Context, buf []byte) (n int, prio uint, err error) {
	return q.receive("mq_timedreceive", ctx, buf, !q.nonblock)
}

// TryReceive is Receive that never waits: on an empty queue it returns an
// error matching ErrWouldBlock (and unix.EAGAIN).
func (q *Queue) TryReceive(buf []byte) (n int, prio uint, err error) {
	return q.receive("mq_receive", context.Background(), buf, false)
}

// Attr is mq_getattr(3): the queue's limits and the number of messages in
// it now. Flags is O_NONBLOCK if the queue was opened with it, and 0
// otherwise.
func (q *Queue) Attr() (Attr, error) {
	var a sysapi.MqAttr
	var err error
	q.fdmu.RLock()
	if q.fdClosed {
		err = ErrClosed
	} else {
		a, err = purego.MqGetattr(q.fd)
	}
	q.fdmu.RUnlock()
	if err != nil {
		return Attr{}, q.err("mq_getattr", err)
	}
	attr := Attr{MaxMsg: int(a.Maxmsg), MsgSize: int(a.Msgsize), CurMsgs: int(a.Curmsgs)}
	if q.nonblock {
		attr.Flags = unix.O_NONBLOCK
	}
	return attr, nil
}

// Close is mq_close(3): it closes the descriptor. Calls blocked in Send,
// Receive and their Context forms return at once with ErrClosed, without
// having sent or received anything; every later call returns ErrClosed,
// Close included. The queue itself stays until it is unlinked and closed
// everywhere.
func (q *Queue) Close() error {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return q.err("mq_close", ErrClosed)
	}
	q.closed = true
	waiters, base := q.all, q.base
	q.all, q.idle = nil, nil
	q.mu.Unlock()
	for w := range waiters {
		w.file.Close() // wakes a call waiting on it with os.ErrClosed
	}
	q.fdmu.Lock() // waits for attempts in progress (they never block)
	q.fdClosed = true
	q.fdmu.Unlock()
	var err error
	if base != nil {
		err = base.file.Close() // wakes a call waiting on it, and closes fd
	} else {
		q.cleanup.Stop()
		err = unix.Close(q.fd)
	}
	if err != nil {
		return q.err("mq_close", err)
	}
	return nil
}

// String describes the queue for debugging.
func (q *Queue) String() string { return "posixmq.Queue(" + q.name + ")" }

func (q *Queue) err(op string, err error) error {
	return &QueueError{Op: op, Name: q.name, Err: err}
}
