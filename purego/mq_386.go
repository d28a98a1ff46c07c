package purego

import "golang.org/x/sys/unix"

// The 32-bit mq_timedsend and mq_timedreceive take a 32-bit time_t; the
// _time64 variants (Linux 5.1) take struct __kernel_timespec.
const (
	sysMqTimedsend    = unix.SYS_MQ_TIMEDSEND_TIME64
	sysMqTimedreceive = unix.SYS_MQ_TIMEDRECEIVE_TIME64
)
