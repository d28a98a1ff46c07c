package shmmap

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"syscall"
	"time"

	"github.com/shmmap/shmmap/sysapi"
	"golang.org/x/sys/unix"
)

// A SemaphoreSet is a System V semaphore set (semget), the synchronization
// legacy C code pairs with a shared memory segment. Semaphores are numbered
// from 0 to Len()-1. Like a Segment it holds no resource in this process;
// only Remove destroys it.
type SemaphoreSet struct {
	sys *System
	key Key
	id  int
	n   int
}

// SemOp is one operation of SemaphoreSet.Op.
type SemOp struct {
	Num   int  // which semaphore
	Delta int  // added to the value; a negative Delta waits until it can be subtracted; 0 waits for zero
	Undo  bool // SEM_UNDO: the kernel reverts the operation if the process exits
}

// ErrWouldBlock is returned (wrapped, with EAGAIN) by TryWait when the
// operation would have to wait.
var ErrWouldBlock = errors.New("shmmap: semaphore operation would block")

// CreateSemaphores creates a set of n semaphores, all 0, with permission
// bits perm (IPC_CREAT|IPC_EXCL); fs.ErrExist if the key is taken.
func CreateSemaphores(key Key, n int, perm fs.FileMode) (*SemaphoreSet, error) {
	return Default.CreateSemaphores(key, n, perm)
}

// CreateSemaphores is CreateSemaphores through s's implementation.
func (s *System) CreateSemaphores(key Key, n int, perm fs.FileMode) (*SemaphoreSet, error) {
	return s.semget(key, n, unix.IPC_CREAT|unix.IPC_EXCL|int(perm.Perm()))
}

// OpenSemaphores finds the existing set at key (never creating one); its
// size comes from IPC_STAT.
func OpenSemaphores(key Key) (*SemaphoreSet, error) { return Default.OpenSemaphores(key) }

// OpenSemaphores is OpenSemaphores through s's implementation.
func (s *System) OpenSemaphores(key Key) (*SemaphoreSet, error) {
	if key == IPCPrivate {
		return nil, &SemaphoreError{Op: "semget", Key: key, ID: -1, Err: syscall.ENOENT}
	}
	return s.semget(key, 0, 0)
}

// OpenOrCreateSemaphores finds the set at key or creates it with n
// semaphores, and reports which happened.
func OpenOrCreateSemaphores(key Key, n int, perm fs.FileMode) (set *SemaphoreSet, created bool, err error) {
	return Default.OpenOrCreateSemaphores(key, n, perm)
}

// OpenOrCreateSemaphores is OpenOrCreateSemaphores through s's
// implementation.
func (s *System) OpenOrCreateSemaphores(key Key, n int, perm fs.FileMode) (*SemaphoreSet, bool, error) {
	for {
		set, err := s.CreateSemaphores(key, n, perm)
		if err == nil || !errors.Is(err, fs.ErrExist) {
			return set, err == nil, err
		}
		set, err = s.semget(key, n, 0)
		if err == nil || !errors.Is(err, fs.ErrNotExist) {
			return set, false, err
		}
	}
}

func (s *System) semget(key Key, n int, flag int) (*SemaphoreSet, error) {
	id, err := s.impl.Semget(int(key), n, flag)
	if err != nil {
		return nil, &SemaphoreError{Op: "semget", Key: key, ID: -1, Err: err}
	}
	set := &SemaphoreSet{sys: s, key: key, id: id, n: n}
	var ds sysapi.SemidDS
	if err := s.impl.SemctlStat(id, &ds); err == nil {
		set.n = int(ds.Nsems)
	}
	return set, nil
}

// Key returns the set's key.
func (m *SemaphoreSet) Key() Key { return m.key }

// ID returns the set's id.
func (m *SemaphoreSet) ID() int { return m.id }

// Len returns the number of semaphores in the set.
func (m *SemaphoreSet) Len() int { return m.n }

// Op performs ops atomically (all or none), waiting until all can be done
// or ctx is done, in which case it returns ctx's error. A deadline on ctx
// becomes semtimedop's timeout; a context without one is checked every
// 50ms.
func (m *SemaphoreSet) Op(ctx context.Context, ops ...SemOp) error {
	sops, err := m.sembufs(ops, 0)
	if err != nil {
		return err
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		wait := 50 * time.Millisecond
		if d, ok := ctx.Deadline(); ok {
			wait = min(wait, time.Until(d))
		}
		if wait <= 0 {
			return context.DeadlineExceeded
		}
		ts := unix.NsecToTimespec(int64(wait))
		err := m.sys.impl.Semtimedop(m.id, sops, &ts)
		switch {
		case err == nil:
			return nil
		case err == syscall.EAGAIN || err == syscall.EINTR:
			continue
		default:
			return m.err("semtimedop", err)
		}
	}
}

// TryOp performs ops atomically if that is possible without waiting, and
// returns an error matching ErrWouldBlock (and unix.EAGAIN) otherwise.
func (m *SemaphoreSet) TryOp(ops ...SemOp) error {
	sops, err := m.sembufs(ops, unix.IPC_NOWAIT)
	if err != nil {
		return err
	}
	if err := m.sys.impl.Semop(m.id, sops); err != nil {
		if err == syscall.EAGAIN {
			return m.err("semop", wouldBlock{})
		}
		return m.err("semop", err)
	}
	return nil
}

// Wait decrements semaphore i, waiting while it is 0 (P).
func (m *SemaphoreSet) Wait(i int) error {
	return m.Op(context.Background(), SemOp{Num: i, Delta: -1})
}

