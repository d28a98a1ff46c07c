package bench

import (
	"os"
	"testing"

	mmapgo "github.com/edsrzf/mmap-go"
	"github.com/shmmap/shmmap"
	"github.com/shmmap/shmmap/impls"
	xmmap "golang.org/x/exp/mmap"
	"golang.org/x/sys/unix"
)

// BenchmarkMmap4K: mmap+munmap of a 4 KiB file that is already open (C,
// cshim, purego, the shmmap API, mmap-go); golang.org/x/exp/mmap can only
// map by path, so its row includes open and close.
func BenchmarkMmap4K(b *testing.B) {
	path := file4k(b)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	mustf(b, err, "open")
	defer f.Close()
	fd := int(f.Fd())
	b.Run("C", func(b *testing.B) { cBench(b, 1000, "perop", "mmap_4k", path) })
	for _, sys := range impls.All() {
		b.Run(sys.Name, func(b *testing.B) {
			for b.Loop() {
				mem, err := sys.Mmap(fd, 0, 4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
				mustf(b, err, "mmap")
				mustf(b, sys.Munmap(mem), "munmap")
			}
		})
	}
	b.Run("shmmap.Map", func(b *testing.B) {
		for b.Loop() {
			m, err := shmmap.Map(f, 0, 4096, shmmap.MapShared)
			mustf(b, err, "Map")
			mustf(b, m.Close(), "Close")
		}
	})
	b.Run("mmap-go", func(b *testing.B) {
		for b.Loop() {
			m, err := mmapgo.MapRegion(f, 4096, mmapgo.RDWR, 0, 0)
			mustf(b, err, "MapRegion")
			mustf(b, m.Unmap(), "Unmap")
		}
	})
	b.Run("x-exp-mmap(open+map+close)", func(b *testing.B) {
		for b.Loop() {
			r, err := xmmap.Open(path)
			mustf(b, err, "Open")
			mustf(b, r.Close(), "Close")
		}
	})
}

// BenchmarkMapRead and BenchmarkMapWrite: a 4 KiB read or write through a
// live mapping, the safe API against the peers' zero-copy access.
func BenchmarkMapRead(b *testing.B) {
	path := file4k(b)
	buf := make([]byte, 4096)
	b.SetBytes(4096)
	b.Run("shmmap.ReadAt", func(b *testing.B) {
		m := mapShmmap(b, path)
		b.SetBytes(4096)
		for b.Loop() {
			_, err := m.ReadAt(buf, 0)
			mustf(b, err, "ReadAt")
		}
	})
	b.Run("shmmap.Bytes", func(b *testing.B) {
		m := mapShmmap(b, path)
		mem := m.Bytes()
		b.SetBytes(4096)
		for b.Loop() {
			copy(buf, mem)
		}
	})
	b.Run("mmap-go", func(b *testing.B) {
		m := mapMmapGo(b, path)
		b.SetBytes(4096)
		for b.Loop() {
			copy(buf, m)
		}
	})
	b.Run("x-exp-mmap.ReadAt", func(b *testing.B) {
		r, err := xmmap.Open(path)
		mustf(b, err, "Open")
		defer r.Close()
		b.SetBytes(4096)
		for b.Loop() {
			_, err := r.ReadAt(buf, 0)
			mustf(b, err, "ReadAt")
		}
	})
}

func BenchmarkMapWrite(b *testing.B) {
	path := file4k(b)
	buf := make([]byte, 4096)
	b.Run("shmmap.WriteAt", func(b *testing.B) {
		m := mapShmmap(b, path)
		b.SetBytes(4096)
		for b.Loop() {
			_, err := m.WriteAt(buf, 0)
			mustf(b, err, "WriteAt")
		}
	})
	b.Run("shmmap.Bytes", func(b *testing.B) {
		m := mapShmmap(b, path)
		mem := m.Bytes()
		b.SetBytes(4096)
		for b.Loop() {
			copy(mem, buf)
		}
	})
	b.Run("mmap-go", func(b *testing.B) {
		m := mapMmapGo(b, path)
		b.SetBytes(4096)
		for b.Loop() {
			copy(m, buf)
		}
	})
}

// BenchmarkMapSync: msync(MS_SYNC) of a dirtied 4 KiB page.
func BenchmarkMapSync(b *testing.B) {
	path := file4k(b)
	b.Run("shmmap.Sync", func(b *testing.B) {
		m := mapShmmap(b, path)
		for i := 0; b.Loop(); i++ {
			m.Bytes()[0] = byte(i)
			mustf(b, m.Sync(), "Sync")
		}
	})
	b.Run("mmap-go", func(b *testing.B) {
		m := mapMmapGo(b, path)
		for i := 0; b.Loop(); i++ {
			m[0] = byte(i)
			mustf(b, m.Flush(), "Flush")
		}
	})
}

// mapShmmap maps path shared with the shmmap API until the benchmark ends.
func mapShmmap(b *testing.B, path string) *shmmap.Mapping {
	m, err := shmmap.MapFile(path, shmmap.MapShared)
	mustf(b, err, "MapFile")
	b.Cleanup(func() { m.Close() })
	return m
}

// mapMmapGo maps path read-write with mmap-go until the benchmark ends.
func mapMmapGo(b *testing.B, path string) mmapgo.MMap {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	mustf(b, err, "open")
	defer f.Close()
	m, err := mmapgo.Map(f, mmapgo.RDWR, 0)
	mustf(b, err, "Map")
	b.Cleanup(func() { m.Unmap() })
	return m
}
