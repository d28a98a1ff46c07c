package shmmap

import (
	"io/fs"
	"math"
	"os"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// MapMode says how a file is mapped.
type MapMode int

const (
	// MapShared maps read-write, MAP_SHARED: writes reach the file and every
	// other process mapping it. The file must be open for reading and
	// writing.
	MapShared MapMode = iota
	// MapPrivate maps read-write, MAP_PRIVATE: writes are copy-on-write and
	// never reach the file.
	MapPrivate
	// MapReadOnly maps for reading only, MAP_SHARED: changes made by others are
	// seen; WriteAt returns ErrReadOnly.
	MapReadOnly
)

// A Mapping is a file, POSIX shared memory object or memfd mapped into
// memory. Its methods are safe for concurrent use; after Close they return
// ErrClosed and never touch the memory.
type Mapping struct {
	path string
	sys  *System
	full []byte // the whole mapping, from a page-aligned offset
	region
}

// Map maps length bytes of f starting at offset, which need not be
// page-aligned. A length of 0 maps from offset to the end of the file. The
// file may be closed after Map returns; the mapping stays valid until
// Close.
func Map(f *os.File, offset int64, length int, mode MapMode) (*Mapping, error) {
	return Default.Map(f, offset, length, mode)
}

// Map is Map through s's implementation.
func (s *System) Map(f *os.File, offset int64, length int, mode MapMode) (*Mapping, error) {
	defer runtime.KeepAlive(f)
	m := &Mapping{path: f.Name(), sys: s}
	fd := int(f.Fd())
	if offset < 0 || length < 0 || mode < MapShared || mode > MapReadOnly {
		return nil, m.err("mmap", syscall.EINVAL)
	}
	if length == 0 {
		size, err := s.impl.Fstat(fd)
		if err != nil {
			return nil, m.err("fstat", err)
		}
		if size-offset > math.MaxInt {
			return nil, m.err("mmap", syscall.EFBIG)
		}
		if size <= offset {
			// Nothing to map: an empty Mapping, as golang.org/x/exp/mmap
			// gives for an empty file.
			m.region = region{data: []byte{}, writable: mode != MapReadOnly}
			return m, nil
		}
		length = int(size - offset)
	}
	prot, flags := unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED
	switch mode {
	case MapShared:
	case MapPrivate:
		flags = unix.MAP_PRIVATE
	case MapReadOnly:
		prot = unix.PROT_READ
	default:
		return nil, m.err("mmap", syscall.EINVAL)
	}
	pad := int(offset % int64(os.Getpagesize()))
	if length > math.MaxInt-pad {
		return nil, m.err("mmap", syscall.EINVAL)
	}
	full, err := s.impl.Mmap(fd, offset-int64(pad), length+pad, prot, flags)
	if err != nil {
		return nil, m.err("mmap", err)
	}
	m.full = full
	m.region = region{data: full[pad:], writable: mode != MapReadOnly, mem: full, release: s.impl.Munmap}
	return m, nil
}

// MapFile opens the file at path and maps all of it: read-write for MapShared
// and MapPrivate, read-only for MapReadOnly. An empty file gives an empty
// Mapping.
func MapFile(path string, mode MapMode) (*Mapping, error) { return Default.MapFile(path, mode) }

// MapFile is MapFile through s's implementation.
func (s *System) MapFile(path string, mode MapMode) (*Mapping, error) {
	flag := os.O_RDWR
	if mode == MapReadOnly {
		flag = os.O_RDONLY
	}
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return s.Map(f, 0, 0, mode)
}

// ReadAt reads len(p) bytes at offset off (io.ReaderAt). It returns io.EOF
// if fewer bytes remain, ErrOutOfRange for an offset outside the mapping,
// ErrClosed after Close, and an error matching ErrFault instead of crashing
// when the memory cannot be read (the file was truncated by another
// process).
func (m *Mapping) ReadAt(p []byte, off int64) (int, error) { return m.readAt(p, off, m.wrap) }

// WriteAt writes p at offset off (io.WriterAt). A write past the end writes
// what fits and returns io.ErrShortWrite; a MapReadOnly mapping returns
// ErrReadOnly; a fault (a truncated file, a full tmpfs) returns an error
// matching ErrFault.
func (m *Mapping) WriteAt(p []byte, off int64) (int, error) { return m.writeAt(p, off, m.wrap) }

// Len returns the length of the mapping, 0 after Close.
func (m *Mapping) Len() int { return m.length() }

// Bytes returns the mapped memory itself, for zero-copy access. The slice is
// valid only until Close; using it afterwards, writing to it when mapped
// MapReadOnly, or reading pages past the end of a file another process
// truncated, crashes the process. It is nil after Close.
func (m *Mapping) Bytes() []byte { return m.bytes() }

// Sync flushes changes to the file and waits for the write (msync
// MS_SYNC). Other processes see writes without it; Sync is for durability.
func (m *Mapping) Sync() error {
	return m.call("msync", func() error { return m.sys.impl.Msync(m.full, unix.MS_SYNC) })
}

// Advise passes advice (unix.MADV_SEQUENTIAL, MADV_WILLNEED, ...) to the
// kernel for the whole mapping (madvise).
func (m *Mapping) Advise(advice int) error {
	return m.call("madvise", func() error {
		if advice != int(int32(advice)) {
			// madvise takes a C int: a wider value would be truncated
			// to some other advice.
			return syscall.EINVAL
		}
		return m.sys.impl.Madvise(m.full, advice)
	})
}

// Lock locks the mapping's pages in memory (mlock).
func (m *Mapping) Lock() error {
	return m.call("mlock", func() error { return m.sys.impl.Mlock(m.full) })
}

// Unlock unlocks the mapping's pages (munlock).
func (m *Mapping) Unlock() error {
	return m.call("munlock", func() error { return m.sys.impl.Munlock(m.full) })
}

// Close unmaps the memory (munmap). It is idempotent: later calls return
// nil.
func (m *Mapping) Close() error {
	if err := m.close(); err != nil {
		return m.err("munmap", err)
	}
	return nil
}

// call runs a system call on a live mapping; an empty mapping has nothing
// to call it on and succeeds.
func (m *Mapping) call(op string, fn func() error) error {
	err := m.use(func([]byte) error {
		if m.full == nil {
			return nil
		}
		return fn()
	})
	if err != nil {
		return m.err(op, err)
	}
	return nil
}

func (m *Mapping) err(op string, err error) error {
	return &fs.PathError{Op: op, Path: m.path, Err: err}
}

func (m *Mapping) wrap(op string, err error) error { return m.err(op, err) }
