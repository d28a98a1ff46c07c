package purego

import (
	"unsafe"

	"github.com/shmmap/shmmap/sysapi"
	"golang.org/x/sys/unix"
)

// How Msgsnd and Msgrcv call the kernel
//
// A Go system call that may block (syscall.Syscall) tells the scheduler it
// is leaving (entersyscall) and asks for its P back on return
// (exitsyscall); while it is out, the runtime's monitor thread (sysmon)
// may take the P away and start another thread to run it, and keeps
// waking every 20µs while it does so. C pays none of this. A call that
// cannot block is better made as a raw system call, which the scheduler
// does not see: the kernel returns at once, as from any short instruction
// sequence.
//
// So a msgsnd or msgrcv without IPC_NOWAIT first goes to the kernel with
// IPC_NOWAIT added, as a raw system call. If the queue has room (a message
// that matches), that call did what the blocking one would have done, and
// returns its result, error or not. Only if it fails with EAGAIN (msgsnd,
// queue full) or ENOMSG (msgrcv, no match) - the two errnos IPC_NOWAIT
// adds, which the blocking call would have waited through - is the call
// made again as the caller asked, through syscall.Syscall, and may block.
// The kernel's semantics are those of the one blocking call: the message
// ordering, msgtyp and MSG_EXCEPT selection, MSG_NOERROR truncation, E2BIG,
// EIDRM and EINVAL are decided in the same way by either call, and a call
// that must wait joins the kernel's queue of waiters only in the second
// call, as a C caller arriving a moment later would. The only visible
// difference is in strace: a msgrcv that waits shows an ENOMSG first.
//
// A call with IPC_NOWAIT never blocks, so it is made once, raw. msgrcv with
// MSG_COPY is made once as given (through syscall.Syscall): the kernel
// refuses MSG_COPY without IPC_NOWAIT (EINVAL), which adding the flag
// would hide.
//
// The raw call copies at most the message's text between user and kernel
// memory, which is short for any text up to rawLimit bytes (msgmax is
// 8 KiB by default); a longer one is tried through syscall.Syscall
// instead, so that a copy of megabytes does not hold the P unseen.

// rawLimit is the longest text (msgsz) for which the IPC_NOWAIT attempt is
// a raw system call.
const rawLimit = 64 << 10

// smallMsg is the longest text Msgsnd and Msgrcv pass in a struct msgbuf
// on the goroutine's stack; longer ones take a buffer from msgBufs. (A
// goroutine's stack does not move while it is in a system call.)
const smallMsg = 256

// smallMsgbuf is C's struct msgbuf with room for smallMsg bytes of text:
// a C long (a Go int on Linux) and the text right after it.
type smallMsgbuf struct {
	mtype int
	text  [smallMsg]byte
}

// msgsnd is msgsnd(2) of the n-byte text of the struct msgbuf at m, made
// as described above.
func msgsnd(id int, m unsafe.Pointer, n int, flag int) error {
	var e unix.Errno
	if n <= rawLimit {
		_, _, e = unix.RawSyscall6(unix.SYS_MSGSND, uintptr(id), uintptr(m), uintptr(n), uintptr(flag|unix.IPC_NOWAIT), 0, 0)
	} else {
		_, _, e = unix.Syscall6(unix.SYS_MSGSND, uintptr(id), uintptr(m), uintptr(n), uintptr(flag|unix.IPC_NOWAIT), 0, 0)
	}
	if e == unix.EAGAIN && flag&unix.IPC_NOWAIT == 0 {
		_, _, e = unix.Syscall6(unix.SYS_MSGSND, uintptr(id), uintptr(m), uintptr(n), uintptr(flag), 0, 0)
	}
	if e != 0 {
		return e
	}
	return nil
}

// msgrcv is msgrcv(2) into the struct msgbuf at m with msgsz n, made as
// described above; it returns the length of the text received.
func msgrcv(id int, m unsafe.Pointer, n int, typ int, flag int) (int, error) {
	var r uintptr
	var e unix.Errno
	switch {
	case flag&sysapi.MSG_COPY != 0:
		r, _, e = unix.Syscall6(unix.SYS_MSGRCV, uintptr(id), uintptr(m), uintptr(n), uintptr(typ), uintptr(flag), 0)
		if e != 0 {
			return -1, e
		}
		return int(r), nil
	case n <= rawLimit:
		r, _, e = unix.RawSyscall6(unix.SYS_MSGRCV, uintptr(id), uintptr(m), uintptr(n), uintptr(typ), uintptr(flag|unix.IPC_NOWAIT), 0)
	default:
		r, _, e = unix.Syscall6(unix.SYS_MSGRCV, uintptr(id), uintptr(m), uintptr(n), uintptr(typ), uintptr(flag|unix.IPC_NOWAIT), 0)
	}
	if e == unix.ENOMSG && flag&unix.IPC_NOWAIT == 0 {
		r, _, e = unix.Syscall6(unix.SYS_MSGRCV, uintptr(id), uintptr(m), uintptr(n), uintptr(typ), uintptr(flag), 0)
	}
	if e != 0 {
		return -1, e
	}
	return int(r), nil
}
