//go:build (amd64 || 386) && !race

package ring

import (
	"sync"

	"golang.org/x/sys/unix"
)

// membarrier(2) commands (linux/membarrier.h).
const (
	membarrierCmdQuery                    = 0
	membarrierCmdPrivateExpedited         = 1 << 3
	membarrierCmdRegisterPrivateExpedited = 1 << 4
)

// forceCASGate makes new gates use the compare-and-swap protocol (the
// tests use it to cover both).
var forceCASGate bool

// asymmetricGate reports whether new gates use the asymmetric protocol
// (see gate): on x86 (total store order) outside the race detector, which
// would rightly see the plain stores of busy as a race, and when this
// process could register for the expedited private membarrier.
func asymmetricGate() bool { return !forceCASGate && membarrierReady() }

var membarrierReady = sync.OnceValue(func() bool {
	cmds, _, e := unix.RawSyscall(unix.SYS_MEMBARRIER, membarrierCmdQuery, 0, 0)
	if e != 0 || cmds&membarrierCmdPrivateExpedited == 0 {
		return false // before Linux 4.14, or filtered (seccomp, gVisor)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_MEMBARRIER, membarrierCmdRegisterPrivateExpedited, 0, 0); e != 0 {
		return false
	}
	_, _, e = unix.RawSyscall(unix.SYS_MEMBARRIER, membarrierCmdPrivateExpedited, 0, 0)
	return e == 0
})

// membarrier makes every running thread of this process execute a full
// memory barrier before it returns. It cannot fail once membarrierReady
// has seen it work; should it fail anyway, the SHARED command (a grace
// period: slower, same guarantee, since Linux 4.3) stands in.
func membarrier() {
	if _, _, e := unix.Syscall(unix.SYS_MEMBARRIER, membarrierCmdPrivateExpedited, 0, 0); e != 0 {
		unix.Syscall(unix.SYS_MEMBARRIER, 1, 0, 0) // MEMBARRIER_CMD_GLOBAL
	}
}
