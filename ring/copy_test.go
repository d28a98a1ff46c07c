package ring_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/shmmap/shmmap/ring"
)

// TestCopyLikeBuiltin: Copy leaves dst and returns exactly what the
// built-in copy does, at the sizes where the routine changes (ermsMin on
// amd64, runtime.memmove's 1 MiB), at every alignment that matters
// (payloads start 8 bytes into a record), with dst or src the shorter,
// and with dst and src overlapping in both directions (REP MOVSB alone
// would copy the forward overlap wrong).
func TestCopyLikeBuiltin(t *testing.T) {
	sizes := []int{0, 1, 100, 2047, 2048, 5476, 87396, 1<<20 + 1}
	if testing.Short() || raceEnabled {
		sizes = sizes[:len(sizes)-1]
	}
	for _, n := range sizes {
		big := n + 128
		backing := make([]byte, 2*big+256)
		fill := func() {
			for i := range backing {
				backing[i] = byte(i*7 + i>>9)
			}
		}
		for _, c := range []struct {
			name           string
			dstOff, srcOff int
			dstLen, srcLen int
		}{
			{"apart", big + 8, 0, n, n},
			{"apart-unaligned", big + 8 + 3, 1, n, n},
			{"dst-shorter", big + 8, 0, n / 2, n},
			{"src-shorter", big + 8, 0, n, n / 2},
			{"overlap-dst-after", 64, 8, n, n},
			{"overlap-dst-before", 8, 64, n, n},
			{"same", 8, 8, n, n},
		} {
			t.Run(fmt.Sprintf("%s/n=%d", c.name, n), func(t *testing.T) {
				fill()
				got := ring.Copy(backing[c.dstOff:c.dstOff+c.dstLen], backing[c.srcOff:c.srcOff+c.srcLen])
				after := bytes.Clone(backing)
				fill()
				want := copy(backing[c.dstOff:c.dstOff+c.dstLen], backing[c.srcOff:c.srcOff+c.srcLen])
				if got != want {
					t.Fatalf("Copy returned %d, copy %d", got, want)
				}
				if i := firstDiff(after, backing); i >= 0 {
					t.Fatalf("byte %d is %#x after Copy, %#x after copy", i, after[i], backing[i])
				}
			})
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	return -1
}
