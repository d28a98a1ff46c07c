package ring

import (
	"errors"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Peer watches: event-driven peer-death detection. A blocked call whose
// peer is another process registers with the watch of the peer's pid for
// as long as it sleeps; a watch is one pidfd (pidfd_open, Linux 5.3) and
// one goroutine per distinct peer pid in this process, shared by every
// call waiting on a peer with that pid. The goroutine waits for the pidfd
// to become readable — which it does when the process exits, zombie or
// not — through Go's netpoller (os.NewFile on the non-blocking pidfd, and
// a raw read whose callback polls the fd without waiting): a parked
// goroutine, no thread. When the peer exits the watch marks itself dead
// and wakes every registered call as a context cancellation does (the
// call's futex word set to 0, then FUTEX_WAKE); the call re-checks the
// ring (the peer may have published before dying) and returns
// ErrPeerDead. So a sleep whose peer is watched needs no timeout: an idle
// blocked call costs nothing while its peer lives.
//
// A watch whose last call returns lingers for watchLinger before its pidfd
// is closed and its goroutine ends, so that a busy ring, whose calls sleep
// and return thousands of times a second, does not open and close a pidfd
// per sleep.
//
// Where the pidfd cannot be opened or watched (no pidfd_open before Linux
// 5.3 or under a seccomp filter, EMFILE, a netpoller that refuses it) the
// call falls back to checking every DefaultPeerCheck, as before the
// watches; SHMMAP_RING_PEERWATCH=off forces that.

// watchLinger is how long a watch outlives its last registered call.
const watchLinger = 100 * time.Millisecond

// noPeerRecheck is how long a call sleeps, at most, while the peer's pid
// word is 0 (no peer has attached yet). A Go peer's Producer or Consumer
// wakes the other side when it attaches, so the call then watches the new
// peer at once; a C peer (cring/ring.h) does not, and a C peer that
// attaches and dies before it writes, reads or closes anything is noticed
// at the next look, within this time (a time.Duration; the tests change
// it).
var noPeerRecheck atomic.Int64

func init() { noPeerRecheck.Store(int64(time.Second)) }

// peerWatchOn is false under SHMMAP_RING_PEERWATCH=off (and in tests that
// force the fallback), and once pidfd_open proved missing or forbidden.
var peerWatchOn atomic.Bool

func init() { peerWatchOn.Store(os.Getenv("SHMMAP_RING_PEERWATCH") != "off") }

// A peerWatch watches one peer process.
type peerWatch struct {
	pid     uint32
	f       *os.File
	dead    atomic.Bool          // the process has exited (set under watches.mu)
	over    atomic.Bool          // out of watches.m: no longer watching (set under watches.mu)
	waiters map[*waiter]struct{} // the calls asleep on this peer (under watches.mu)
	linger  *time.Timer          // closes the watch once unused (under watches.mu)
	armed   bool                 // linger is set (under watches.mu)
	outs    uint64               // unwatch calls so far (under watches.mu)
	seen    uint64               // outs when linger last fired (under watches.mu)
}

// watches holds the live watches by pid.
var watches struct {
	mu sync.Mutex
	m  map[uint32]*peerWatch
}

// errPeerGone is watch's "the process has already exited".
var errPeerGone = errors.New("ring: peer process gone")

// watch registers w with the watch of process pid, starting one if there
// is none. It returns errPeerGone if that process has exited already, and
// another error if the process cannot be watched (the caller then checks
// periodically).
func watch(pid uint32, w *waiter) (*peerWatch, error) {
	watches.mu.Lock()
	defer watches.mu.Unlock()
	e := watches.m[pid]
	if e == nil {
		var err error
		if e, err = newWatch(pid); err != nil {
			return nil, err
		}
		if watches.m == nil {
			watches.m = make(map[uint32]*peerWatch)
		}
		watches.m[pid] = e
		go e.run()
	}
	e.waiters[w] = struct{}{}
	return e, nil
}

// newWatch opens the pidfd of process pid and registers it with the
// netpoller.
func newWatch(pid uint32) (*peerWatch, error) {
	if int32(pid) <= 0 {
		return nil, unix.EINVAL // a pid word that names no process
	}
	fd, err := unix.PidfdOpen(int(pid), 0)
	if err != nil {
		if err == unix.ESRCH {
			return nil, errPeerGone
		}
		if err == unix.ENOSYS || err == unix.EPERM {
			peerWatchOn.Store(false) // will not get better: stop trying
		}
		return nil, err
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "pidfd:"+strconv.FormatUint(uint64(pid), 10))
	// A file the netpoller took accepts deadlines; one it refused would
	// be read in a blocking system call, holding a thread.
	if err := f.SetReadDeadline(time.Time{}); err != nil {
		f.Close()
		return nil, err
	}
	e := &peerWatch{pid: pid, f: f, waiters: make(map[*waiter]struct{})}
	e.linger = time.AfterFunc(time.Hour, e.expire)
	e.linger.Stop()
	return e, nil
}

// unwatch takes w out of e; the last call out arms the linger timer,
// unless it is armed already (a busy ring's calls come and go thousands of
// times a second: they count, and the timer, when it fires, closes e only
// if none came and went since it last fired).
func unwatch(e *peerWatch, w *waiter) {
	watches.mu.Lock()
	defer watches.mu.Unlock()
	delete(e.waiters, w)
	e.outs++
	if len(e.waiters) == 0 && !e.armed && !e.over.Load() {
		e.armed = true
		e.seen = e.outs
		e.linger.Reset(watchLinger)
	}
}

// expire closes e if no call used it for a whole watchLinger; its
// goroutine then ends.
func (e *peerWatch) expire() {
	watches.mu.Lock()
	defer watches.mu.Unlock()
	switch {
	case watches.m[e.pid] != e:
		e.armed = false
	case len(e.waiters) != 0:
		e.armed = false // the last call out arms it again
	case e.outs != e.seen:
		e.seen = e.outs
		e.linger.Reset(watchLinger)
	default:
		e.armed = false
		delete(watches.m, e.pid)
		e.over.Store(true)
		e.f.Close()
	}
}

// run waits for the process to exit, then wakes the registered calls.
func (e *peerWatch) run() {
	exited := false
	var failed error // from the callback
	rc, err := e.f.SyscallConn()
	if err == nil {
		err = rc.Read(func(fd uintptr) bool {
			// Not ready: the netpoller parks this goroutine until the
			// pidfd polls readable, and calls again.
			fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
			n, perr := unix.Poll(fds, 0)
			for perr == unix.EINTR {
				// Retry: the netpoller is edge-triggered and was reset
				// before this call, so a pidfd already readable would
				// not be reported again.
				n, perr = unix.Poll(fds, 0)
			}
			switch {
			case perr != nil:
				failed = perr
				return true
			case n == 0:
				return false
			}
			// POLLIN when the process exits (POLLHUP too, once reaped,
			// on newer kernels); POLLERR or POLLNVAL is a failure.
			exited = fds[0].Revents&(unix.POLLIN|unix.POLLHUP) != 0
			if !exited {
				failed = unix.EIO
			}
			return true
		})
	}
	if err == nil {
		err = failed
	}
	watches.mu.Lock()
	defer watches.mu.Unlock()
	if watches.m[e.pid] != e {
		return // expired: closed while unused
	}
	// Exited, or the watch failed: the calls then stop watching and
	// check the peer periodically.
	delete(watches.m, e.pid)
	e.dead.Store(err == nil && exited)
	e.over.Store(true)
	if !e.dead.Load() {
		peerWatchOn.Store(false)
	}
	for w := range e.waiters {
		w.word.Store(0)
		futexWake(w.word, 1)
	}
	e.linger.Stop()
	e.f.Close()
}

// watchCount returns the number of live watches (open pidfds), for tests.
func watchCount() int {
	watches.mu.Lock()
	defer watches.mu.Unlock()
	return len(watches.m)
}
