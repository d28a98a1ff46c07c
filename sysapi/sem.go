package sysapi

// Sembuf is struct sembuf: one operation of semop(2) on one semaphore of a
// set. Its layout is the C one, so a []Sembuf is passed to the kernel as is.
type Sembuf struct {
	Num uint16 // sem_num: index in the set
	Op  int16  // sem_op: add Op (>0), wait and subtract (<0), wait for zero (0)
	Flg int16  // sem_flg: IPC_NOWAIT, SEM_UNDO
}

// SemidDS is struct semid_ds (with its struct ipc_perm flattened) in
// architecture-independent Go types, as filled by semctl(IPC_STAT).
type SemidDS struct {
	Key   int32  // sem_perm.__key
	Uid   uint32 // sem_perm.uid
	Gid   uint32 // sem_perm.gid
	Cuid  uint32 // sem_perm.cuid
	Cgid  uint32 // sem_perm.cgid
	Mode  uint32 // sem_perm.mode
	Seq   uint16 // sem_perm.__seq
	Otime int64  // sem_otime: last semop, seconds since the epoch
	Ctime int64  // sem_ctime: creation or last change by semctl
	Nsems uint64 // sem_nsems: number of semaphores in the set
}

// semctl commands and semop flags from <linux/sem.h>, which
// golang.org/x/sys/unix does not define.
const (
	GETPID   = 11     // semctl: pid of the last semop on the semaphore
	GETVAL   = 12     // semctl: value
	GETALL   = 13     // semctl: all values
	GETNCNT  = 14     // semctl: processes waiting for the value to increase
	GETZCNT  = 15     // semctl: processes waiting for the value to become 0
	SETVAL   = 16     // semctl: set the value
	SETALL   = 17     // semctl: set all values
	SEM_UNDO = 0x1000 // semop: undo the operation when the process exits
)
