//go:build cgo

package cshim

/*
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/types.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <time.h>

// semctl(2) is variadic and takes a union semun the caller defines.
union shim_semun { int val; struct semid_ds *buf; unsigned short *array; };

static int shim_semctl_int(int id, int num, int cmd, int val) {
	union shim_semun arg;
	arg.val = val;
	return semctl(id, num, cmd, arg);
}

struct shim_semid_ds {
	int key;
	unsigned int uid, gid, cuid, cgid, mode;
	unsigned short seq;
	long long otime, ctime;
	unsigned long long nsems;
};

static int shim_semctl_stat(int id, struct shim_semid_ds *out) {
	struct semid_ds ds;
	union shim_semun arg;
	arg.buf = &ds;
	int r = semctl(id, 0, IPC_STAT, arg);
	if (r == -1) return -1;
	out->key = ds.sem_perm.__key;
	out->uid = ds.sem_perm.uid;
	out->gid = ds.sem_perm.gid;
	out->cuid = ds.sem_perm.cuid;
	out->cgid = ds.sem_perm.cgid;
	out->mode = ds.sem_perm.mode;
	out->seq = ds.sem_perm.__seq;
	out->otime = ds.sem_otime;
	out->ctime = ds.sem_ctime;
	out->nsems = ds.sem_nsems;
	return r;
}

static int shim_semtimedop(int id, struct sembuf *sops, size_t n, long long sec, long long nsec, int forever) {
	struct timespec ts = { .tv_sec = sec, .tv_nsec = nsec };
	return semtimedop(id, sops, n, forever ? NULL : &ts);
}
*/
import "C"

import (
	"unsafe"

	"github.com/shmmap/shmmap/sysapi"
	"golang.org/x/sys/unix"
)

// Semget calls semget(2).
func Semget(key int, nsems int, flag int) (int, error) {
	id, err := C.semget(C.key_t(key), C.int(nsems), C.int(flag))
	if id == -1 {
		return -1, err
	}
	return int(id), nil
}

// sops converts the operations to C's struct sembuf array (same layout, but
// C memory keeps cgo's pointer rules simple).
func sops(ops []sysapi.Sembuf) (*C.struct_sembuf, func()) {
	if len(ops) == 0 {
		return nil, func() {}
	}
	arr := (*C.struct_sembuf)(C.calloc(C.size_t(len(ops)), C.size_t(unsafe.Sizeof(C.struct_sembuf{}))))
	cs := unsafe.Slice(arr, len(ops))
	for i, op := range ops {
		cs[i].sem_num = C.ushort(op.Num)
		cs[i].sem_op = C.short(op.Op)
		cs[i].sem_flg = C.short(op.Flg)
	}
	return arr, func() { C.free(unsafe.Pointer(arr)) }
}

// Semop calls semop(2).
func Semop(id int, ops []sysapi.Sembuf) error {
	arr, free := sops(ops)
	defer free()
	if r, err := C.semop(C.int(id), arr, C.size_t(len(ops))); r == -1 {
		return err
	}
	return nil
}

// Semtimedop calls semtimedop(2); a nil timeout waits forever.
func Semtimedop(id int, ops []sysapi.Sembuf, timeout *unix.Timespec) error {
	arr, free := sops(ops)
	defer free()
	var sec, nsec int64
	forever := C.int(1)
	if timeout != nil {
		sec, nsec, forever = int64(timeout.Sec), int64(timeout.Nsec), 0
	}
	if r, err := C.shim_semtimedop(C.int(id), arr, C.size_t(len(ops)), C.longlong(sec), C.longlong(nsec), forever); r == -1 {
		return err
	}
	return nil
}

// Semctl calls semctl(2) with an int argument (GETVAL, GETPID, GETNCNT,
// GETZCNT, SETVAL, IPC_RMID).
func Semctl(id int, num int, cmd int, arg int) (int, error) {
	switch cmd {
	case sysapi.GETVAL, sysapi.GETPID, sysapi.GETNCNT, sysapi.GETZCNT, sysapi.SETVAL, unix.IPC_RMID:
	default:
		return -1, unix.EINVAL
	}
	r, err := C.shim_semctl_int(C.int(id), C.int(num), C.int(cmd), C.int(arg))
	if r == -1 {
		return -1, err
	}
	return int(r), nil
}

// SemctlStat calls semctl(2) with IPC_STAT.
func SemctlStat(id int, desc *sysapi.SemidDS) error {
	if desc == nil {
		return unix.EFAULT
	}
	var ds C.struct_shim_semid_ds
	if r, err := C.shim_semctl_stat(C.int(id), &ds); r == -1 {
		return err
	}
	*desc = sysapi.SemidDS{
		Key:   int32(ds.key),
		Uid:   uint32(ds.uid),
		Gid:   uint32(ds.gid),
		Cuid:  uint32(ds.cuid),
		Cgid:  uint32(ds.cgid),
		Mode:  uint32(ds.mode),
		Seq:   uint16(ds.seq),
		Otime: int64(ds.otime),
		Ctime: int64(ds.ctime),
		Nsems: uint64(ds.nsems),
	}
	return nil
}
