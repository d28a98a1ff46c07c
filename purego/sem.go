package purego

import (
	"encoding/binary"
	"syscall"
	"unsafe"

	"github.com/shmmap/shmmap/sysapi"
	"golang.org/x/sys/unix"
)

// Semget is semget(2).
func Semget(key int, nsems int, flag int) (int, error) {
	id, _, e := unix.Syscall(unix.SYS_SEMGET, uintptr(key), uintptr(nsems), uintptr(flag))
	if e != 0 {
		return -1, e
	}
	return int(id), nil
}

// Semop is semop(2), issued as semtimedop(2) without a timeout, which is
// what the kernel does for semop on every architecture.
func Semop(id int, sops []sysapi.Sembuf) error { return Semtimedop(id, sops, nil) }

// Semtimedop is semtimedop(2). timeout is relative; nil waits forever.
func Semtimedop(id int, sops []sysapi.Sembuf, timeout *unix.Timespec) error {
	var p unsafe.Pointer
	if len(sops) > 0 {
		p = unsafe.Pointer(&sops[0])
	}
	var ts *kernelTimespec
	if timeout != nil {
		ts = &kernelTimespec{Sec: int64(timeout.Sec), Nsec: int64(timeout.Nsec)}
	}
	_, _, e := unix.Syscall6(sysSemtimedop, uintptr(id), uintptr(p), uintptr(len(sops)), uintptr(unsafe.Pointer(ts)), 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

// Semctl is semctl(2) for GETVAL, GETPID, GETNCNT, GETZCNT, SETVAL and
// IPC_RMID.
func Semctl(id int, num int, cmd int, arg int) (int, error) {
	switch cmd {
	case sysapi.GETVAL, sysapi.GETPID, sysapi.GETNCNT, sysapi.GETZCNT, sysapi.SETVAL, unix.IPC_RMID:
	default:
		return -1, syscall.EINVAL
	}
	r, _, e := unix.Syscall6(unix.SYS_SEMCTL, uintptr(id), uintptr(num), uintptr(cmd), semunVal(arg), 0, 0)
	if e != 0 {
		return -1, e
	}
	return int(r), nil
}

// semunVal passes an int as the union semun argument: the kernel reads the
// union's bytes as an unsigned long, so on big-endian 64-bit machines the
// int sits in the high half.
func semunVal(v int) uintptr {
	u := uint64(uint32(int32(v)))
	if unsafe.Sizeof(uintptr(0)) == 8 && binary.NativeEndian.Uint16([]byte{0, 1}) == 1 {
		u <<= 32
	}
	return uintptr(u)
}

// semidDS is struct semid64_ds: the ipc64_perm the shm calls use, followed
// by words whose meaning depends on the architecture (see semTimes).
type semidDS struct {
	Perm unix.SysvIpcPerm
	W    [8]uintptr
}

// SemctlStat is semctl(2) with IPC_STAT.
func SemctlStat(id int, desc *sysapi.SemidDS) error {
	if desc == nil {
		return syscall.EFAULT
	}
	var ds semidDS
	_, _, e := unix.Syscall6(unix.SYS_SEMCTL, uintptr(id), 0, unix.IPC_STAT, uintptr(unsafe.Pointer(&ds)), 0, 0)
	if e != 0 {
		return e
	}
	*desc = sysapi.SemidDS{
		Key:  int32(ds.Perm.Key),
		Uid:  uint32(ds.Perm.Uid),
		Gid:  uint32(ds.Perm.Gid),
		Cuid: uint32(ds.Perm.Cuid),
		Cgid: uint32(ds.Perm.Cgid),
		Mode: uint32(ds.Perm.Mode),
		Seq:  uint16(ds.Perm.Seq),
	}
	desc.Otime, desc.Ctime, desc.Nsems = semTimes(&ds.W)
	return nil
}
