package ring_test

import "testing"

func BenchmarkZZWrite(b *testing.B) {
	_, _, p, c := newRing(b, 1<<12)
	msg := make([]byte, 64)
	buf := make([]byte, 64)
	for b.Loop() {
		if err := p.Write(1, msg); err != nil {
			b.Fatal(err)
		}
		if _, _, err := c.Read(buf); err != nil {
			b.Fatal(err)
		}
	}
}
