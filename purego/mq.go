package purego

import (
	"math"
	"strings"
	"syscall"
	"unsafe"

	"github.com/shmmap/shmmap/sysapi"
	"golang.org/x/sys/unix"
)

// mqAttr is the kernel's struct mq_attr: four longs and four reserved
// ones, which the kernel copies too (32 bytes on 32-bit architectures, 64
// on 64-bit ones).
type mqAttr struct {
	Flags   int
	Maxmsg  int
	Msgsize int
	Curmsgs int
	_       [4]int
}

// set copies a into the C longs, reporting whether every field fits.
func (k *mqAttr) set(a *sysapi.MqAttr) bool {
	var ok [4]bool
	k.Flags, ok[0] = cLong(a.Flags)
	k.Maxmsg, ok[1] = cLong(a.Maxmsg)
	k.Msgsize, ok[2] = cLong(a.Msgsize)
	k.Curmsgs, ok[3] = cLong(a.Curmsgs)
	return ok == [4]bool{true, true, true, true}
}

func (k *mqAttr) get() sysapi.MqAttr {
	return sysapi.MqAttr{Flags: int64(k.Flags), Maxmsg: int64(k.Maxmsg), Msgsize: int64(k.Msgsize), Curmsgs: int64(k.Curmsgs)}
}

// mqName applies glibc's rule: the name must start with a slash, and
// mq_open(2) and mq_unlink(2) get what follows it. A name with a NUL byte
// cannot be passed to C and is refused too. Everything else (empty after
// the slash, another slash, "." or "..", more than NAME_MAX bytes) is the
// kernel's to refuse.
func mqName(name string) (*byte, error) {
	if !strings.HasPrefix(name, "/") {
		return nil, syscall.EINVAL
	}
	p, err := unix.BytePtrFromString(name[1:])
	if err != nil {
		return nil, syscall.EINVAL
	}
	return p, nil
}

// MqOpen is mq_open(3) as glibc implements it: the name must start with a
// slash, which is stripped, and mode and attr reach mq_open(2) only with
// O_CREAT. An attr field that does not fit in a C long is EINVAL.
func MqOpen(name string, flag int, mode uint32, attr *sysapi.MqAttr) (int, error) {
	p, err := mqName(name)
	if err != nil {
		return -1, err
	}
	var m uintptr
	var ka *mqAttr
	if flag&unix.O_CREAT != 0 {
		m = uintptr(mode)
		if attr != nil {
			ka = new(mqAttr)
			if !ka.set(attr) {
				return -1, syscall.EINVAL
			}
		}
	}
	fd, _, e := unix.Syscall6(unix.SYS_MQ_OPEN, uintptr(unsafe.Pointer(p)), uintptr(flag), m, uintptr(unsafe.Pointer(ka)), 0, 0)
	if e != 0 {
		return -1, e
	}
	return int(fd), nil
}

// MqUnlink is mq_unlink(3) as glibc implements it: names as for MqOpen,
// and EPERM (the sticky bit of the queue directory) reported as EACCES.
func MqUnlink(name string) error {
	p, err := mqName(name)
	if err != nil {
		return err
	}
	_, _, e := unix.Syscall(unix.SYS_MQ_UNLINK, uintptr(unsafe.Pointer(p)), 0, 0)
	switch e {
	case 0:
		return nil
	case unix.EPERM:
		return syscall.EACCES
	}
	return e
}

// timespec converts an absolute deadline to struct __kernel_timespec, or
// nil for none.
func timespec(abs *unix.Timespec) *kernelTimespec {
	if abs == nil {
		return nil
	}
	return &kernelTimespec{Sec: int64(abs.Sec), Nsec: int64(abs.Nsec)}
}

