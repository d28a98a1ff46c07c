package purego

import "github.com/shmmap/shmmap/sysapi"

// Impl is the purego implementation of the sysapi call set.
var Impl = sysapi.Impl{
	Name:      "purego",
	Shmget:    Shmget,
	Shmat:     Shmat,
	ShmatSize: ShmatSize,
	Shmdt:     Shmdt,
	Shmctl:    Shmctl,
	Ftok:      Ftok,
	Open:      Open,
	Close:     Close,
	Read:      Read,
	Fstat:     Fstat,
	Mmap:      Mmap,
	Munmap:    Munmap,
	Msync:     Msync,
	Madvise:   Madvise,
	Mlock:     Mlock,
	Munlock:   Munlock,

	Ftruncate:   Ftruncate,
	ShmOpen:     ShmOpen,
	ShmUnlink:   ShmUnlink,
	MemfdCreate: MemfdCreate,
	Semget:      Semget,
	Semop:       Semop,
	Semtimedop:  Semtimedop,
	Semctl:      Semctl,
	SemctlStat:  SemctlStat,
	Msgget:      Msgget,
	Msgsnd:      Msgsnd,
	Msgrcv:      Msgrcv,
	Msgctl:      Msgctl,
	MsgctlInfo:  MsgctlInfo,

	MqOpen:         MqOpen,
	MqUnlink:       MqUnlink,
	MqTimedsend:    MqTimedsend,
	MqTimedreceive: MqTimedreceive,
	MqGetattr:      MqGetattr,
	MqSetattr:      MqSetattr,
	MqNotify:       MqNotify,

	Strerror: Strerror,
}
