package shmmap

import (
	"errors"
	"io/fs"
	"math"
	"syscall"

	"github.com/shmmap/shmmap/sysapi"
	"golang.org/x/sys/unix"
)

// A Segment is a System V shared memory segment, known by its key and its
// id. A Segment value holds no resource: attaching it does (see Attach),
// and only Remove destroys it.
type Segment struct {
	sys  *System
	key  Key
	id   int
	size int64
}

// CreateSegment creates a new segment of size bytes with permission bits
// perm (IPC_CREAT|IPC_EXCL): the caller knows it created it. If a segment
// already exists at key the error satisfies errors.Is(err, fs.ErrExist).
// With IPCPrivate it always creates a new segment.
func CreateSegment(key Key, size int64, perm fs.FileMode) (*Segment, error) {
	return Default.CreateSegment(key, size, perm)
}

// CreateSegment is CreateSegment through s's implementation.
func (s *System) CreateSegment(key Key, size int64, perm fs.FileMode) (*Segment, error) {
	return s.shmget(key, size, unix.IPC_CREAT|unix.IPC_EXCL|int(perm.Perm()))
}

// OpenSegment finds the existing segment at key; it never creates one. Its
// size is the segment's real size from IPC_STAT. A missing segment gives an
// error satisfying errors.Is(err, fs.ErrNotExist).
func OpenSegment(key Key) (*Segment, error) { return Default.OpenSegment(key) }

// OpenSegment is OpenSegment through s's implementation.
func (s *System) OpenSegment(key Key) (*Segment, error) {
	if key == IPCPrivate {
		return nil, &SegmentError{Op: "shmget", Key: key, ID: -1, Err: syscall.ENOENT}
	}
	return s.shmget(key, 0, 0)
}

// OpenOrCreateSegment finds the segment at key, or creates it with size and
// perm if there is none, and reports which happened. An existing segment
// smaller than size is an error (EINVAL, as shmget reports it); a larger one
// is returned with its real size.
func OpenOrCreateSegment(key Key, size int64, perm fs.FileMode) (seg *Segment, created bool, err error) {
	return Default.OpenOrCreateSegment(key, size, perm)
}

// OpenOrCreateSegment is OpenOrCreateSegment through s's implementation.
func (s *System) OpenOrCreateSegment(key Key, size int64, perm fs.FileMode) (*Segment, bool, error) {
	for {
		seg, err := s.CreateSegment(key, size, perm)
		if err == nil || !errors.Is(err, fs.ErrExist) {
			return seg, err == nil, err
		}
		seg, err = s.shmget(key, size, 0)
		if err == nil || !errors.Is(err, fs.ErrNotExist) {
			return seg, false, err
		}
		// Removed between the two calls: try again.
	}
}

// OpenSegmentID returns the segment with the given id (as shown by ipcs or
// in /proc/PID/maps), checking that it exists.
func OpenSegmentID(id int) (*Segment, error) { return Default.OpenSegmentID(id) }

// OpenSegmentID is OpenSegmentID through s's implementation.
func (s *System) OpenSegmentID(id int) (*Segment, error) {
	if id < 0 || id > math.MaxInt32 {
		// shmctl takes a C int: a larger id would be truncated to the id
		// of another segment. Ids are never negative.
		return nil, &SegmentError{Op: "shmctl IPC_STAT", Key: IPCPrivate, ID: id, Err: syscall.EINVAL}
	}
	seg := &Segment{sys: s, id: id}
	ds, err := seg.stat()
	if err != nil {
		return nil, err
	}
	seg.key, seg.size = Key(ds.Key), int64(ds.Segsz)
	return seg, nil
}

// shmget looks up or creates a segment and sizes it from IPC_STAT.
func (s *System) shmget(key Key, size int64, flag int) (*Segment, error) {
	if size < 0 || uint64(size) > math.MaxInt {
		return nil, &SegmentError{Op: "shmget", Key: key, ID: -1, Err: syscall.EINVAL}
	}
	id, err := s.impl.Shmget(int(key), int(size), flag)
	if err != nil {
		return nil, &SegmentError{Op: "shmget", Key: key, ID: -1, Err: err}
	}
	seg := &Segment{sys: s, key: key, id: id, size: size}
	if ds, err := seg.stat(); err == nil {
		seg.size = int64(ds.Segsz)
	} else if flag&unix.IPC_CREAT == 0 {
		// Found but not readable: the caller may still remove it, or
		// attach it if its permission bits allow. Keep the size unknown.
		seg.size = -1
	}
	return seg, nil
}

// Key returns the segment's key (IPCPrivate for a private segment).
func (g *Segment) Key() Key { return g.key }

// ID returns the segment's id.
func (g *Segment) ID() int { return g.id }

// Size returns the segment's size in bytes as IPC_STAT reported it when the
// Segment was made (-1 if the caller may not stat it). The memory of an
// attachment is exactly this long.
func (g *Segment) Size() int64 { return g.size }

// Remove marks the segment for destruction (IPC_RMID): it disappears when
// the last process detaches, and its key is free at once. Nothing in this
// package removes a segment implicitly.
func (g *Segment) Remove() error {
	if _, err := g.sys.impl.Shmctl(g.id, unix.IPC_RMID, nil); err != nil {
		return g.err("shmctl IPC_RMID", err)
	}
	return nil
}

func (g *Segment) stat() (sysapi.ShmidDS, error) {
	var ds sysapi.ShmidDS
	if _, err := g.sys.impl.Shmctl(g.id, unix.IPC_STAT, &ds); err != nil {
		return ds, g.err("shmctl IPC_STAT", err)
	}
	return ds, nil
}

func (g *Segment) err(op string, err error) error {
	return &SegmentError{Op: op, Key: g.key, ID: g.id, Err: err}
}
