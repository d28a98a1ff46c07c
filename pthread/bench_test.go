package pthread_test

import (
	"testing"

	"github.com/shmmap/shmmap/pthread"
)

// BenchmarkUncontended: Lock+Unlock in one goroutine, for every type of
// mutex, robust or not, in a MAP_SHARED mapping.
func BenchmarkUncontended(b *testing.B) {
	for _, attr := range allocKinds {
		b.Run(attr.Type.String()+robustName(attr.Robust), func(b *testing.B) {
			m, err := pthread.InitMutex(sharedMem(b, 4096), attr)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := m.Lock(); err != nil {
					b.Fatal(err)
				}
				if err := m.Unlock(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkUncontendedOn: LockOn+UnlockOn with a Thread, in one
// goroutine, for every type of mutex, robust or not.
func BenchmarkUncontendedOn(b *testing.B) {
	for _, attr := range allocKinds {
		b.Run(attr.Type.String()+robustName(attr.Robust), func(b *testing.B) {
			m, err := pthread.InitMutex(sharedMem(b, 4096), attr)
			if err != nil {
				b.Fatal(err)
			}
			th := pthread.Self()
			defer th.Release()
			b.ReportAllocs()
			for b.Loop() {
				if err := m.LockOn(th); err != nil {
					b.Fatal(err)
				}
				if err := m.UnlockOn(th); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
