package main

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// The ends of BenchmarkMsgBlockingCall, which measures what the Go runtime
// costs per system call that blocks: System V msgsnd and msgrcv made
// directly, always in the same way, rather than through an implementation
// of the contract:
//
//   - "raw": every call is a raw system call (unix.RawSyscall6), blocking
//     or not, so the scheduler never knows the goroutine left: no
//     entersyscall or exitsyscall, and sysmon never sees a P in a system
//     call. This is sound only in a program like this one, whose single
//     goroutine has nothing to hand its P to while it waits; a library
//     cannot do it (a collection would wait for the call to return).
//   - "syscall": every call goes through unix.Syscall6, as purego did
//     before its calls tried IPC_NOWAIT first.
//
// The difference between the two rows is the runtime's price of the
// blocking calls; the difference between raw and C is the rest of Go's
// code on the path.
var costImpls = map[string]bool{"raw": true, "syscall": true}

// costMsgbuf is C's struct msgbuf with room for a 64-byte text and more.
type costMsgbuf struct {
	mtype int
	text  [256]byte
}

// openCost returns the ends of System V queue id for impl "raw" or
// "syscall": it sends type out and receives type in.
func openCost(impl string, id int, out, in int64) ends {
	call := unix.Syscall6
	if impl == "raw" {
		call = unix.RawSyscall6
	}
	m := new(costMsgbuf) // one for both directions: the ends alternate
	return funcEnds{
		s: func(msg []byte) error {
			m.mtype = int(out)
			n := copy(m.text[:], msg)
			if _, _, e := call(unix.SYS_MSGSND, uintptr(id), uintptr(unsafe.Pointer(m)), uintptr(n), 0, 0, 0); e != 0 {
				return e
			}
			return nil
		},
		r: func(buf []byte) (int, error) {
			n, _, e := call(unix.SYS_MSGRCV, uintptr(id), uintptr(unsafe.Pointer(m)), uintptr(min(len(buf), len(m.text))), uintptr(in), 0, 0)
			if e != 0 {
				return 0, e
			}
			return copy(buf, m.text[:n]), nil
		},
		c: func() error { return nil }, // the benchmark removes the queue
	}
}
