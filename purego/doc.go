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
//
// # Calls that may block
//
// Msgsnd and Msgrcv without IPC_NOWAIT, and MqTimedsend and MqTimedreceive
// without a deadline, give the same results as the one C call, but reach
// the kernel in up to two system calls: first the same call that cannot
// wait (IPC_NOWAIT added; for the mq calls, the absolute deadline 0, which
// the kernel answers at once with ETIMEDOUT instead of sleeping) as a raw
// system call, and, only if that found the queue full (or no message), the
// call as given through syscall.Syscall, which may block. A Go system call
// that may block costs the scheduler's entersyscall and exitsyscall, and
// while it blocks the runtime's sysmon may take its P away and then poll
// every 20µs for a while; a call that finds the queue ready pays none of
// it. The kernel decides everything (which message, its type and order,
// truncation, E2BIG, EIDRM, permissions) the same way in either call, and a
// caller that must wait joins the queue's waiters in the second call, as a
// C caller arriving a moment later would; only strace shows the extra
// attempt. msgrcv with MSG_COPY, which the kernel refuses without
// IPC_NOWAIT, and the mq calls with a deadline (whose validity the kernel
// checks first) are made once, as given. See msgcall.go and mqcall.go.
// cshim calls glibc once, as C does; the conformance suite checks that
// both give the same answers.
package purego
