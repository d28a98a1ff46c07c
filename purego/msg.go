package purego

import (
	"sync"
	"syscall"
	"unsafe"

	"github.com/shmmap/shmmap/sysapi"
	"golang.org/x/sys/unix"
)

// longSize is sizeof(long) in C, the size of struct msgbuf's mtype: a Go
// int has the size of a C long on every Linux architecture.
const longSize = int(unsafe.Sizeof(int(0)))

// cLong converts v to a C long, reporting whether it fits.
func cLong(v int64) (int, bool) { return int(v), int64(int(v)) == v }

// msgBufs holds buffers for struct msgbuf (mtype then text) of more than
// smallMsg bytes of text, so that a send or receive does not allocate.
// Buffers above maxPooledMsgBuf are not kept.
var msgBufs sync.Pool

const maxPooledMsgBuf = 64<<10 + 8

// getMsgBuf returns a buffer of n bytes from the pool, or a new one.
func getMsgBuf(n int) *[]byte {
	if p, ok := msgBufs.Get().(*[]byte); ok && cap(*p) >= n {
		*p = (*p)[:n]
		return p
	}
	b := make([]byte, n, max(n, 8192+longSize))
	return &b
}

func putMsgBuf(p *[]byte) {
	if cap(*p) <= maxPooledMsgBuf {
		msgBufs.Put(p)
	}
}

// Msgget is msgget(2).
func Msgget(key int, flag int) (int, error) {
	id, _, e := unix.Syscall(unix.SYS_MSGGET, uintptr(key), uintptr(flag), 0)
	if e != 0 {
		return -1, e
	}
	return int(id), nil
}

// Msgsnd is msgsnd(2): it copies mtype (as a C long) and msg into a
// struct msgbuf and sends len(msg) bytes of text. An mtype that does not
// fit in a C long (32-bit architectures) is EINVAL. See msgcall.go for how
// a call that may block reaches the kernel.
func Msgsnd(id int, mtype int64, msg []byte, flag int) error {
	t, ok := cLong(mtype)
	if !ok {
		return syscall.EINVAL
	}
	if len(msg) <= smallMsg {
		var m smallMsgbuf // on the stack: see smallMsg
		m.mtype = t
		copy(m.text[:], msg)
		return msgsnd(id, unsafe.Pointer(&m), len(msg), flag)
	}
	p := getMsgBuf(longSize + len(msg))
	defer putMsgBuf(p)
	b := *p
	*(*int)(unsafe.Pointer(&b[0])) = t // the buffer is allocated, so aligned for a long
	copy(b[longSize:], msg)
	return msgsnd(id, unsafe.Pointer(&b[0]), len(msg), flag)
}

// Msgrcv is msgrcv(2) with msgsz = len(buf): it receives into a struct
// msgbuf and copies the text into buf. A msgtyp that does not fit in a C
// long (32-bit architectures) is EINVAL. On failure it returns 0, -1 and
// the errno. See msgcall.go for how a call that may block reaches the
// kernel.
func Msgrcv(id int, buf []byte, msgtyp int64, flag int) (int64, int, error) {
	typ, ok := cLong(msgtyp)
	if !ok {
		return 0, -1, syscall.EINVAL
	}
	if len(buf) <= smallMsg {
		var m smallMsgbuf
		n, err := msgrcv(id, unsafe.Pointer(&m), len(buf), typ, flag)
		if err != nil {
			return 0, -1, err
		}
		copy(buf, m.text[:n])
		return int64(m.mtype), n, nil
	}
	p := getMsgBuf(longSize + len(buf))
	defer putMsgBuf(p)
	b := *p
	n, err := msgrcv(id, unsafe.Pointer(&b[0]), len(buf), typ, flag)
	if err != nil {
		return 0, -1, err
	}
	copy(buf, b[longSize:longSize+n])
	return int64(*(*int)(unsafe.Pointer(&b[0]))), n, nil
}

// Msgctl is msgctl(2) for IPC_STAT, MSG_STAT and MSG_STAT_ANY (which fill
// desc), IPC_SET (which reads Uid, Gid, Mode and Qbytes from desc) and
// IPC_RMID; other commands are EINVAL. The system call is the direct
// msgctl, which takes the 64-bit layout (struct msqid64_ds) without the
// IPC_64 flag the old ipc(2) multiplexer wanted.
func Msgctl(id int, cmd int, desc *sysapi.MsqidDS) (int, error) {
	var ds msqidDS
	switch cmd {
	case unix.IPC_RMID:
	case unix.IPC_STAT, sysapi.MSG_STAT, sysapi.MSG_STAT_ANY:
		if desc == nil {
			return -1, syscall.EFAULT
		}
	case unix.IPC_SET:
		if desc == nil {
			return -1, syscall.EFAULT
		}
		ds.Perm.Uid = desc.Uid
		ds.Perm.Gid = desc.Gid
		setMode(&ds.Perm.Mode, desc.Mode)
		if !ds.setQbytes(desc.Qbytes) {
			return -1, syscall.EINVAL
		}
	default:
		return -1, syscall.EINVAL
	}
	r, _, e := unix.Syscall(unix.SYS_MSGCTL, uintptr(id), uintptr(cmd), uintptr(unsafe.Pointer(&ds)))
	if e != 0 {
		return -1, e
	}
	if cmd == unix.IPC_STAT || cmd == sysapi.MSG_STAT || cmd == sysapi.MSG_STAT_ANY {
		*desc = sysapi.MsqidDS{
			Key:  ds.Perm.Key,
			Uid:  ds.Perm.Uid,
			Gid:  ds.Perm.Gid,
			Cuid: ds.Perm.Cuid,
			Cgid: ds.Perm.Cgid,
			Mode: uint32(ds.Perm.Mode),
			Seq:  uint16(ds.Perm.Seq),
		}
		ds.decode(desc)
	}
	return int(r), nil
}

// MsgctlInfo is msgctl(2) with IPC_INFO or MSG_INFO; other commands are
// EINVAL. sysapi.Msginfo has C's layout, so the kernel fills it directly.
func MsgctlInfo(cmd int, info *sysapi.Msginfo) (int, error) {
	if cmd != sysapi.IPC_INFO && cmd != sysapi.MSG_INFO {
		return -1, syscall.EINVAL
	}
	if info == nil {
		return -1, syscall.EFAULT
	}
	r, _, e := unix.Syscall(unix.SYS_MSGCTL, 0, uintptr(cmd), uintptr(unsafe.Pointer(info)))
	if e != 0 {
		return -1, e
	}
	return int(r), nil
}

// setMode stores mode in ipc64_perm's mode, which is 16 bits wide on some
// architectures; the kernel only uses the permission bits.
func setMode[T ~uint16 | ~uint32](field *T, mode uint32) { *field = T(mode) }
