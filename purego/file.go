package purego

import "golang.org/x/sys/unix"

// Open is open(2). Like C's open it does not add O_CLOEXEC; pass it in flag
// when the descriptor must not leak into child processes.
func Open(path string, flag int, mode uint32) (int, error) {
	fd, err := unix.Open(path, flag, mode)
	if err != nil {
		return -1, errnoOf(err)
	}
	return fd, nil
}

// Close is close(2).
func Close(fd int) error { return errnoOf(unix.Close(fd)) }

// Read is read(2). It returns -1 and the errno on failure.
func Read(fd int, p []byte) (int, error) {
	n, err := unix.Read(fd, p)
	if err != nil {
		return -1, errnoOf(err)
	}
	return n, nil
}

// Fstat is fstat(2) reduced to st_size.
func Fstat(fd int) (int64, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return -1, errnoOf(err)
	}
	return st.Size, nil
}

// Ftruncate is ftruncate(2).
func Ftruncate(fd int, length int64) error { return errnoOf(unix.Ftruncate(fd, length)) }
