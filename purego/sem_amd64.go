package purego

import "golang.org/x/sys/unix"

const sysSemtimedop = unix.SYS_SEMTIMEDOP

// kernelTimespec is struct __kernel_timespec.
type kernelTimespec struct{ Sec, Nsec int64 }

// semTimes decodes x86-64's semid64_ds tail: sem_otime, __unused1,
// sem_ctime, __unused2, sem_nsems.
func semTimes(w *[8]uintptr) (otime, ctime int64, nsems uint64) {
	return int64(w[0]), int64(w[2]), uint64(w[4])
}
