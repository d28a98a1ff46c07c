//go:build 386 || arm

package testutil

import "golang.org/x/sys/unix"

// On these architectures the plain set*id calls take 16-bit ids.
const (
	sysSetresuid = unix.SYS_SETRESUID32
	sysSetresgid = unix.SYS_SETRESGID32
)
