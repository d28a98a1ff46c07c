// Package purego implements the sysapi call set — shmget, shmat, shmdt,
// shmctl, ftok, open, read, fstat, mmap, munmap, msync, shm_open, semget,
// semop, semtimedop, semctl, msgget, msgsnd, msgrcv, msgctl, mq_open,
// mq_unlink, mq_timedsend, mq_timedreceive, mq_getattr, mq_setattr,
// mq_notify, strerror — with
// system calls through golang.org/x/sys/unix and no cgo, so it builds with
// CGO_ENABLED=0 and for every Linux architecture Go supports.
//
// Each function mirrors the C call of the same name; see package sysapi for
// the contract. Impl bundles them for code that runs over either
// implementation. ftok and strerror are computed in Go exactly as glibc does.
package purego
