package purego

import (
	"syscall"
	"unsafe"

	"github.com/shmmap/shmmap/sysapi"
	"golang.org/x/sys/unix"
)

// Shmget is shmget(2). Flag 0 looks up an existing segment and never creates
// one; size 0 accepts a segment of any size.
func Shmget(key int, size int, flag int) (int, error) {
	id, err := unix.SysvShmGet(key, size, flag)
	return id, errnoOf(err)
}

// Shmat is shmat(2) with a NULL address. The returned slice covers the
// segment's real size as reported by IPC_STAT, not a size the caller asked
// for. flag is 0 (read-write) or SHM_RDONLY, optionally with SHM_EXEC.
func Shmat(id int, flag int) ([]byte, error) {
	b, err := unix.SysvShmAttach(id, 0, flag)
	return b, errnoOf(err)
}

// ShmatSize is shmat(2) with a NULL address for a caller that knows the
// segment's real size: no IPC_STAT. size must not exceed it.
func ShmatSize(id int, flag int, size int) ([]byte, error) {
	if size <= 0 {
		return nil, syscall.EINVAL
	}
	addr, _, e := unix.Syscall(unix.SYS_SHMAT, uintptr(id), 0, uintptr(flag))
	if e != 0 {
		return nil, e
	}
	// addr is memory the kernel mapped, not Go's; convert without a
	// uintptr-to-pointer expression so vet's check stays meaningful.
	p := *(*unsafe.Pointer)(unsafe.Pointer(&addr))
	return unsafe.Slice((*byte)(p), size), nil
}

// Shmdt is shmdt(2) on memory returned by Shmat.
func Shmdt(data []byte) error {
	return errnoOf(unix.SysvShmDetach(data))
}

// Shmctl is shmctl(2). For IPC_STAT it fills desc; for IPC_RMID desc may be
// nil.
func Shmctl(id int, cmd int, desc *sysapi.ShmidDS) (int, error) {
	if cmd != unix.IPC_STAT {
		r, err := unix.SysvShmCtl(id, cmd, nil)
		return r, errnoOf(err)
	}
	if desc == nil {
		return -1, syscall.EFAULT
	}
	var ds unix.SysvShmDesc
	r, err := unix.SysvShmCtl(id, cmd, &ds)
	if err != nil {
		return r, errnoOf(err)
	}
	*desc = sysapi.ShmidDS{
		// The widths of these fields differ between architectures.
		Key:    int32(ds.Perm.Key),
		Uid:    uint32(ds.Perm.Uid),
		Gid:    uint32(ds.Perm.Gid),
		Cuid:   uint32(ds.Perm.Cuid),
		Cgid:   uint32(ds.Perm.Cgid),
		Mode:   uint32(ds.Perm.Mode),
		Seq:    uint16(ds.Perm.Seq),
		Segsz:  uint64(ds.Segsz),
		Cpid:   ds.Cpid,
		Lpid:   ds.Lpid,
		Nattch: uint64(ds.Nattch),
	}
	desc.Atime, desc.Dtime, desc.Ctime = shmTimes(&ds)
	return r, nil
}

// errnoOf returns err as a syscall.Errno (unix.Errno is the same type) so
// both implementations report errors identically.
func errnoOf(err error) error {
	if err == nil {
		return nil
	}
	if e, ok := err.(syscall.Errno); ok {
		return e
	}
	return err
}
