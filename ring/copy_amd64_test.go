//go:build !race

package ring

import (
	"bytes"
	"fmt"
	"testing"
)

// TestCopyInBothPaths runs copyIn with REP MOVSB and with copy, whatever
// this CPU reports: a machine with ERMS (most Intel, AMD from Zen 3) takes
// the first path in production and one without it the second, and each
// machine's tests must cover the path the other takes. REP MOVSB is
// correct on every x86-64 CPU; ERMS only makes it fast.
func TestCopyInBothPaths(t *testing.T) {
	saved := hasERMS
	defer func() { hasERMS = saved }()
	t.Logf("this CPU reports ERMS: %v", saved)
	src := make([]byte, 70000)
	for i := range src {
		src[i] = byte(i*7 + i>>8)
	}
	sizes := []int{0, 1, 15, ermsMin - 1, ermsMin, ermsMin + 1, 4095, 4096, 4097, 65536, 65537}
	for _, erms := range []bool{true, false} {
		hasERMS = erms
		for _, n := range sizes {
			for _, off := range []int{0, 1, 7, 8, 56, 63, 64} {
				soff := (off * 5) % 64 // the source's alignment differs
				t.Run(fmt.Sprintf("erms=%v/n=%d/off=%d", erms, n, off), func(t *testing.T) {
					dst := bytes.Repeat([]byte{0xee}, n+off+64)
					copyIn(dst[off:off+n], src[soff:soff+n])
					if !bytes.Equal(dst[off:off+n], src[soff:soff+n]) {
						t.Fatal("copied bytes differ")
					}
					for i, b := range dst {
						if (i < off || i >= off+n) && b != 0xee {
							t.Fatalf("byte %d outside the copy changed to %#x", i, b)
						}
					}
				})
			}
		}
	}
}
