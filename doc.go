// Package shmmap is a toolkit for Linux System V shared memory and
// memory-mapped files that interoperates with C byte for byte.
//
// The module is laid out by layer:
//
//   - sysapi: the contract — one Go function per C call (shmget, shmat,
//     shmdt, shmctl, ftok, open, read, fstat, mmap, munmap, msync, strerror).
//   - cshim: that contract through libc and cgo.
//   - purego: that contract through system calls (golang.org/x/sys/unix),
//     without cgo.
//   - impls: picks an implementation by name ("purego" or "cshim").
//   - procmaps: a parser for /proc/PID/maps that decodes System V segments.
//   - cmd/writer, cmd/reader, cmd/mmap: Go ports of the three C programs of
//     the article the project grew out of, run over either implementation.
//   - c-reference: those C programs, verbatim.
//
// The tests of this package (compat_test.go and its neighbours) run the C
// reference and the Go ports against each other, process by process.
package shmmap
