//go:build amd64 || arm64 || riscv64 || ppc64 || ppc64le || s390x || loong64 || mips64 || mips64le

package purego

import "golang.org/x/sys/unix"

// On 64-bit architectures the timed calls take struct __kernel_timespec.
const (
	sysMqTimedsend    = unix.SYS_MQ_TIMEDSEND
	sysMqTimedreceive = unix.SYS_MQ_TIMEDRECEIVE
)
