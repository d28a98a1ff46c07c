//go:build cgo

package csem_test

import (
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/shmmap/shmmap/posixsem"
	"github.com/shmmap/shmmap/posixsem/csem"
	"golang.org/x/sys/unix"
)

// The conformance suite in package posixsem runs csem against the pure-Go
// implementation; this is only a smoke test of the wrappers.

func TestNamed(t *testing.T) {
	name := fmt.Sprintf("/posixsem-%d-csem", os.Getpid())
	t.Cleanup(func() { csem.Unlink(name) })
	s, err := csem.Open(name, os.O_CREATE|os.O_EXCL, 0o600, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := csem.Open(name, os.O_CREATE|os.O_EXCL, 0o600, 1); !errors.Is(err, unix.EEXIST) {
		t.Errorf("second exclusive sem_open: %v, want EEXIST", err)
	}
	if err := s.Wait(); err != nil {
		t.Fatal(err)
	}
	if err := s.TryWait(); !errors.Is(err, posixsem.ErrWouldBlock) || !errors.Is(err, unix.EAGAIN) {
		t.Errorf("sem_trywait at 0: %v, want ErrWouldBlock", err)
	}
	if err := s.Post(); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Value(); v != 1 || err != nil {
		t.Errorf("sem_getvalue = %d, %v; want 1", v, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Post(); !errors.Is(err, posixsem.ErrClosed) {
		t.Errorf("Post after Close: %v", err)
	}
	if err := csem.Unlink(name); err != nil {
		t.Fatal(err)
	}
	if err := csem.Unlink(name); !errors.Is(err, unix.ENOENT) {
		t.Errorf("second sem_unlink: %v, want ENOENT", err)
	}
}

func TestUnnamed(t *testing.T) {
	mem, err := unix.Mmap(-1, 0, 4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(mem)
	if _, err := csem.Init(mem, posixsem.ValueMax+1); !errors.Is(err, unix.EINVAL) {
		t.Errorf("sem_init above SEM_VALUE_MAX: %v, want EINVAL", err)
	}
	s, err := csem.Init(mem, 2)
	if err != nil {
		t.Fatal(err)
	}
	if csem.Size != posixsem.Size {
		t.Errorf("sizeof(sem_t) = %d, posixsem.Size = %d", csem.Size, posixsem.Size)
	}
	g, err := posixsem.At(mem)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := g.Value(); v != 2 || err != nil {
		t.Errorf("posixsem sees %d, %v after sem_init(2)", v, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}
