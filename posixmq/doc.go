// Package posixmq implements POSIX message queues that interoperate with
// glibc's mq_open, mq_send, mq_receive, mq_timedsend, mq_timedreceive,
// mq_getattr and mq_unlink, in pure Go (system calls through package
// purego; no cgo, so it builds with CGO_ENABLED=0). A queue is the
// kernel's: a Go process and a C process open the same name and exchange
// messages, and priorities, limits and counts are the ones C sees.
//
// # Names
//
// Open and Unlink follow glibc: the name must start with a slash, which is
// stripped, and what follows goes to mq_open(2); so "/jobs" is C's
// mq_open("/jobs", ...). A name without the leading slash is EINVAL; the
// kernel refuses an empty name, one with another slash, "." and "..", and
// one longer than NAME_MAX. Queues live in the IPC namespace of the
// calling thread, and are listed under /dev/mqueue where mqueue is
// mounted.
//
// # Waiting without a thread
//
// A message queue descriptor is a file descriptor that poll(2) and epoll
// report readable while the queue holds a message and writable while it
// has room. Open therefore always opens the descriptor with O_NONBLOCK
// (whatever flag says) and wraps it in an *os.File, which registers it
// with the Go runtime's poller, as for a socket. Send and Receive first
// call mq_timedsend or mq_timedreceive once; if the queue is full (empty)
// they wait in SyscallConn().Write (Read) and call again each time the
// poller reports the queue ready, until the call stops failing with
// EAGAIN. (The poller makes one such call before it first waits, since
// readiness it saw earlier is forgotten then; so once a call has waited on
// the queue, Send and Receive without a context go to it directly and
// make that their only attempt when the queue is ready.) A blocked call costs a parked goroutine, not an OS thread: a
// thousand goroutines waiting on a thousand queues run on GOMAXPROCS
// threads and a few more.
//
// Each waiting call waits on a descriptor of its own, because deadlines
// belong to an *os.File and the poller admits one reader at a time per
// file: the first uses Open's descriptor, which is wrapped in an *os.File
// and registered with the poller only when a call first has to wait (the
// kernel wakes every poller of a queue on each send and each receive,
// whatever it waits for, so a queue this process only sends to, and never
// waits on, would otherwise wake the process at every receive at the
// other end; and if the poller refused the descriptor, that call, not
// Open, would report it), and calls that wait at the same
// time use dups of it (the same open file description, so the same queue
// and flags), which the queue keeps for reuse and closes in Close. The
// first attempt of each call goes straight to Open's descriptor under a
// read lock, which Close takes for writing before it closes the
// descriptor, so an attempt never uses a closed (perhaps reused) number;
// it takes none of the poller's locks and heeds no deadline. Since the
// descriptor is non-blocking the kernel never sleeps in an attempt, so for
// messages up to 64 KiB it is a raw system call: a burst of goroutines
// that try and then wait does not make the runtime hand their Ps to new OS
// threads. Send and Receive allocate nothing, whether they wait or not.
//
// Waiting in the poller costs more than C's blocking call: the goroutine
// parks, the scheduler polls the network without blocking and then blocks
// in epoll_pwait, and the woken goroutine makes its attempt again, so a
// call that waits makes three system calls or more where C makes one, and
// the Go scheduler parks and readies its goroutine (see BENCHMARKS.md for
// the round trip). It is the price of waits that hold no
// OS thread and of contexts that interrupt them.
//
// # Contexts
//
// SendContext and ReceiveContext set ctx's deadline as the waiting file's
// write (read) deadline, and register context.AfterFunc(ctx, ...) to set
// that deadline to the past when ctx is cancelled, which wakes the wait at
// once. They then return ctx.Err(). No message is lost or duplicated: a
// message leaves the queue only in an mq_timedreceive that succeeds, whose
// result is returned even if ctx ended meanwhile, and the poller makes no
// further call once the deadline has passed; so when ReceiveContext
// returns ctx.Err(), the message it did not take is still in the queue.
// Likewise SendContext has added its message if and only if it returns
// nil. C's ETIMEDOUT from mq_timedsend and mq_timedreceive corresponds to
// context.DeadlineExceeded. As in C, both first try without waiting, so
// they succeed when ctx is already done but the call need not wait.
//
// # O_NONBLOCK
//
// A queue opened with O_NONBLOCK keeps mq_send's and mq_receive's EAGAIN
// semantics: Send, Receive and their Context forms fail at once with an
// error matching ErrWouldBlock and unix.EAGAIN where they would wait, as
// mq_timedsend does in C on such a descriptor. TrySend and TryReceive
// behave that way on every queue. Attr reports Flags as the caller opened
// the queue.
//
// # Errors
//
// Errors are *QueueError, naming the glibc function and the queue, and
// wrapping the errno: errors.Is(err, fs.ErrExist) (EEXIST),
// fs.ErrNotExist (ENOENT), fs.ErrPermission (EACCES), unix.EMSGSIZE (a
// message longer than the queue's MsgSize, or a receive buffer shorter
// than it), unix.EINVAL (a priority from PrioMax up, bad attributes), and
// unix.EBADF (sending on a queue opened O_RDONLY, receiving on one opened
// O_WRONLY) work. After Close every call returns an error matching
// ErrClosed, and calls blocked when Close is called return with it.
package posixmq
