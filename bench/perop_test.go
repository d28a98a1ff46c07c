package bench

import (
	"os"
	"path/filepath"
	"testing"

	gen2brain "github.com/gen2brain/shm"
	"github.com/shmmap/shmmap/impls"
	"golang.org/x/sys/unix"
)

// BenchmarkShmCycle: shmget(IPC_PRIVATE)+shmat+shmdt+IPC_RMID.
func BenchmarkShmCycle(b *testing.B) {
	b.Run("C", func(b *testing.B) { cBench(b, 1000, "perop", "shm_cycle") })
	for _, sys := range impls.All() {
		b.Run(sys.Name, func(b *testing.B) {
			for b.Loop() {
				id, err := sys.Shmget(unix.IPC_PRIVATE, 4096, unix.IPC_CREAT|0o600)
				mustf(b, err, "shmget")
				mem, err := sys.ShmatSize(id, 0, 4096) // size known, as in C: no IPC_STAT
				mustf(b, err, "shmat")
				mustf(b, sys.Shmdt(mem), "shmdt")
				_, err = sys.Shmctl(id, unix.IPC_RMID, nil)
				mustf(b, err, "IPC_RMID")
			}
		})
	}
	b.Run("gen2brain", func(b *testing.B) {
		for b.Loop() {
			id, err := gen2brain.Get(gen2brain.IPC_PRIVATE, 4096, gen2brain.IPC_CREAT|0o600)
			mustf(b, err, "Get")
			mem, err := gen2brain.At(id, 0, 0)
			mustf(b, err, "At")
			mustf(b, gen2brain.Dt(mem), "Dt")
			mustf(b, gen2brain.Rm(id), "Rm")
		}
	})
}

// BenchmarkShmAttach: shmat+shmdt of an existing segment.
func BenchmarkShmAttach(b *testing.B) {
	b.Run("C", func(b *testing.B) { cBench(b, 1000, "perop", "shm_attach") })
	for _, sys := range impls.All() {
		b.Run(sys.Name, func(b *testing.B) {
			id, err := sys.Shmget(unix.IPC_PRIVATE, 4096, unix.IPC_CREAT|0o600)
			mustf(b, err, "shmget")
			defer sys.Shmctl(id, unix.IPC_RMID, nil)
			for b.Loop() {
				mem, err := sys.ShmatSize(id, 0, 4096) // size known, as in C: no IPC_STAT
				mustf(b, err, "shmat")
				mustf(b, sys.Shmdt(mem), "shmdt")
			}
		})
	}
	b.Run("gen2brain", func(b *testing.B) {
		id, err := gen2brain.Get(gen2brain.IPC_PRIVATE, 4096, gen2brain.IPC_CREAT|0o600)
		mustf(b, err, "Get")
		defer gen2brain.Rm(id)
		for b.Loop() {
			mem, err := gen2brain.At(id, 0, 0)
			mustf(b, err, "At")
			mustf(b, gen2brain.Dt(mem), "Dt")
		}
	})
}

// file4k makes a 4 KiB file for the mapping benchmarks.
func file4k(b *testing.B) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "f4k")
	mustf(b, os.WriteFile(path, make([]byte, 4096), 0o600), "write")
	return path
}

// BenchmarkFtok: ftok of an existing file.
func BenchmarkFtok(b *testing.B) {
	path := file4k(b)
	b.Run("C", func(b *testing.B) { cBench(b, 1000, "perop", "ftok", path) })
	for _, sys := range impls.All() {
		b.Run(sys.Name, func(b *testing.B) {
			for b.Loop() {
				_, err := sys.Ftok(path, 'A')
				mustf(b, err, "ftok")
			}
		})
	}
}
