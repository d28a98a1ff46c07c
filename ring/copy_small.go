package ring

import "unsafe"

// move32 copies 32 bytes from src to dst, which do not overlap, in 8-byte
// words. The fast paths copy a message of 32 to 64 bytes — the common
// small message — as its first and its last 32 bytes (which overlap when
// it is shorter than 64) with two of these, inlined: no call to the
// runtime's memmove, whose size dispatch and call cost more than the copy
// itself at this size. Only the paths that run with the asymmetric gate
// use it — x86, where unaligned 8-byte accesses are fine, and outside the
// race detector, whose pointer checks would refuse them.
func move32(dst, src unsafe.Pointer) {
	s, d := (*[4]uint64)(src), (*[4]uint64)(dst)
	d[0], d[1], d[2], d[3] = s[0], s[1], s[2], s[3]
}
