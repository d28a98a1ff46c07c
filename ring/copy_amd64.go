//go:build !race

package ring

import "golang.org/x/sys/cpu"

// ermsMin is the message size from which copyIn uses REP MOVSB.
const ermsMin = 2048

var hasERMS = cpu.X86.HasERMS

// copyIn copies a message into the ring (Write) or out of it (Read, and
// Copy for the in-place APIs); dst and src do not overlap. The ring's lines
// were last held by the other side's core, so every store to them first
// has to take the line over. runtime.memmove copies large blocks with
// vector stores, each of which reads the line in before overwriting it;
// REP MOVSB on a CPU with enhanced REP MOVSB writes whole lines without
// reading them, which is also what glibc's memcpy does at these sizes.
// Measured by `make bench` (BenchmarkStream/ring-Go-*): about twice the
// throughput at 4 KiB and three times at 64 KiB, level with the C ring.
// From 1 MiB, runtime.memmove also switches to non-temporal stores when
// the destination is not 16-byte aligned (a record's payload never is):
// they bypass the caches, and the peer, which reads the message at once,
// then fetches all of it from memory: with two threads pinned to two
// cores, copying a 1.4 MB message the other core had just written took
// 200-360 µs that way against 120-145 µs with REP MOVSB. (Not under -race,
// whose instrumentation of copy the in-process tests rely on.)
func copyIn(dst, src []byte) {
	if hasERMS && len(src) >= ermsMin && len(dst) >= len(src) {
		repMovsb(&dst[0], &src[0], uintptr(len(src)))
		return
	}
	copy(dst, src)
}
