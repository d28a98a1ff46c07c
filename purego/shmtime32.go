//go:build 386 || arm

package purego

import "golang.org/x/sys/unix"

// shmTimes returns shm_atime, shm_dtime and shm_ctime; on 32-bit
// architectures the kernel splits each into low and high 32-bit words.
func shmTimes(ds *unix.SysvShmDesc) (atime, dtime, ctime int64) {
	join := func(lo, hi uint32) int64 { return int64(uint64(hi)<<32 | uint64(lo)) }
	return join(ds.Atime, ds.Atime_high), join(ds.Dtime, ds.Dtime_high), join(ds.Ctime, ds.Ctime_high)
}
