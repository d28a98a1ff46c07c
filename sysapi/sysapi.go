// Package sysapi is the contract between shmmap and its two implementations
// of the System V shared memory and mmap calls.
//
// Each implementation (package cshim, which calls libc through cgo, and
// package purego, which issues the system calls through golang.org/x/sys/unix)
// exports one thin Go function per C call and a value of type Impl that
// bundles them. Code that wants to run unchanged over either implementation —
// the Go ports of the article's programs, the conformance suite, the safe API —
// takes an Impl.
//
// The functions mirror the C calls one for one: the same arguments in the same
// order, the same flags (from golang.org/x/sys/unix), the C return value as
// the first result and errno as a syscall.Errno in the error result. Where C
// returns a pointer to memory, the Go function returns a []byte whose length
// is the real size of the object (for shmat, the segment size reported by
// IPC_STAT; for mmap, the length mapped).
package sysapi

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// Impl is one implementation of the call set. Every field is set in the
// values exported by cshim and purego.
type Impl struct {
	// Name is "cshim" or "purego".
	Name string

	// Shmget is shmget(2): it returns the identifier of the System V shared
	// memory segment associated with key. flag holds IPC_CREAT, IPC_EXCL and
	// the permission bits; flag 0 never creates.
	Shmget func(key int, size int, flag int) (id int, err error)
	// Shmat is shmat(2) with a NULL address: it attaches segment id and
	// returns the attached memory, sized from IPC_STAT.
	Shmat func(id int, flag int) (data []byte, err error)
	// ShmatSize is Shmat for a caller that already knows the segment's real
	// size (from its own IPC_STAT): it skips the IPC_STAT. size must not
	// exceed the segment's size.
	ShmatSize func(id int, flag int, size int) (data []byte, err error)
	// Shmdt is shmdt(2) on memory returned by Shmat of the same Impl.
	Shmdt func(data []byte) error
	// Shmctl is shmctl(2) for the commands IPC_STAT (which fills desc) and
	// IPC_RMID (desc may be nil).
	Shmctl func(id int, cmd int, desc *ShmidDS) (result int, err error)
	// Ftok is ftok(3): it derives a System V key from an existing path and
	// the low 8 bits of proj. The key is the C key_t value, so it is negative
	// when proj&0x80 is set.
	Ftok func(path string, proj int) (key int, err error)

	// Open is open(2).
	Open func(path string, flag int, mode uint32) (fd int, err error)
	// Close is close(2).
	Close func(fd int) error
	// Read is read(2).
	Read func(fd int, p []byte) (n int, err error)
	// Fstat is fstat(2) reduced to the file size, which is all mmap needs.
	Fstat func(fd int) (size int64, err error)
	// Mmap is mmap(2) with a NULL address.
	Mmap func(fd int, offset int64, length int, prot int, flags int) (data []byte, err error)
	// Munmap is munmap(2) on memory returned by Mmap of the same Impl.
	Munmap func(data []byte) error
	// Msync is msync(2).
	Msync func(data []byte, flags int) error
	// Madvise is madvise(2).
	Madvise func(data []byte, advice int) error
	// Mlock is mlock(2).
	Mlock func(data []byte) error
	// Munlock is munlock(2).
	Munlock func(data []byte) error
	// Ftruncate is ftruncate(2).
	Ftruncate func(fd int, length int64) error

	// ShmOpen is glibc's shm_open(3): it opens /dev/shm/NAME (leading slashes
	// of name are skipped; an empty name, one containing a slash or one of
	// 260 bytes or more is EINVAL)
	// with O_NOFOLLOW|O_CLOEXEC added to flag, and reports EISDIR as EINVAL.
	ShmOpen func(name string, flag int, mode uint32) (fd int, err error)
	// ShmUnlink is glibc's shm_unlink(3): unlink /dev/shm/NAME; a name
	// ShmOpen refuses is ENOENT, and EPERM is reported as EACCES.
	ShmUnlink func(name string) error
	// MemfdCreate is memfd_create(2): an anonymous file in memory, shared
	// with child processes that inherit the descriptor.
	MemfdCreate func(name string, flags int) (fd int, err error)

	// Semget is semget(2): the identifier of the semaphore set at key,
	// created with nsems semaphores if flag has IPC_CREAT.
	Semget func(key int, nsems int, flag int) (id int, err error)
	// Semop is semop(2).
	Semop func(id int, sops []Sembuf) error
	// Semtimedop is semtimedop(2): semop that gives up with EAGAIN after
	// timeout (relative; nil waits forever).
	Semtimedop func(id int, sops []Sembuf, timeout *unix.Timespec) error
	// Semctl is semctl(2) for the commands that take or return an int:
	// GETVAL, GETPID, GETNCNT, GETZCNT, SETVAL (arg is the value) and
	// IPC_RMID.
	Semctl func(id int, num int, cmd int, arg int) (result int, err error)
	// SemctlStat is semctl(2) with IPC_STAT.
	SemctlStat func(id int, desc *SemidDS) error

	// Strerror is strerror(3): glibc's message for errno, "Unknown error N"
	// for numbers glibc has no message for.
	Strerror func(errno syscall.Errno) string
}

// ShmidDS is struct shmid_ds (with its struct ipc_perm flattened) in
// architecture-independent Go types, as filled by shmctl(IPC_STAT).
type ShmidDS struct {
	Key    int32  // shm_perm.__key
	Uid    uint32 // shm_perm.uid: owner
	Gid    uint32 // shm_perm.gid: owner's group
	Cuid   uint32 // shm_perm.cuid: creator
	Cgid   uint32 // shm_perm.cgid: creator's group
	Mode   uint32 // shm_perm.mode: permission bits plus SHM_DEST and SHM_LOCKED
	Seq    uint16 // shm_perm.__seq
	Segsz  uint64 // shm_segsz: size in bytes as requested at creation
	Atime  int64  // shm_atime: last attach, seconds since the epoch
	Dtime  int64  // shm_dtime: last detach
	Ctime  int64  // shm_ctime: creation or last IPC_SET
	Cpid   int32  // shm_cpid: creator's pid
	Lpid   int32  // shm_lpid: pid of the last shmat or shmdt
	Nattch uint64 // shm_nattch: current number of attachments
}

// Bits of ShmidDS.Mode above the permission bits (from <linux/shm.h>;
// golang.org/x/sys/unix does not define them).
const (
	SHM_DEST   = 0o1000 // IPC_RMID was called: destroyed at the last detach
	SHM_LOCKED = 0o2000 // SHM_LOCK was called: not swapped
)
