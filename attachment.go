package shmmap

import (
	"math"
	"syscall"

	"golang.org/x/sys/unix"
)

// AttachMode says how to attach a segment.
type AttachMode int

const (
	// AttachReadWrite attaches for reading and writing (shmat flag 0).
	AttachReadWrite AttachMode = iota
	// AttachReadOnly attaches for reading only (SHM_RDONLY): WriteAt returns
	// ErrReadOnly and the pages are mapped without write permission.
	AttachReadOnly
)

// An Attachment is a segment attached to this process's address space. Its
// methods are safe for concurrent use; after Detach they return ErrClosed
// and never touch the memory.
type Attachment struct {
	seg *Segment
	region
}

// Attach attaches the segment. The memory is exactly the segment's size
// (from IPC_STAT), whatever size was asked for when it was created.
func (g *Segment) Attach(mode AttachMode) (*Attachment, error) {
	flag := 0
	switch mode {
	case AttachReadWrite:
	case AttachReadOnly:
		flag = unix.SHM_RDONLY
	default:
		return nil, g.err("shmat", syscall.EINVAL)
	}
	var data []byte
	var err error
	if g.size > 0 && uint64(g.size) <= math.MaxInt {
		// The size came from IPC_STAT when g was made; a segment's size
		// never changes, so skip the second IPC_STAT.
		data, err = g.sys.impl.ShmatSize(g.id, flag, int(g.size))
	} else {
		data, err = g.sys.impl.Shmat(g.id, flag)
	}
	if err != nil {
		return nil, g.err("shmat", err)
	}
	a := &Attachment{seg: g}
	a.region = region{data: data, writable: mode == AttachReadWrite, mem: data, release: g.sys.impl.Shmdt}
	return a, nil
}

// Segment returns the attached segment.
func (a *Attachment) Segment() *Segment { return a.seg }

// ReadAt reads len(p) bytes at offset off (io.ReaderAt). It returns io.EOF
// if fewer bytes remain, ErrOutOfRange for an offset outside the segment,
// ErrClosed after Detach, and an error matching ErrFault instead of
// crashing if the memory cannot be read.
func (a *Attachment) ReadAt(p []byte, off int64) (int, error) {
	return a.readAt(p, off, a.wrap)
}

// WriteAt writes p at offset off (io.WriterAt). A write past the end writes
// what fits and returns io.ErrShortWrite; a read-only attachment returns
// ErrReadOnly.
func (a *Attachment) WriteAt(p []byte, off int64) (int, error) {
	return a.writeAt(p, off, a.wrap)
}

// Len returns the size of the attached memory, 0 after Detach.
func (a *Attachment) Len() int { return a.length() }

// Bytes returns the attached memory itself, for zero-copy access: writes
// are seen at once by every process attached to the segment. The slice is
// valid only until Detach; using it afterwards, or writing to it when
// attached AttachReadOnly, crashes the process (the memory is unmapped or
// write-protected). It is nil after Detach. Prefer ReadAt and WriteAt unless
// copying is too costly.
func (a *Attachment) Bytes() []byte { return a.bytes() }

// Detach detaches the segment (shmdt). It does not remove the segment.
// Detach is idempotent: later calls return nil.
func (a *Attachment) Detach() error {
	if err := a.close(); err != nil {
		return a.seg.err("shmdt", err)
	}
	return nil
}

func (a *Attachment) wrap(op string, err error) error { return a.seg.err(op, err) }
