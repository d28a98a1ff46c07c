//go:build cgo

package cshim

/*
#cgo LDFLAGS: -lrt
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

// mq_open is variadic, which cgo cannot call directly. attr is NULL for
// the defaults.
static mqd_t shim_mq_open(const char *name, int flag, unsigned int mode, const struct mq_attr *attr) {
	if (flag & O_CREAT) return mq_open(name, flag, (mode_t)mode, attr);
	return mq_open(name, flag);
}

static int shim_mq_timedsend(mqd_t mqd, const char *msg, size_t n, unsigned int prio,
		long long sec, long long nsec, int forever) {
	struct timespec ts = { .tv_sec = sec, .tv_nsec = nsec };
	return mq_timedsend(mqd, msg, n, prio, forever ? NULL : &ts);
}

static ssize_t shim_mq_timedreceive(mqd_t mqd, char *buf, size_t n, unsigned int *prio,
		long long sec, long long nsec, int forever) {
	struct timespec ts = { .tv_sec = sec, .tv_nsec = nsec };
	return mq_timedreceive(mqd, buf, n, prio, forever ? NULL : &ts);
}

// shim_mq_notify builds the struct sigevent; unset is mq_notify(mqd, NULL).
static int shim_mq_notify(mqd_t mqd, int unset, int notify, int signo, int value) {
	if (unset) return mq_notify(mqd, NULL);
	struct sigevent sev;
	memset(&sev, 0, sizeof sev);
	sev.sigev_notify = notify;
	sev.sigev_signo = signo;
	sev.sigev_value.sival_int = value;
	return mq_notify(mqd, &sev);
}
*/
import "C"

import (
	"math"
	"strings"
	"syscall"
	"unsafe"

	"github.com/shmmap/shmmap/sysapi"
	"golang.org/x/sys/unix"
)

// cMqAttr converts a to C's struct mq_attr, reporting whether every field
// fits in a C long.
func cMqAttr(a *sysapi.MqAttr) (C.struct_mq_attr, bool) {
	var c C.struct_mq_attr
	var ok [4]bool
	c.mq_flags, ok[0] = cLong(a.Flags)
	c.mq_maxmsg, ok[1] = cLong(a.Maxmsg)
	c.mq_msgsize, ok[2] = cLong(a.Msgsize)
	c.mq_curmsgs, ok[3] = cLong(a.Curmsgs)
	return c, ok == [4]bool{true, true, true, true}
}

func goMqAttr(c *C.struct_mq_attr) sysapi.MqAttr {
	return sysapi.MqAttr{Flags: int64(c.mq_flags), Maxmsg: int64(c.mq_maxmsg), Msgsize: int64(c.mq_msgsize), Curmsgs: int64(c.mq_curmsgs)}
}

// cName converts a name for glibc, refusing one with a NUL byte (which C
// would cut short) with EINVAL.
func cName(name string) (*C.char, error) {
	if strings.IndexByte(name, 0) >= 0 {
		return nil, syscall.EINVAL
	}
	return C.CString(name), nil
}

// MqOpen calls glibc's mq_open(3), with mode and attr when flag has
// O_CREAT. A name with a NUL byte, or an attr field that does not fit in a
// C long, is EINVAL.
func MqOpen(name string, flag int, mode uint32, attr *sysapi.MqAttr) (int, error) {
	cname, err := cName(name)
	if err != nil {
		return -1, err
	}
	defer C.free(unsafe.Pointer(cname))
	var ca *C.struct_mq_attr
	if attr != nil && flag&unix.O_CREAT != 0 {
		c, ok := cMqAttr(attr)
		if !ok {
			return -1, syscall.EINVAL
		}
		ca = &c
	}
	mqd, err := C.shim_mq_open(cname, C.int(flag), C.uint(mode), ca)
	if mqd == -1 {
		return -1, err
	}
	return int(mqd), nil
}

// MqUnlink calls glibc's mq_unlink(3). A name with a NUL byte is EINVAL.
func MqUnlink(name string) error {
	cname, err := cName(name)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(cname))
	if r, err := C.mq_unlink(cname); r == -1 {
		return err
	}
	return nil
}

// deadline splits an absolute deadline for the C helpers; nil is forever.
func deadline(abs *unix.Timespec) (sec, nsec C.longlong, forever C.int) {
	if abs == nil {
		return 0, 0, 1
	}
	return C.longlong(abs.Sec), C.longlong(abs.Nsec), 0
}

// MqTimedsend calls mq_timedsend(3); a nil abstime waits forever. A prio
// above the C unsigned int's range is EINVAL.
func MqTimedsend(mqd int, msg []byte, prio uint, abstime *unix.Timespec) error {
	if uint64(prio) > math.MaxUint32 {
		return syscall.EINVAL
	}
	sec, nsec, forever := deadline(abstime)
	if r, err := C.shim_mq_timedsend(C.mqd_t(mqd), (*C.char)(addr(msg)), C.size_t(len(msg)), C.uint(prio), sec, nsec, forever); r == -1 {
		return err
	}
	return nil
}

// MqTimedreceive calls mq_timedreceive(3) into buf; a nil abstime waits
// forever. On failure it returns -1, 0 and the errno.
func MqTimedreceive(mqd int, buf []byte, abstime *unix.Timespec) (int, uint, error) {
	sec, nsec, forever := deadline(abstime)
	var prio C.uint
	n, err := C.shim_mq_timedreceive(C.mqd_t(mqd), (*C.char)(addr(buf)), C.size_t(len(buf)), &prio, sec, nsec, forever)
	if n == -1 {
		return -1, 0, err
	}
	return int(n), uint(prio), nil
}

// MqGetattr calls mq_getattr(3).
func MqGetattr(mqd int) (sysapi.MqAttr, error) {
	var c C.struct_mq_attr
	if r, err := C.mq_getattr(C.mqd_t(mqd), &c); r == -1 {
		return sysapi.MqAttr{}, err
	}
	return goMqAttr(&c), nil
}

// MqSetattr calls mq_setattr(3) and returns the old attributes. A field
// that does not fit in a C long is EINVAL.
func MqSetattr(mqd int, attr sysapi.MqAttr) (sysapi.MqAttr, error) {
	c, ok := cMqAttr(&attr)
	if !ok {
		return sysapi.MqAttr{}, syscall.EINVAL
	}
	var old C.struct_mq_attr
	if r, err := C.mq_setattr(C.mqd_t(mqd), &c, &old); r == -1 {
		return sysapi.MqAttr{}, err
	}
	return goMqAttr(&old), nil
}

// MqNotify calls mq_notify(3) with a struct sigevent built from sev, or
// NULL for a nil sev. SIGEV_THREAD, which would need a C function, is
// EINVAL.
func MqNotify(mqd int, sev *sysapi.Sigevent) error {
	var r C.int
	var err error
	switch {
	case sev == nil:
		r, err = C.shim_mq_notify(C.mqd_t(mqd), 1, 0, 0, 0)
	case sev.Notify == sysapi.SIGEV_THREAD:
		return syscall.EINVAL
	default:
		r, err = C.shim_mq_notify(C.mqd_t(mqd), 0, C.int(sev.Notify), C.int(sev.Signo), C.int(sev.Value))
	}
	if r == -1 {
		return err
	}
	return nil
}
