// Package csem calls glibc's POSIX semaphore functions through cgo:
// sem_open, sem_post, sem_wait, sem_trywait, sem_timedwait, sem_getvalue,
// sem_close, sem_unlink and sem_init (pshared 1, on memory the caller
// shares). The tests of package posixsem use it as the reference: its
// semaphores have the method set posixsem.Sem, so the same conformance
// suite runs unchanged over glibc and over the pure-Go protocol.
//
// The wrappers are thin: the C function's errno comes back as a
// syscall.Errno (errors.Is(err, unix.EEXIST) and the like work), C strings
// are freed, and only what Go needs is added: sem_trywait's EAGAIN is
// posixsem.ErrWouldBlock (which wraps unix.EAGAIN), WaitContext returns
// ctx.Err() when it gives up, a semaphore is posixsem.ErrClosed after
// Close, and Wait retries sem_wait on EINTR.
//
// Without cgo the package is empty.
package csem
