//go:build cgo

package cshim

/*
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/ipc.h>
#include <sys/msg.h>

// shim_msgbuf is struct msgbuf with a flexible text, as C programs declare
// their own.
struct shim_msgbuf { long mtype; char mtext[]; };

// shim_msgsnd builds the struct msgbuf that msgsnd(2) takes from the type
// and the text.
static int shim_msgsnd(int id, long mtype, const void *text, size_t n, int flag) {
	struct shim_msgbuf *m = malloc(sizeof *m + n);
	if (m == NULL) return -1;
	m->mtype = mtype;
	if (n > 0) memcpy(m->mtext, text, n);
	int r = msgsnd(id, m, n, flag);
	int e = errno;
	free(m);
	errno = e;
	return r;
}

// shim_msgrcv receives into a struct msgbuf and copies the text to buf.
static ssize_t shim_msgrcv(int id, void *buf, size_t n, long msgtyp, int flag, long *mtype) {
	struct shim_msgbuf *m = malloc(sizeof *m + n);
	if (m == NULL) return -1;
	ssize_t r = msgrcv(id, m, n, msgtyp, flag);
	int e = errno;
	if (r >= 0) {
		*mtype = m->mtype;
		if (r > 0) memcpy(buf, m->mtext, (size_t)r);
	}
	free(m);
	errno = e;
	return r;
}

// shim_msqid_ds flattens struct msqid_ds into fixed-size fields, because
// glibc's widths differ between architectures.
struct shim_msqid_ds {
	int key;
	unsigned int uid, gid, cuid, cgid, mode;
	unsigned short seq;
	long long stime, rtime, ctime;
	unsigned long long cbytes, qnum, qbytes;
	int lspid, lrpid;
};

static int shim_msgctl_stat(int id, int cmd, struct shim_msqid_ds *out) {
	struct msqid_ds ds;
	int r = msgctl(id, cmd, &ds);
	if (r == -1) return -1;
	out->key = ds.msg_perm.__key;
	out->uid = ds.msg_perm.uid;
	out->gid = ds.msg_perm.gid;
	out->cuid = ds.msg_perm.cuid;
	out->cgid = ds.msg_perm.cgid;
	out->mode = ds.msg_perm.mode;
	out->seq = ds.msg_perm.__seq;
	out->stime = ds.msg_stime;
	out->rtime = ds.msg_rtime;
	out->ctime = ds.msg_ctime;
	out->cbytes = ds.__msg_cbytes;
	out->qnum = ds.msg_qnum;
	out->qbytes = ds.msg_qbytes;
	out->lspid = ds.msg_lspid;
	out->lrpid = ds.msg_lrpid;
	return r;
}

static int shim_msgctl_set(int id, unsigned int uid, unsigned int gid, unsigned int mode, unsigned long qbytes) {
	struct msqid_ds ds;
	memset(&ds, 0, sizeof ds);
	ds.msg_perm.uid = uid;
	ds.msg_perm.gid = gid;
	ds.msg_perm.mode = mode;
	ds.msg_qbytes = qbytes;
	return msgctl(id, IPC_SET, &ds);
}

static int shim_msgctl_info(int cmd, struct msginfo *info) {
	return msgctl(0, cmd, (struct msqid_ds *)info);
}
*/
import "C"

import (
	"syscall"

	"github.com/shmmap/shmmap/sysapi"
	"golang.org/x/sys/unix"
)

// cLong converts v to a C long, reporting whether it fits.
func cLong(v int64) (C.long, bool) { return C.long(v), int64(C.long(v)) == v }

// Msgget calls msgget(2).
func Msgget(key int, flag int) (int, error) {
	id, err := C.msgget(C.key_t(key), C.int(flag))
	if id == -1 {
		return -1, err
	}
	return int(id), nil
}

// Msgsnd calls msgsnd(2) with a struct msgbuf holding mtype and a copy of
// msg, and msgsz = len(msg). An mtype that does not fit in a C long is
// EINVAL.
func Msgsnd(id int, mtype int64, msg []byte, flag int) error {
	t, ok := cLong(mtype)
	if !ok {
		return syscall.EINVAL
	}
	if r, err := C.shim_msgsnd(C.int(id), t, addr(msg), C.size_t(len(msg)), C.int(flag)); r == -1 {
		return err
	}
	return nil
}

