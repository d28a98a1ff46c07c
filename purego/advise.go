package purego

import "golang.org/x/sys/unix"

// Madvise is madvise(2).
func Madvise(data []byte, advice int) error { return errnoOf(unix.Madvise(data, advice)) }

// Mlock is mlock(2).
func Mlock(data []byte) error { return errnoOf(unix.Mlock(data)) }

// Munlock is munlock(2).
func Munlock(data []byte) error { return errnoOf(unix.Munlock(data)) }
