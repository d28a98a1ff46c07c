//go:build cgo

package cshim

/*
#cgo CFLAGS: -D_FILE_OFFSET_BITS=64
#include <sys/mman.h>
#include <unistd.h>
*/
import "C"

import "unsafe"

// addr returns the C address of data, NULL for an empty slice.
func addr(data []byte) unsafe.Pointer {
	if len(data) == 0 {
		return nil
	}
	return unsafe.Pointer(&data[0])
}

// Madvise calls madvise(2).
func Madvise(data []byte, advice int) error {
	if r, err := C.madvise(addr(data), C.size_t(len(data)), C.int(advice)); r == -1 {
		return err
	}
	return nil
}

// Mlock calls mlock(2).
func Mlock(data []byte) error {
	if r, err := C.mlock(addr(data), C.size_t(len(data))); r == -1 {
		return err
	}
	return nil
}

// Munlock calls munlock(2).
func Munlock(data []byte) error {
	if r, err := C.munlock(addr(data), C.size_t(len(data))); r == -1 {
		return err
	}
	return nil
}

// Ftruncate calls ftruncate(2).
func Ftruncate(fd int, length int64) error {
	if r, err := C.ftruncate(C.int(fd), C.off_t(length)); r == -1 {
		return err
	}
	return nil
}
