package pthread

import "golang.org/x/sys/unix"

// ownerPID is what Lock writes in the __owner of a mutex without an owner
// check (normal, default and adaptive): the id of this process, which is
// also that of its main thread, read once.
//
// glibc writes the locking thread's id there, but never reads it for
// these types (only pthread_mutex_lock's assert that it is 0 once the lock
// word is taken, so Unlock still clears it): it is for debuggers. Asking
// the kernel for the thread's id (gettid) costs a system call per Lock,
// several times the cost of the lock itself, while the process id says as
// much to a debugger that the mutex is held in this process, and it never
// equals the id of any thread in another process that could share the
// mutex. A Go process cannot fork without exec, so the id never changes.
var ownerPID = int32(unix.Getpid())
