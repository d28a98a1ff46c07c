//go:build amd64 || arm64 || riscv64 || ppc64 || ppc64le || s390x || loong64 || mips64 || mips64le

package purego

import "golang.org/x/sys/unix"

// shmTimes returns shm_atime, shm_dtime and shm_ctime; on 64-bit
// architectures each is a single 64-bit field.
func shmTimes(ds *unix.SysvShmDesc) (atime, dtime, ctime int64) {
	return ds.Atime, ds.Dtime, ds.Ctime
}
