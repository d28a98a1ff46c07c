//go:build arm64 || riscv64 || ppc64 || ppc64le || s390x || loong64 || mips64 || mips64le

package purego

import "golang.org/x/sys/unix"

const sysSemtimedop = unix.SYS_SEMTIMEDOP

// kernelTimespec is struct __kernel_timespec.
type kernelTimespec struct{ Sec, Nsec int64 }

// semTimes decodes the generic 64-bit semid64_ds tail: sem_otime,
// sem_ctime, sem_nsems.
func semTimes(w *[8]uintptr) (otime, ctime int64, nsems uint64) {
	return int64(w[0]), int64(w[1]), uint64(w[2])
}
