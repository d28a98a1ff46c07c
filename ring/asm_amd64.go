package ring

// pause is the x86 PAUSE instruction: a spin-wait hint that frees the
// core's resources for a sibling hyperthread (perhaps the peer) and avoids
// the memory-order mis-speculation penalty when the awaited store lands.
// cring/ring.h spins with the same instruction.
//
//go:noescape
func pause()

// repMovsb copies n bytes from src to dst with REP MOVSB (see copy_amd64.go).
//
//go:noescape
func repMovsb(dst, src *byte, n uintptr)
