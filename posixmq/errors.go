package posixmq

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

var (
	// ErrWouldBlock is the error a QueueError holds when a call would have
	// to wait: TrySend on a full queue, TryReceive on an empty one, and
	// every call on a queue opened with O_NONBLOCK. It wraps unix.EAGAIN,
	// the errno mq_send and mq_receive give there, so errors.Is(err,
	// unix.EAGAIN) works as well.
	ErrWouldBlock = fmt.Errorf("posixmq: the operation would block: %w", unix.EAGAIN)
	// ErrClosed is the error a QueueError holds for every call after
	// Close, including a call that was blocked when Close was called.
	ErrClosed = errors.New("posixmq: queue is closed")
)

// QueueError records a failed queue operation: the glibc function it stands
// for and the queue's name. Err is the errno (a syscall.Errno), or
// ErrWouldBlock or ErrClosed, so errors.Is(err, fs.ErrExist),
// fs.ErrNotExist, fs.ErrPermission, unix.EMSGSIZE and the like work.
//
// Contexts are the exception: SendContext and ReceiveContext return
// ctx.Err() itself when they give up.
type QueueError struct {
	Op   string // "mq_open", "mq_send", "mq_timedreceive", "mq_getattr", ...
	Name string // the name given to Open or Unlink
	Err  error
}

func (e *QueueError) Error() string { return e.Op + " " + e.Name + ": " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *QueueError) Unwrap() error { return e.Err }
