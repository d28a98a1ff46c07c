// Package ringmsg generates and checks the test messages the ring's
// cross-process tests stream. cring/testdata/msg.h is the same generator in
// C; the two must agree byte for byte.
//
// Message i of a stream with seed s and size limit max (max >= MinSize):
//
//	r     = splitmix64(s + i*0x9E3779B97F4A7C15)
//	size  = by r%1000: <600 → 12+(r>>10)%53 (12..64); <900 → 65+(r>>10)%448
//	        (65..512); <990 → 513+(r>>10)%3584 (513..4096); else
//	        4097+(r>>10)%4096 (4097..8192); then at most max
//	type  = (r>>40) & 0xffff
//	bytes 4..12 = i (little-endian), bytes 12.. = xorshift64 stream from r|1
//	        (x ^= x<<13; x ^= x>>7; x ^= x<<17; each x stored little-endian,
//	        the last one truncated)
//	bytes 0..4  = Checksum(bytes 4..size), little-endian
//
// Checksum is FNV-1a-like over 8-byte little-endian words: h starts at
// 0xcbf29ce484222325; per whole word h = (h ^ w) * 0x100000001b3, h ^= h>>32;
// per remaining byte h = (h ^ b) * 0x100000001b3; the result is the low 32
// bits of h ^ h>>29.
package ringmsg

import (
	"encoding/binary"
	"fmt"
)

// MinSize is the smallest message: a checksum and a sequence number.
const MinSize = 12

func splitmix64(x uint64) uint64 {
	x += 0x9E3779B97F4A7C15
	z := x
	z = (z ^ z>>30) * 0xBF58476D1CE4E5B9
	z = (z ^ z>>27) * 0x94D049BB133111EB
	return z ^ z>>31
}

// Spec returns message i's type and size.
func Spec(seed, i uint64, max int) (typ uint32, size int, r uint64) {
	r = splitmix64(seed + i*0x9E3779B97F4A7C15)
	k := r >> 10
	switch c := r % 1000; {
	case c < 600:
		size = 12 + int(k%53)
	case c < 900:
		size = 65 + int(k%448)
	case c < 990:
		size = 513 + int(k%3584)
	default:
		size = 4097 + int(k%4096)
	}
	size = min(size, max)
	return uint32(r>>40) & 0xffff, size, r
}

// Fill writes message i into b, which must be exactly its size, and returns
// its checksum.
func Fill(b []byte, i, r uint64) uint32 {
	binary.LittleEndian.PutUint64(b[4:], i)
	x := r | 1
	p := b[12:]
	for len(p) >= 8 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		binary.LittleEndian.PutUint64(p, x)
		p = p[8:]
	}
	if len(p) > 0 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], x)
		copy(p, w[:])
	}
	sum := Checksum(b[4:])
	binary.LittleEndian.PutUint32(b, sum)
	return sum
}

// Checksum is the per-message checksum.
func Checksum(b []byte) uint32 {
	h := uint64(0xcbf29ce484222325)
	for len(b) >= 8 {
		h = (h ^ binary.LittleEndian.Uint64(b)) * 0x100000001b3
		h ^= h >> 32
		b = b[8:]
	}
	for _, c := range b {
		h = (h ^ uint64(c)) * 0x100000001b3
	}
	return uint32(h ^ h>>29)
}

// Check verifies that msg, of type typ, is message i of the stream and
// returns its checksum.
func Check(seed, i uint64, max int, typ uint32, msg []byte) (uint32, error) {
	wantTyp, size, _ := Spec(seed, i, max)
	if len(msg) != size || typ != wantTyp {
		return 0, fmt.Errorf("message %d: type %d, %d bytes; want type %d, %d bytes", i, typ, len(msg), wantTyp, size)
	}
	if seq := binary.LittleEndian.Uint64(msg[4:]); seq != i {
		return 0, fmt.Errorf("message %d: carries sequence number %d", i, seq)
	}
	sum := binary.LittleEndian.Uint32(msg)
	if got := Checksum(msg[4:]); got != sum {
		return 0, fmt.Errorf("message %d: checksum %#08x, the bytes sum to %#08x", i, sum, got)
	}
	return sum, nil
}

// Totals is the end-to-end account both sides print.
type Totals struct {
	Count uint64
	Sum   uint64 // the sum of the per-message checksums
}

// Add counts one message.
func (t *Totals) Add(sum uint32) { t.Count++; t.Sum += uint64(sum) }

func (t Totals) String() string { return fmt.Sprintf("count %d sum %d", t.Count, t.Sum) }

// Expect returns the totals of the first n messages.
func Expect(seed, n uint64, max int) Totals {
	var t Totals
	buf := make([]byte, max)
	for i := range n {
		_, size, r := Spec(seed, i, max)
		t.Add(Fill(buf[:size], i, r))
	}
	return t
}
