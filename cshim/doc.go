// Package cshim implements the sysapi call set by calling glibc through cgo:
// shmget, shmat, shmdt, shmctl, ftok, open, close, read, fstat, mmap, munmap,
// msync, shm_open, semget, semop, semtimedop, semctl, msgget, msgsnd, msgrcv,
// msgctl, mq_open, mq_unlink, mq_timedsend, mq_timedreceive, mq_getattr,
// mq_setattr, mq_notify and strerror, one thin Go function per C call.
//
// It exists so the same program can be run over the C library and over the
// pure-Go system calls of package purego and the two compared. errno comes
// back as a syscall.Errno. The package needs cgo; a binary built with
// CGO_ENABLED=0 cannot contain it (package impls reports that clearly).
package cshim
