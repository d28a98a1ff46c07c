//go:build 386 || arm

package shmtest

import "golang.org/x/sys/unix"

// On these architectures the plain set*id calls take 16-bit ids; the *32
// ones take the full ids.
const (
	sysSetresuid = unix.SYS_SETRESUID32
	sysSetresgid = unix.SYS_SETRESGID32
	sysSetgroups = unix.SYS_SETGROUPS32
)
