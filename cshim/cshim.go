//go:build cgo

package cshim

/*
#cgo CFLAGS: -D_FILE_OFFSET_BITS=64
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <unistd.h>

// open(2) is variadic, which cgo cannot call directly.
static int shim_open(const char *path, int flags, unsigned int mode) {
	return open(path, flags, (mode_t)mode);
}

// shim_shmid_ds flattens struct shmid_ds into fixed-size fields, because the
// glibc names (shm_perm.__key, __seq) and widths differ between
// architectures.
struct shim_shmid_ds {
	int key;
	unsigned int uid, gid, cuid, cgid, mode;
	unsigned short seq;
	unsigned long long segsz, nattch;
	long long atime, dtime, ctime;
	int cpid, lpid;
};

static int shim_shmctl_stat(int id, struct shim_shmid_ds *out) {
	struct shmid_ds ds;
	int r = shmctl(id, IPC_STAT, &ds);
	if (r == -1) return -1;
	out->key = ds.shm_perm.__key;
	out->uid = ds.shm_perm.uid;
	out->gid = ds.shm_perm.gid;
	out->cuid = ds.shm_perm.cuid;
	out->cgid = ds.shm_perm.cgid;
	out->mode = ds.shm_perm.mode;
	out->seq = ds.shm_perm.__seq;
	out->segsz = ds.shm_segsz;
	out->nattch = ds.shm_nattch;
	out->atime = ds.shm_atime;
	out->dtime = ds.shm_dtime;
	out->ctime = ds.shm_ctime;
	out->cpid = ds.shm_cpid;
	out->lpid = ds.shm_lpid;
	return r;
}

static long long shim_fstat_size(int fd) {
	struct stat st;
	if (fstat(fd, &st) == -1) return -1;
	return st.st_size;
}
*/
import "C"

import (
	"syscall"
	"unsafe"

	"github.com/shmmap/shmmap/sysapi"
	"golang.org/x/sys/unix"
)

// failed is the C (void *)-1 returned by shmat and mmap (MAP_FAILED).
const failed = ^uintptr(0)

// Shmget calls shmget(3). Flag 0 looks up an existing segment and never
// creates one; size 0 accepts a segment of any size.
func Shmget(key int, size int, flag int) (int, error) {
	id, err := C.shmget(C.key_t(key), C.size_t(size), C.int(flag))
	if id == -1 {
		return -1, err
	}
	return int(id), nil
}

// Shmat calls shmat(3) with a NULL address and returns the attached memory,
// sized from IPC_STAT (the segment's real size, not a size the caller asked
// for). If IPC_STAT fails the segment is detached again and its error
// returned.
func Shmat(id int, flag int) ([]byte, error) {
	p, err := C.shmat(C.int(id), nil, C.int(flag))
	if uintptr(p) == failed {
		return nil, err
	}
	var ds sysapi.ShmidDS
	if _, err := Shmctl(id, unix.IPC_STAT, &ds); err != nil {
		C.shmdt(p)
		return nil, err
	}
	return unsafe.Slice((*byte)(p), int(ds.Segsz)), nil
}

// ShmatSize calls shmat(3) with a NULL address for a caller that knows the
// segment's real size: no IPC_STAT. size must not exceed it.
func ShmatSize(id int, flag int, size int) ([]byte, error) {
	if size <= 0 {
		return nil, syscall.EINVAL
	}
	p, err := C.shmat(C.int(id), nil, C.int(flag))
	if uintptr(p) == failed {
		return nil, err
	}
	return unsafe.Slice((*byte)(p), size), nil
}

// Shmdt calls shmdt(3) on memory returned by Shmat.
func Shmdt(data []byte) error {
	if len(data) == 0 {
		return syscall.EINVAL
	}
	if r, err := C.shmdt(unsafe.Pointer(&data[0])); r == -1 {
		return err
	}
	return nil
}

// Shmctl calls shmctl(3). For IPC_STAT it fills desc; for IPC_RMID desc may
// be nil.
func Shmctl(id int, cmd int, desc *sysapi.ShmidDS) (int, error) {
	if cmd != unix.IPC_STAT {
		r, err := C.shmctl(C.int(id), C.int(cmd), nil)
		if r == -1 {
			return -1, err
		}
		return int(r), nil
	}
	if desc == nil {
		return -1, syscall.EFAULT
	}
	var ds C.struct_shim_shmid_ds
	r, err := C.shim_shmctl_stat(C.int(id), &ds)
	if r == -1 {
		return -1, err
	}
	*desc = sysapi.ShmidDS{
		Key:    int32(ds.key),
		Uid:    uint32(ds.uid),
		Gid:    uint32(ds.gid),
		Cuid:   uint32(ds.cuid),
		Cgid:   uint32(ds.cgid),
		Mode:   uint32(ds.mode),
		Seq:    uint16(ds.seq),
		Segsz:  uint64(ds.segsz),
		Atime:  int64(ds.atime),
		Dtime:  int64(ds.dtime),
		Ctime:  int64(ds.ctime),
		Cpid:   int32(ds.cpid),
		Lpid:   int32(ds.lpid),
		Nattch: uint64(ds.nattch),
	}
	return int(r), nil
}

