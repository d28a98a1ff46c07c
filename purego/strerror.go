package purego

import (
	"strconv"
	"syscall"
)

//go:generate go run ../internal/gen/strerror -o strerror_table.go

// Strerror returns glibc's strerror(3) text for errno, from a table generated
// from glibc (see strerror_table.go for the version): "Success" for 0, the
// message for every errno glibc knows, and glibc's "Unknown error N" for the
// rest. As in C, where strerror takes an int, errno is read as a signed
// 32-bit number, so syscall.Errno(1<<32-1) is "Unknown error -1".
func Strerror(errno syscall.Errno) string {
	e := int32(errno)
	if e >= 0 && int(e) < len(errnoText) && errnoText[e] != "" {
		return errnoText[e]
	}
	return "Unknown error " + strconv.Itoa(int(e))
}