// WaitContext is Wait that gives up when ctx is done.
func (m *SemaphoreSet) WaitContext(ctx context.Context, i int) error {
	return m.Op(ctx, SemOp{Num: i, Delta: -1})
}

// TryWait decrements semaphore i if it is positive, and returns an error
// matching ErrWouldBlock otherwise.
func (m *SemaphoreSet) TryWait(i int) error { return m.TryOp(SemOp{Num: i, Delta: -1}) }

// Post increments semaphore i (V), waking a waiter.
func (m *SemaphoreSet) Post(i int) error { return m.TryOp(SemOp{Num: i, Delta: 1}) }

// Lock takes semaphore i as a mutex (initialised to 1) with SEM_UNDO, so
// the kernel releases it if this process dies holding it.
func (m *SemaphoreSet) Lock(ctx context.Context, i int) error {
	return m.Op(ctx, SemOp{Num: i, Delta: -1, Undo: true})
}

// Unlock releases a mutex taken with Lock.
func (m *SemaphoreSet) Unlock(i int) error { return m.TryOp(SemOp{Num: i, Delta: 1, Undo: true}) }

// SetValue sets semaphore i's value (SETVAL).
func (m *SemaphoreSet) SetValue(i, v int) error {
	_, err := m.ctl("semctl SETVAL", i, sysapi.SETVAL, v)
	return err
}

// Value returns semaphore i's value (GETVAL).
func (m *SemaphoreSet) Value(i int) (int, error) { return m.ctl("semctl GETVAL", i, sysapi.GETVAL, 0) }

// LastPID returns the pid of the process that last operated on semaphore i
// (GETPID).
func (m *SemaphoreSet) LastPID(i int) (int, error) {
	return m.ctl("semctl GETPID", i, sysapi.GETPID, 0)
}

// Waiters returns how many processes wait for semaphore i to increase
// (GETNCNT) and to become zero (GETZCNT).
func (m *SemaphoreSet) Waiters(i int) (increase, zero int, err error) {
	if increase, err = m.ctl("semctl GETNCNT", i, sysapi.GETNCNT, 0); err != nil {
		return 0, 0, err
	}
	zero, err = m.ctl("semctl GETZCNT", i, sysapi.GETZCNT, 0)
	return increase, zero, err
}

// SemaphoreInfo is what IPC_STAT reports about a semaphore set.
type SemaphoreInfo struct {
	Key        Key
	ID         int
	Len        int
	Mode       fs.FileMode
	UID, GID   int
	CUID, CGID int
	OpTime     time.Time // last semop; zero if never
	ChangeTime time.Time
}

// Stat returns the set's IPC_STAT information.
func (m *SemaphoreSet) Stat() (*SemaphoreInfo, error) {
	var ds sysapi.SemidDS
	if err := m.sys.impl.SemctlStat(m.id, &ds); err != nil {
		return nil, m.err("semctl IPC_STAT", err)
	}
	return &SemaphoreInfo{
		Key: Key(ds.Key), ID: m.id, Len: int(ds.Nsems), Mode: fs.FileMode(ds.Mode).Perm(),
		UID: int(ds.Uid), GID: int(ds.Gid), CUID: int(ds.Cuid), CGID: int(ds.Cgid),
		OpTime: unixTime(ds.Otime), ChangeTime: unixTime(ds.Ctime),
	}, nil
}

// Remove destroys the set at once (IPC_RMID); waiters get EIDRM.
func (m *SemaphoreSet) Remove() error {
	_, err := m.ctl("semctl IPC_RMID", 0, unix.IPC_RMID, 0)
	return err
}

func (m *SemaphoreSet) ctl(op string, i, cmd, arg int) (int, error) {
	if i < 0 || (m.n > 0 && i >= m.n) {
		return 0, m.err(op, syscall.EINVAL)
	}
	r, err := m.sys.impl.Semctl(m.id, i, cmd, arg)
	if err != nil {
		return 0, m.err(op, err)
	}
	return r, nil
}

func (m *SemaphoreSet) sembufs(ops []SemOp, flag int16) ([]sysapi.Sembuf, error) {
	sops := make([]sysapi.Sembuf, len(ops))
	for i, op := range ops {
		if op.Num < 0 || op.Num > 0xffff || op.Delta < -32768 || op.Delta > 32767 {
			return nil, m.err("semop", syscall.EINVAL)
		}
		f := flag
		if op.Undo {
			f |= sysapi.SEM_UNDO
		}
		sops[i] = sysapi.Sembuf{Num: uint16(op.Num), Op: int16(op.Delta), Flg: f}
	}
	return sops, nil
}

func (m *SemaphoreSet) err(op string, err error) error {
	return &SemaphoreError{Op: op, Key: m.key, ID: m.id, Err: err}
}

// SemaphoreError records an error and the operation and semaphore set that
// caused it; it unwraps to the errno.
type SemaphoreError struct {
	Op  string
	Key Key
	ID  int
	Err error
}

func (e *SemaphoreError) Error() string {
	if e.ID < 0 {
		return fmt.Sprintf("%s semaphores key %v: %v", e.Op, e.Key, e.Err)
	}
	return fmt.Sprintf("%s semaphores key %v id %d: %v", e.Op, e.Key, e.ID, e.Err)
}

// Unwrap returns the underlying error.
func (e *SemaphoreError) Unwrap() error { return e.Err }

// wouldBlock is EAGAIN from an IPC_NOWAIT operation: it matches both
// ErrWouldBlock and unix.EAGAIN.
type wouldBlock struct{}

func (wouldBlock) Error() string { return ErrWouldBlock.Error() }

func (wouldBlock) Is(target error) bool { return target == ErrWouldBlock || target == syscall.EAGAIN }
