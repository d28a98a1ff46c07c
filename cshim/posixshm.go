//go:build cgo

package cshim

/*
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>

// shm_open is not variadic, but keep the mode conversion in C.
static int shim_shm_open(const char *name, int flag, unsigned int mode) {
	return shm_open(name, flag, (mode_t)mode);
}
*/
import "C"

import "unsafe"

// ShmOpen calls glibc's shm_open(3).
func ShmOpen(name string, flag int, mode uint32) (int, error) {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	fd, err := C.shim_shm_open(cname, C.int(flag), C.uint(mode))
	if fd == -1 {
		return -1, err
	}
	return int(fd), nil
}

// ShmUnlink calls glibc's shm_unlink(3).
func ShmUnlink(name string) error {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	if r, err := C.shm_unlink(cname); r == -1 {
		return err
	}
	return nil
}

// MemfdCreate calls glibc's memfd_create(2) wrapper.
func MemfdCreate(name string, flags int) (int, error) {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	fd, err := C.memfd_create(cname, C.uint(flags))
	if fd == -1 {
		return -1, err
	}
	return int(fd), nil
}
