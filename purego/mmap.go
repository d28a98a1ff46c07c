package purego

import "golang.org/x/sys/unix"

// Mmap is mmap(2) with a NULL address. The returned slice is length bytes
// long; pages past the end of the file are mapped but not part of the slice.
func Mmap(fd int, offset int64, length int, prot int, flags int) ([]byte, error) {
	b, err := unix.Mmap(fd, offset, length, prot, flags)
	return b, errnoOf(err)
}

// Munmap is munmap(2) on memory returned by Mmap.
func Munmap(data []byte) error { return errnoOf(unix.Munmap(data)) }

// Msync is msync(2): flags is MS_SYNC or MS_ASYNC, optionally with
// MS_INVALIDATE.
func Msync(data []byte, flags int) error { return errnoOf(unix.Msync(data, flags)) }
