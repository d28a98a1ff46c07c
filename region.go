package shmmap

import (
	"io"
	"runtime/debug"
	"sync"
)

// region is memory shared with other processes (an attachment or a
// mapping) behind the safe methods: bounds are checked before any access,
// faults become errors, and nothing touches the memory once it is released.
type region struct {
	mu       sync.RWMutex
	data     []byte // the caller's view; nil once released
	writable bool
	mem      []byte             // what was mapped or attached (data may be part of it)
	release  func([]byte) error // munmap or shmdt of mem, called once; nil if nothing to release
}

// errWrap wraps an error from a region method with the caller's operation
// and the object's name.
type errWrap func(op string, err error) error

// readAt implements io.ReaderAt over the region.
func (r *region) readAt(p []byte, off int64, wrap errWrap) (int, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.data == nil {
		return 0, wrap("read", ErrClosed)
	}
	if off < 0 || off > int64(len(r.data)) {
		return 0, wrap("read", ErrOutOfRange)
	}
	n, err := guardedCopy(p, r.data[off:])
	if err != nil {
		return 0, wrap("read", err)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// writeAt implements io.WriterAt over the region. A write that does not fit
// writes what fits and returns io.ErrShortWrite.
func (r *region) writeAt(p []byte, off int64, wrap errWrap) (int, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.data == nil {
		return 0, wrap("write", ErrClosed)
	}
	if !r.writable {
		return 0, wrap("write", ErrReadOnly)
	}
	if off < 0 || off > int64(len(r.data)) {
		return 0, wrap("write", ErrOutOfRange)
	}
	n, err := guardedCopy(r.data[off:], p)
	if err != nil {
		return 0, wrap("write", err)
	}
	if n < len(p) {
		return n, wrap("write", io.ErrShortWrite)
	}
	return n, nil
}

// bytes returns the memory itself, or nil once released.
func (r *region) bytes() []byte {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.data
}

// length returns the size of the memory, 0 once released.
func (r *region) length() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.data)
}

// use runs fn on the memory under the read lock, or returns ErrClosed.
func (r *region) use(fn func(data []byte) error) error {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.data == nil {
		return ErrClosed
	}
	return fn(r.data)
}

// close releases the memory once; later calls return nil. It waits for
// reads and writes in progress.
func (r *region) close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.data == nil {
		return nil
	}
	if r.release != nil {
		if err := r.release(r.mem); err != nil {
			return err
		}
	}
	r.data = nil
	return nil
}

// guardedCopy is copy(dst, src) with memory faults (SIGBUS from a file
// truncated under a mapping, SIGSEGV from a protected page) turned into a
// *FaultError instead of crashing the process.
func guardedCopy(dst, src []byte) (n int, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if v := recover(); v != nil {
			f, ok := v.(interface{ Addr() uintptr })
			if !ok {
				panic(v)
			}
			n, err = 0, &FaultError{Addr: f.Addr()}
		}
	}()
	return copy(dst, src), nil
}