// Msgrcv calls msgrcv(2) with msgsz = len(buf) and copies the text into
// buf. A msgtyp that does not fit in a C long is EINVAL. On failure it
// returns 0, -1 and the errno.
func Msgrcv(id int, buf []byte, msgtyp int64, flag int) (int64, int, error) {
	typ, ok := cLong(msgtyp)
	if !ok {
		return 0, -1, syscall.EINVAL
	}
	var mtype C.long
	n, err := C.shim_msgrcv(C.int(id), addr(buf), C.size_t(len(buf)), typ, C.int(flag), &mtype)
	if n == -1 {
		return 0, -1, err
	}
	return int64(mtype), int(n), nil
}

// Msgctl calls msgctl(2) for IPC_STAT, MSG_STAT and MSG_STAT_ANY (which
// fill desc), IPC_SET (which passes Uid, Gid, Mode and Qbytes from desc)
// and IPC_RMID; other commands are EINVAL.
func Msgctl(id int, cmd int, desc *sysapi.MsqidDS) (int, error) {
	switch cmd {
	case unix.IPC_RMID:
		r, err := C.msgctl(C.int(id), C.int(cmd), nil)
		if r == -1 {
			return -1, err
		}
		return int(r), nil
	case unix.IPC_SET:
		if desc == nil {
			return -1, syscall.EFAULT
		}
		q := C.ulong(desc.Qbytes)
		if uint64(q) != desc.Qbytes {
			return -1, syscall.EINVAL
		}
		r, err := C.shim_msgctl_set(C.int(id), C.uint(desc.Uid), C.uint(desc.Gid), C.uint(desc.Mode), q)
		if r == -1 {
			return -1, err
		}
		return int(r), nil
	case unix.IPC_STAT, sysapi.MSG_STAT, sysapi.MSG_STAT_ANY:
	default:
		return -1, syscall.EINVAL
	}
	if desc == nil {
		return -1, syscall.EFAULT
	}
	var ds C.struct_shim_msqid_ds
	r, err := C.shim_msgctl_stat(C.int(id), C.int(cmd), &ds)
	if r == -1 {
		return -1, err
	}
	*desc = sysapi.MsqidDS{
		Key:    int32(ds.key),
		Uid:    uint32(ds.uid),
		Gid:    uint32(ds.gid),
		Cuid:   uint32(ds.cuid),
		Cgid:   uint32(ds.cgid),
		Mode:   uint32(ds.mode),
		Seq:    uint16(ds.seq),
		Stime:  int64(ds.stime),
		Rtime:  int64(ds.rtime),
		Ctime:  int64(ds.ctime),
		Cbytes: uint64(ds.cbytes),
		Qnum:   uint64(ds.qnum),
		Qbytes: uint64(ds.qbytes),
		Lspid:  int32(ds.lspid),
		Lrpid:  int32(ds.lrpid),
	}
	return int(r), nil
}

// MsgctlInfo calls msgctl(2) with IPC_INFO or MSG_INFO, which fill a
// struct msginfo; other commands are EINVAL.
func MsgctlInfo(cmd int, info *sysapi.Msginfo) (int, error) {
	if cmd != sysapi.IPC_INFO && cmd != sysapi.MSG_INFO {
		return -1, syscall.EINVAL
	}
	if info == nil {
		return -1, syscall.EFAULT
	}
	var mi C.struct_msginfo
	r, err := C.shim_msgctl_info(C.int(cmd), &mi)
	if r == -1 {
		return -1, err
	}
	*info = sysapi.Msginfo{
		Msgpool: int32(mi.msgpool),
		Msgmap:  int32(mi.msgmap),
		Msgmax:  int32(mi.msgmax),
		Msgmnb:  int32(mi.msgmnb),
		Msgmni:  int32(mi.msgmni),
		Msgssz:  int32(mi.msgssz),
		Msgtql:  int32(mi.msgtql),
		Msgseg:  uint16(mi.msgseg),
	}
	return int(r), nil
}
