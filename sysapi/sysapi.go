// Package sysapi is the contract between shmmap and its two implementations
// of the System V shared memory, semaphore and message queue calls, mmap
// and the POSIX shared memory and message queue calls.
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

	// Msgget is msgget(2): the identifier of the message queue at key,
	// created if flag has IPC_CREAT (with the permission bits of flag).
	Msgget func(key int, flag int) (id int, err error)
	// Msgsnd is msgsnd(2): it sends msg as one message of type mtype. The
	// implementation builds C's struct msgbuf (a long mtype followed by the
	// text) and passes msgsz = len(msg). mtype must be at least 1 (EINVAL
	// otherwise, from the kernel) and, where a C long has 32 bits, fit in
	// one (EINVAL otherwise, from the implementation).
	Msgsnd func(id int, mtype int64, msg []byte, flag int) error
	// Msgrcv is msgrcv(2) with msgsz = len(buf): it removes a message from
	// the queue, copies its text into buf and returns its type and length.
	// msgtyp 0 takes the first message, msgtyp > 0 the first of that type
	// (with MSG_EXCEPT the first of another type), msgtyp < 0 the first of
	// the lowest type at most -msgtyp; with MSG_COPY msgtyp is an index.
	// A message longer than buf is E2BIG and stays queued, unless flag has
	// MSG_NOERROR: it is then truncated to len(buf). On failure Msgrcv
	// returns 0, -1 and the errno. msgtyp must fit in a C long (EINVAL).
	Msgrcv func(id int, buf []byte, msgtyp int64, flag int) (mtype int64, n int, err error)
	// Msgctl is msgctl(2) for IPC_STAT, MSG_STAT and MSG_STAT_ANY (which
	// fill desc; the last two take an index for id and return the queue's
	// id), IPC_SET (which reads desc.Uid, desc.Gid, desc.Mode and
	// desc.Qbytes) and IPC_RMID (desc may be nil). Other commands are
	// EINVAL; IPC_INFO and MSG_INFO are MsgctlInfo.
	Msgctl func(id int, cmd int, desc *MsqidDS) (result int, err error)
	// MsgctlInfo is msgctl(2) with IPC_INFO or MSG_INFO: it fills info and
	// returns the highest index in use (0 when there are no queues).
	MsgctlInfo func(cmd int, info *Msginfo) (maxIndex int, err error)

	// MqOpen is glibc's mq_open(3): a name without a leading slash (or with
	// a NUL byte) is EINVAL, and mq_open(2) gets the name after the slash.
	// mode and attr are passed only when flag has O_CREAT; a nil attr
	// creates the queue with the defaults (/proc/sys/fs/mqueue). The
	// descriptor, closed with Close, is a file descriptor with FD_CLOEXEC.
	MqOpen func(name string, flag int, mode uint32, attr *MqAttr) (mqd int, err error)
	// MqUnlink is glibc's mq_unlink(3): names as for MqOpen, and EPERM is
	// reported as EACCES.
	MqUnlink func(name string) error
	// MqTimedsend is mq_timedsend(3): send msg with priority prio (below
	// MQ_PRIO_MAX), waiting while the queue is full until the absolute
	// CLOCK_REALTIME deadline abstime (ETIMEDOUT), or forever if abstime is
	// nil: mq_send(3).
	MqTimedsend func(mqd int, msg []byte, prio uint, abstime *unix.Timespec) error
	// MqTimedreceive is mq_timedreceive(3): remove the oldest message of
	// the highest priority into buf, which must hold mq_msgsize bytes
	// (EMSGSIZE otherwise), waiting as MqTimedsend does; a nil abstime is
	// mq_receive(3). On failure it returns -1, 0 and the errno.
	MqTimedreceive func(mqd int, buf []byte, abstime *unix.Timespec) (n int, prio uint, err error)
	// MqGetattr is mq_getattr(3).
	MqGetattr func(mqd int) (attr MqAttr, err error)
	// MqSetattr is mq_setattr(3): it sets the descriptor's O_NONBLOCK from
	// attr.Flags (any other flag is EINVAL; the other fields are ignored)
	// and returns the attributes from before.
	MqSetattr func(mqd int, attr MqAttr) (old MqAttr, err error)
	// MqNotify is mq_notify(3) for SIGEV_NONE and SIGEV_SIGNAL; a nil sev
	// removes the caller's registration. See Sigevent.
	MqNotify func(mqd int, sev *Sigevent) error

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
