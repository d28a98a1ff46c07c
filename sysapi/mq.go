package sysapi

// MqAttr is struct mq_attr in architecture-independent Go types. In C each
// field is a long: on a 32-bit architecture a value that does not fit in
// 32 bits cannot be passed, and the calls that take an MqAttr refuse it
// with EINVAL.
type MqAttr struct {
	Flags   int64 // mq_flags: 0 or O_NONBLOCK (the open description's, for MqGetattr and MqSetattr)
	Maxmsg  int64 // mq_maxmsg: most messages in the queue
	Msgsize int64 // mq_msgsize: largest message, in bytes
	Curmsgs int64 // mq_curmsgs: messages in the queue now
}

// Sigevent is the part of struct sigevent that mq_notify(3) reads for the
// notifications it supports without a thread: SIGEV_NONE (register, but
// send nothing) and SIGEV_SIGNAL (send signal Signo with Value as si_value
// when a message arrives in the empty queue). The registration ends when
// the notification is sent, or with mq_notify(mqd, NULL).
//
// SIGEV_THREAD, which glibc implements with a helper thread and a netlink
// socket, has no Go form here; the calls refuse it with EINVAL. Go code
// that wants to wait for a queue without a thread per waiter polls the
// queue descriptor instead: on Linux it is a file descriptor that poll(2)
// and epoll(7) report readable (POLLIN) when the queue holds a message and
// writable (POLLOUT) when it has room. The Go runtime's poller waits on it
// like on a socket: open the queue with O_NONBLOCK, wrap the descriptor
// with os.NewFile, and call MqTimedreceive (MqTimedsend) inside
// SyscallConn().Read (Write) until it stops failing with EAGAIN; the
// file's read and write deadlines then bound the wait. (Read and write on
// the descriptor itself do not carry messages: read(2) returns the
// queue's status line, as /dev/mqueue shows it.)
type Sigevent struct {
	Notify int32 // sigev_notify: SIGEV_NONE or SIGEV_SIGNAL
	Signo  int32 // sigev_signo: the signal for SIGEV_SIGNAL
	Value  int32 // sigev_value.sival_int: the signal's si_value
}

// sigev_notify values from <asm-generic/siginfo.h>, and the priority limit
// from <limits.h>, which golang.org/x/sys/unix does not define.
const (
	SIGEV_SIGNAL    = 0 // mq_notify: send a signal
	SIGEV_NONE      = 1 // mq_notify: register, but notify nothing
	SIGEV_THREAD    = 2 // mq_notify: glibc's notification function on a new thread (refused here)
	SIGEV_THREAD_ID = 4 // timers only: a signal to one thread (mq_notify refuses it)

	// MQ_PRIO_MAX bounds message priorities: 0 to MQ_PRIO_MAX-1, higher
	// received first. Linux allows 32768 levels; POSIX requires at least 32.
	MQ_PRIO_MAX = 32768
)
