package bench

import (
	"testing"

	"github.com/shmmap/shmmap"
)

const copySize = 64 << 20

// BenchmarkCopy64M: copying 64 MiB into a segment — C memcpy, Go's copy
// into Bytes(), and the safe WriteAt and ReadAt.
func BenchmarkCopy64M(b *testing.B) {
	b.Run("C-memcpy", func(b *testing.B) {
		ns := cBench(b, 20, "perop", "memcpy_64m")
		b.ReportMetric(copySize/ns*1e9/1e6, "MB/s")
	})
	seg, err := shmmap.CreateSegment(shmmap.IPCPrivate, copySize, 0o600)
	mustf(b, err, "CreateSegment")
	defer seg.Remove()
	shm, err := seg.Attach(shmmap.AttachReadWrite)
	mustf(b, err, "Attach")
	defer shm.Detach()
	src := make([]byte, copySize)
	for i := range src {
		src[i] = 0xa5
	}
	copy(shm.Bytes(), src) // fault the pages in, as the C side does
	b.Run("Go-copy-Bytes", func(b *testing.B) {
		b.SetBytes(copySize)
		dst := shm.Bytes()
		for b.Loop() {
			copy(dst, src)
		}
	})
	b.Run("WriteAt", func(b *testing.B) {
		b.SetBytes(copySize)
		for b.Loop() {
			_, err := shm.WriteAt(src, 0)
			mustf(b, err, "WriteAt")
		}
	})
	b.Run("ReadAt", func(b *testing.B) {
		b.SetBytes(copySize)
		for b.Loop() {
			_, err := shm.ReadAt(src, 0)
			mustf(b, err, "ReadAt")
		}
	})
}
