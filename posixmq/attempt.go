package posixmq

import (
	"math"
	"unsafe"

	"github.com/shmmap/shmmap/purego"
	"golang.org/x/sys/unix"
)

// call is one mq_send (write) or mq_receive on the queue: its arguments,
// and the results of its last attempt.
type call struct {
	write bool
	buf   []byte // the message, or the buffer to receive into
	prio  uint   // the message's priority (a send's, or the one received)
	n     int    // the length received
	err   error  // the attempt's errno, or nil
}

// attempt makes one trySend or tryReceive of c on fd.
func (c *call) attempt(fd int) {
	if c.write {
		c.err = trySend(fd, c.buf, c.prio)
		return
	}
	c.n, c.prio, c.err = tryReceive(fd, c.buf)
}

// rawLimit is the largest message (receive buffer) that trySend
// (tryReceive) copies in a raw system call.
const rawLimit = 64 << 10

// trySend is one mq_send on the queue's descriptor, which is always
// O_NONBLOCK: the kernel never sleeps in it. So, for messages of up to
// rawLimit bytes (a copy of microseconds), it is a raw system call, which
// spares the scheduler's system call bookkeeping: a burst of goroutines
// that try and then wait does not make the runtime hand their Ps to new OS
// threads. Larger copies go through purego's ordinary system call. Both
// pass no timeout, so the same call number serves 32- and 64-bit.
func trySend(fd int, msg []byte, prio uint) error {
	if len(msg) > rawLimit {
		return purego.MqTimedsend(fd, msg, prio, nil)
	}
	if uint64(prio) > math.MaxUint32 {
		return unix.EINVAL // the C unsigned int cannot hold it
	}
	var p unsafe.Pointer
	if len(msg) > 0 {
		p = unsafe.Pointer(&msg[0])
	}
	_, _, e := unix.RawSyscall6(unix.SYS_MQ_TIMEDSEND, uintptr(fd), uintptr(p), uintptr(len(msg)), uintptr(prio), 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

// tryReceive is one mq_receive on the queue's non-blocking descriptor,
// likewise.
func tryReceive(fd int, buf []byte) (int, uint, error) {
	if len(buf) > rawLimit {
		return purego.MqTimedreceive(fd, buf, nil)
	}
	var p unsafe.Pointer
	if len(buf) > 0 {
		p = unsafe.Pointer(&buf[0])
	}
	var prio uint32
	n, _, e := unix.RawSyscall6(unix.SYS_MQ_TIMEDRECEIVE, uintptr(fd), uintptr(p), uintptr(len(buf)), uintptr(unsafe.Pointer(&prio)), 0, 0)
	if e != 0 {
		return -1, 0, e
	}
	return int(n), uint(prio), nil
}
