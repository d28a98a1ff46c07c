package purego

import "golang.org/x/sys/unix"

// The 32-bit semtimedop takes a 32-bit time_t; the _time64 variant takes
// struct __kernel_timespec.
const sysSemtimedop = unix.SYS_SEMTIMEDOP_TIME64

// kernelTimespec is struct __kernel_timespec.
type kernelTimespec struct{ Sec, Nsec int64 }

// semTimes decodes the 32-bit semid64_ds tail: sem_otime and its high
// word, sem_ctime and its high word, sem_nsems.
func semTimes(w *[8]uintptr) (otime, ctime int64, nsems uint64) {
	join := func(lo, hi uintptr) int64 { return int64(uint64(hi)<<32 | uint64(lo)) }
	return join(w[0], w[1]), join(w[2], w[3]), uint64(w[4])
}