// Ftok calls ftok(3). The key is C's key_t widened to int: negative when
// proj&0x80 is set. On error it returns -1 and stat's errno.
func Ftok(path string, proj int) (int, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	k, err := C.ftok(cpath, C.int(proj))
	if k == -1 {
		return -1, err
	}
	return int(k), nil
}

// Open calls open(2) through libc.
func Open(path string, flag int, mode uint32) (int, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	fd, err := C.shim_open(cpath, C.int(flag), C.uint(mode))
	if fd == -1 {
		return -1, err
	}
	return int(fd), nil
}

// Close calls close(2).
func Close(fd int) error {
	if r, err := C.close(C.int(fd)); r == -1 {
		return err
	}
	return nil
}

// Read calls read(2). It returns -1 and the errno on failure.
func Read(fd int, p []byte) (int, error) {
	n, err := C.read(C.int(fd), addr(p), C.size_t(len(p)))
	if n == -1 {
		return -1, err
	}
	return int(n), nil
}

// Fstat calls fstat(2) and returns st_size.
func Fstat(fd int) (int64, error) {
	n, err := C.shim_fstat_size(C.int(fd))
	if n == -1 {
		return -1, err
	}
	return int64(n), nil
}

// Mmap calls mmap(2) with a NULL address. The returned slice is length bytes
// long.
func Mmap(fd int, offset int64, length int, prot int, flags int) ([]byte, error) {
	p, err := C.mmap(nil, C.size_t(length), C.int(prot), C.int(flags), C.int(fd), C.off_t(offset))
	if uintptr(p) == failed {
		return nil, err
	}
	return unsafe.Slice((*byte)(p), length), nil
}

// Munmap calls munmap(2) on memory returned by Mmap.
func Munmap(data []byte) error {
	if len(data) == 0 {
		return syscall.EINVAL
	}
	if r, err := C.munmap(unsafe.Pointer(&data[0]), C.size_t(len(data))); r == -1 {
		return err
	}
	return nil
}

// Msync calls msync(2).
func Msync(data []byte, flags int) error {
	if r, err := C.msync(addr(data), C.size_t(len(data)), C.int(flags)); r == -1 {
		return err
	}
	return nil
}

// Strerror calls strerror(3). The errno is passed as C's int, so values
// above MaxInt32 wrap as they would in C.
func Strerror(errno syscall.Errno) string {
	return C.GoString(C.strerror(C.int(errno)))
}

// Impl is the cshim implementation of the sysapi call set.
var Impl = sysapi.Impl{
	Name:      "cshim",
	Shmget:    Shmget,
	Shmat:     Shmat,
	ShmatSize: ShmatSize,
	Shmdt:     Shmdt,
	Shmctl:    Shmctl,
	Ftok:      Ftok,
	Open:      Open,
	Close:     Close,
	Read:      Read,
	Fstat:     Fstat,
	Mmap:      Mmap,
	Munmap:    Munmap,
	Msync:     Msync,
	Madvise:   Madvise,
	Mlock:     Mlock,
	Munlock:   Munlock,

	Ftruncate:   Ftruncate,
	ShmOpen:     ShmOpen,
	ShmUnlink:   ShmUnlink,
	MemfdCreate: MemfdCreate,
	Semget:      Semget,
	Semop:       Semop,
	Semtimedop:  Semtimedop,
	Semctl:      Semctl,
	SemctlStat:  SemctlStat,
	Msgget:      Msgget,
	Msgsnd:      Msgsnd,
	Msgrcv:      Msgrcv,
	Msgctl:      Msgctl,
	MsgctlInfo:  MsgctlInfo,

	MqOpen:         MqOpen,
	MqUnlink:       MqUnlink,
	MqTimedsend:    MqTimedsend,
	MqTimedreceive: MqTimedreceive,
	MqGetattr:      MqGetattr,
	MqSetattr:      MqSetattr,
	MqNotify:       MqNotify,

	Strerror: Strerror,
}
