package purego

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// How MqTimedsend and MqTimedreceive without a deadline call the kernel
//
// As for msgsnd and msgrcv (see msgcall.go), a call that may block goes
// through syscall.Syscall, which costs the scheduler's bookkeeping and
// exposes the call to sysmon's retaking of its P, while a call that cannot
// block is cheaper as a raw system call. mq_send and mq_receive (a nil
// abstime) therefore first go to the kernel with the absolute deadline 0,
// the epoch, as a raw system call: the kernel checks the descriptor, the
// sizes and the priority as for the blocking call, and sends or receives
// at once if it can; if it would have to wait, a deadline of exactly 0
// makes it give up at once with ETIMEDOUT, without arming a timer or
// sleeping. Only then is the call made again with no deadline, through
// syscall.Syscall, and may block. (A message handed to the attempt by a
// sender in the instant it spent on the queue's wait list is received,
// not lost: the kernel returns it with success.) On an O_NONBLOCK
// descriptor the attempt fails with EAGAIN, the blocking call's answer,
// which is returned. A call with a deadline is made once, as given: the
// kernel checks the deadline before anything else (EINVAL), which an
// attempt with another deadline would skip.
//
// Messages longer than rawLimit bytes are attempted through
// syscall.Syscall, so that a long copy does not hold the P unseen.

// epoch is the absolute deadline of the attempts: the kernel returns
// ETIMEDOUT at once, without sleeping, for a deadline of zero.
var epoch kernelTimespec

// mqSend is mq_timedsend(2) of the n bytes at p with no deadline, made as
// described above.
func mqSend(mqd int, p unsafe.Pointer, n int, prio uint) error {
	var e unix.Errno
	if n <= rawLimit {
		_, _, e = unix.RawSyscall6(sysMqTimedsend, uintptr(mqd), uintptr(p), uintptr(n), uintptr(prio), uintptr(unsafe.Pointer(&epoch)), 0)
	} else {
		_, _, e = unix.Syscall6(sysMqTimedsend, uintptr(mqd), uintptr(p), uintptr(n), uintptr(prio), uintptr(unsafe.Pointer(&epoch)), 0)
	}
	if e == unix.ETIMEDOUT {
		_, _, e = unix.Syscall6(sysMqTimedsend, uintptr(mqd), uintptr(p), uintptr(n), uintptr(prio), 0, 0)
	}
	if e != 0 {
		return e
	}
	return nil
}

// mqReceive is mq_timedreceive(2) into the n bytes at p with no deadline,
// made as described above.
func mqReceive(mqd int, p unsafe.Pointer, n int) (int, uint, error) {
	var prio uint32
	var r uintptr
	var e unix.Errno
	if n <= rawLimit {
		r, _, e = unix.RawSyscall6(sysMqTimedreceive, uintptr(mqd), uintptr(p), uintptr(n), uintptr(unsafe.Pointer(&prio)), uintptr(unsafe.Pointer(&epoch)), 0)
	} else {
		r, _, e = unix.Syscall6(sysMqTimedreceive, uintptr(mqd), uintptr(p), uintptr(n), uintptr(unsafe.Pointer(&prio)), uintptr(unsafe.Pointer(&epoch)), 0)
	}
	if e == unix.ETIMEDOUT {
		r, _, e = unix.Syscall6(sysMqTimedreceive, uintptr(mqd), uintptr(p), uintptr(n), uintptr(unsafe.Pointer(&prio)), 0, 0)
	}
	if e != 0 {
		return -1, 0, e
	}
	return int(r), uint(prio), nil
}
