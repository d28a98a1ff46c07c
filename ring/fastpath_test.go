package ring_test

import (
	"bytes"
	"testing"
)

// TestFastPathsEverySize: Write and Read (whose common case is written out
// in one function, with their own copy of small messages) against TryWrite
// and TryRead (the general path), for every message size from 0 to 300
// bytes and some large ones, over several laps of the ring: the two rings'
// memories stay byte for byte equal, Read returns the bytes written, and
// the bytes of the buffer after the message are left alone.
func TestFastPathsEverySize(t *testing.T) {
	forBothGates(t, func(t *testing.T) {
		memF, _, pf, cf := newRing(t, 16384) // every record under half the ring: never waits for padding to be read
		memS, _, ps, cs := newRing(t, 16384)
		sizes := []int{}
		for n := 0; n <= 300; n++ {
			sizes = append(sizes, n)
		}
		sizes = append(sizes, 1000, 2047, 2048, 2049, 4000)
		bufF, bufS := make([]byte, 4200), make([]byte, 4200)
		for lap := range 8 {
			for _, n := range sizes {
				msg := make([]byte, n)
				for i := range msg {
					msg[i] = byte(i*7 + n + lap)
				}
				typ := uint32(n + 1)
				if err := pf.Write(typ, msg); err != nil {
					t.Fatalf("Write of %d bytes: %v", n, err)
				}
				if err := ps.TryWrite(typ, msg); err != nil {
					t.Fatalf("TryWrite of %d bytes: %v", n, err)
				}
				if !bytes.Equal(memF, memS) {
					t.Fatalf("lap %d, %d bytes: the memory after Write differs from the memory after TryWrite", lap, n)
				}
				for i := range bufF {
					bufF[i], bufS[i] = 0xA5, 0xA5
				}
				gtF, nF, errF := cf.Read(bufF)
				gtS, nS, errS := cs.TryRead(bufS)
				if errF != nil || errS != nil || gtF != typ || gtS != typ || nF != n || nS != n {
					t.Fatalf("lap %d, %d bytes: Read %d, %d, %v; TryRead %d, %d, %v", lap, n, gtF, nF, errF, gtS, nS, errS)
				}
				if !bytes.Equal(bufF[:n], msg) || !bytes.Equal(bufF, bufS) {
					t.Fatalf("lap %d, %d bytes: Read gave other bytes, or wrote past the message", lap, n)
				}
				if !bytes.Equal(memF, memS) {
					t.Fatalf("lap %d, %d bytes: the memory after Read differs from the memory after TryRead", lap, n)
				}
			}
		}
	})
}