// MqTimedsend is mq_timedsend(2); a nil abstime waits forever (mq_send).
// A prio above the C unsigned int's range is EINVAL, as any prio from
// MQ_PRIO_MAX up is for the kernel. See mqcall.go for how a call without
// a deadline reaches the kernel.
func MqTimedsend(mqd int, msg []byte, prio uint, abstime *unix.Timespec) error {
	if uint64(prio) > math.MaxUint32 {
		return syscall.EINVAL
	}
	var p unsafe.Pointer
	if len(msg) > 0 {
		p = unsafe.Pointer(&msg[0])
	}
	if abstime == nil {
		return mqSend(mqd, p, len(msg), prio)
	}
	_, _, e := unix.Syscall6(sysMqTimedsend, uintptr(mqd), uintptr(p), uintptr(len(msg)), uintptr(prio), uintptr(unsafe.Pointer(timespec(abstime))), 0)
	if e != 0 {
		return e
	}
	return nil
}

// MqTimedreceive is mq_timedreceive(2) into buf; a nil abstime waits
// forever (mq_receive). On failure it returns -1, 0 and the errno. See
// mqcall.go for how a call without a deadline reaches the kernel.
func MqTimedreceive(mqd int, buf []byte, abstime *unix.Timespec) (int, uint, error) {
	var p unsafe.Pointer
	if len(buf) > 0 {
		p = unsafe.Pointer(&buf[0])
	}
	if abstime == nil {
		return mqReceive(mqd, p, len(buf))
	}
	var prio uint32
	n, _, e := unix.Syscall6(sysMqTimedreceive, uintptr(mqd), uintptr(p), uintptr(len(buf)), uintptr(unsafe.Pointer(&prio)), uintptr(unsafe.Pointer(timespec(abstime))), 0)
	if e != 0 {
		return -1, 0, e
	}
	return int(n), uint(prio), nil
}

// mqGetsetattr is mq_getsetattr(2).
func mqGetsetattr(mqd int, set *mqAttr) (sysapi.MqAttr, error) {
	var old mqAttr
	_, _, e := unix.Syscall(unix.SYS_MQ_GETSETATTR, uintptr(mqd), uintptr(unsafe.Pointer(set)), uintptr(unsafe.Pointer(&old)))
	if e != 0 {
		return sysapi.MqAttr{}, e
	}
	return old.get(), nil
}

// MqGetattr is mq_getattr(3): mq_getsetattr(2) without new attributes.
func MqGetattr(mqd int) (sysapi.MqAttr, error) { return mqGetsetattr(mqd, nil) }

// MqSetattr is mq_setattr(3): mq_getsetattr(2), returning the attributes
// from before the change. A field that does not fit in a C long is EINVAL.
func MqSetattr(mqd int, attr sysapi.MqAttr) (sysapi.MqAttr, error) {
	var k mqAttr
	if !k.set(&attr) {
		return sysapi.MqAttr{}, syscall.EINVAL
	}
	return mqGetsetattr(mqd, &k)
}

// sigevent is the kernel's struct sigevent, 64 bytes on every
// architecture: the sigval union (an int or a pointer), the signal, the
// notification kind, and a union mq_notify does not use for SIGEV_NONE or
// SIGEV_SIGNAL.
type sigevent struct {
	Value  uintptr
	Signo  int32
	Notify int32
	_      [64 - 8 - unsafe.Sizeof(uintptr(0))]byte
}

// MqNotify is mq_notify(2) for SIGEV_NONE and SIGEV_SIGNAL; nil removes
// the registration. SIGEV_THREAD, which glibc emulates with a thread and a
// netlink socket, is EINVAL; other kinds go to the kernel, which refuses
// them with EINVAL.
func MqNotify(mqd int, sev *sysapi.Sigevent) error {
	var k *sigevent
	if sev != nil {
		if sev.Notify == sysapi.SIGEV_THREAD {
			return syscall.EINVAL
		}
		k = &sigevent{Signo: sev.Signo, Notify: sev.Notify}
		// sival_int is the union's first four bytes, whatever the
		// byte order.
		*(*int32)(unsafe.Pointer(&k.Value)) = sev.Value
	}
	_, _, e := unix.Syscall(unix.SYS_MQ_NOTIFY, uintptr(mqd), uintptr(unsafe.Pointer(k)), 0)
	if e != 0 {
		return e
	}
	return nil
}
