package posixsem_test

// The conformance suite: the same cases over every implementation in
// impls, pure Go and (with cgo) glibc itself, so that every expected errno
// and value is glibc's.

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shmmap/shmmap/posixsem"
	"github.com/shmmap/shmmap/shmtest"
	"golang.org/x/sys/unix"
)

// kind makes a semaphore with a value, named or unnamed.
type kind struct {
	name string
	make func(t *testing.T, im impl, value uint32) (posixsem.Sem, error)
}

var kinds = []kind{
	{"named", func(t *testing.T, im impl, value uint32) (posixsem.Sem, error) {
		return im.open(semName(t), os.O_CREATE|os.O_EXCL, 0o600, value)
	}},
	{"unnamed", func(t *testing.T, im impl, value uint32) (posixsem.Sem, error) {
		return im.init(sharedMem(t, 4096), value)
	}},
}

// forEach runs fn for every implementation and kind of semaphore.
func forEach(t *testing.T, value uint32, fn func(t *testing.T, s posixsem.Sem)) {
	for _, im := range impls {
		for _, k := range kinds {
			t.Run(im.name+"/"+k.name, func(t *testing.T) {
				s, err := k.make(t, im, value)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { s.Close() })
				fn(t, s)
			})
		}
	}
}

func wantValue(t *testing.T, s posixsem.Sem, want int) {
	t.Helper()
	if v, err := s.Value(); err != nil || v != want {
		t.Fatalf("Value() = %d, %v; want %d", v, err, want)
	}
}

func wantErrno(t *testing.T, what string, err error, want syscall.Errno) {
	t.Helper()
	if got := errnoOf(err); got != want {
		t.Fatalf("%s: %v (errno %d), want errno %d (%v)", what, err, int(got), int(want), want)
	}
}

func TestValueSemantics(t *testing.T) {
	forEach(t, 3, func(t *testing.T, s posixsem.Sem) {
		wantValue(t, s, 3)
		for want := 2; want >= 0; want-- {
			if err := s.TryWait(); err != nil {
				t.Fatal(err)
			}
			wantValue(t, s, want)
		}
		err := s.TryWait()
		if !errors.Is(err, posixsem.ErrWouldBlock) || !errors.Is(err, unix.EAGAIN) {
			t.Fatalf("TryWait at 0 = %v, want ErrWouldBlock (EAGAIN)", err)
		}
		wantValue(t, s, 0)
		for range 2 {
			if err := s.Post(); err != nil {
				t.Fatal(err)
			}
		}
		wantValue(t, s, 2)
		if err := s.Wait(); err != nil {
			t.Fatal(err)
		}
		if err := s.WaitContext(context.Background()); err != nil {
			t.Fatal(err)
		}
		wantValue(t, s, 0)
	})
}

func TestPostOverflow(t *testing.T) {
	forEach(t, posixsem.ValueMax, func(t *testing.T, s posixsem.Sem) {
		wantErrno(t, "Post at SEM_VALUE_MAX", s.Post(), unix.EOVERFLOW)
		wantValue(t, s, posixsem.ValueMax)
		if err := s.TryWait(); err != nil {
			t.Fatal(err)
		}
		if err := s.Post(); err != nil {
			t.Fatal(err)
		}
		wantValue(t, s, posixsem.ValueMax)
	})
}

func TestInitialValueTooLarge(t *testing.T) {
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			name := semName(t)
			_, err := im.open(name, os.O_CREATE|os.O_EXCL, 0o600, posixsem.ValueMax+1)
			wantErrno(t, "Open with SEM_VALUE_MAX+1", err, unix.EINVAL)
			_, err = im.open(name, 0, 0, 0)
			wantErrno(t, "Open after the refused create", err, unix.ENOENT)
			_, err = im.init(sharedMem(t, 4096), posixsem.ValueMax+1)
			wantErrno(t, "Init with SEM_VALUE_MAX+1", err, unix.EINVAL)
		})
	}
}

func TestInitBadMemory(t *testing.T) {
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			mem := sharedMem(t, 4096)
			_, err := im.init(mem[1:], 0)
			wantErrno(t, "Init on misaligned memory", err, unix.EINVAL)
			_, err = im.init(mem[:posixsem.Size-1], 0)
			wantErrno(t, "Init on short memory", err, unix.EINVAL)
			// Half of sem_t's alignment: 4 on 64-bit, 2 on 32-bit, where
			// sem_t is 4-byte aligned and mem[4:] would be a valid place.
			_, err = im.at(mem[posixsem.Align/2:])
			wantErrno(t, "At on misaligned memory", err, unix.EINVAL)
		})
	}
}

func TestOpenExclusive(t *testing.T) {
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			name := semName(t)
			a, err := im.open(name, os.O_CREATE|os.O_EXCL, 0o600, 1)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			_, err = im.open(name, os.O_CREATE|os.O_EXCL, 0o600, 5)
			wantErrno(t, "second O_CREAT|O_EXCL", err, unix.EEXIST)
			if !errors.Is(err, fs.ErrExist) {
				t.Errorf("%v is not fs.ErrExist", err)
			}
			// O_CREAT alone opens the existing semaphore; its value argument
			// is ignored.
			b, err := im.open(name, os.O_CREATE, 0o600, 5)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			wantValue(t, b, 1)
			if err := b.Post(); err != nil {
				t.Fatal(err)
			}
			wantValue(t, a, 2)
			c, err := im.open(name, os.O_RDONLY, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if err := c.TryWait(); err != nil {
				t.Fatal(err)
			}
			wantValue(t, a, 1)
		})
	}
}

func TestOpenMissing(t *testing.T) {
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			name := semName(t)
			_, err := im.open(name, 0, 0, 0)
			wantErrno(t, "Open of a missing semaphore", err, unix.ENOENT)
			if !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%v is not fs.ErrNotExist", err)
			}
			_, err = im.open(name, os.O_EXCL, 0, 0)
			wantErrno(t, "Open O_EXCL without O_CREAT", err, unix.ENOENT)
		})
	}
}

func TestUnlink(t *testing.T) {
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			name := semName(t)
			s, err := im.open(name, os.O_CREATE|os.O_EXCL, 0o600, 1)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := im.unlink(name); err != nil {
				t.Fatal(err)
			}
			_, err = im.open(name, 0, 0, 0)
			wantErrno(t, "Open after Unlink", err, unix.ENOENT)
			wantErrno(t, "second Unlink", im.unlink(name), unix.ENOENT)
			// The open semaphore lives on, apart from a new one of the same
			// name.
			if err := s.Post(); err != nil {
				t.Fatal(err)
			}
			wantValue(t, s, 2)
			n, err := im.open(name, os.O_CREATE|os.O_EXCL, 0o600, 7)
			if err != nil {
				t.Fatal(err)
			}
			defer n.Close()
			wantValue(t, n, 7)
			wantValue(t, s, 2)
		})
	}
}

// TestNames: glibc 2.36's name rules (__shm_get_name with the "sem."
// prefix), errno for errno.
func TestNames(t *testing.T) {
	prefix := fmt.Sprintf("posixsem-%d-names-", os.Getpid())
	long := func(n int) string { return prefix + strings.Repeat("x", n-len(prefix)) }
	cases := []struct {
		name         string
		open, unlink syscall.Errno // 0: success
	}{
		{"", unix.EINVAL, unix.ENOENT},
		{"/", unix.EINVAL, unix.ENOENT},
		{"///", unix.EINVAL, unix.ENOENT},
		{"/a/b", unix.EINVAL, unix.ENOENT},
		{prefix + "dir/", unix.EINVAL, unix.ENOENT},
		{"/" + prefix + "plain", 0, 0},
		{"//" + prefix + "slashes", 0, 0},
		{prefix + "noslash", 0, 0},
		{"/" + long(251), 0, 0},
		// "sem." + name is longer than NAME_MAX: the kernel's ENAMETOOLONG.
		{"/" + long(252), unix.ENAMETOOLONG, unix.ENAMETOOLONG},
		{long(255), unix.ENAMETOOLONG, unix.ENAMETOOLONG},
		// Longer than glibc's buffer: glibc refuses the name itself.
		{"/" + long(256), unix.EINVAL, unix.ENOENT},
		{"/" + long(300), unix.EINVAL, unix.ENOENT},
	}
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			for _, c := range cases {
				label := c.name
				if len(label) > 40 {
					label = fmt.Sprintf("%s...(%d bytes)", label[:30], len(c.name))
				}
				s, err := im.open(c.name, os.O_CREATE, 0o600, 0)
				if err == nil {
					s.Close()
				}
				wantErrno(t, "Open "+label, err, c.open)
				wantErrno(t, "Unlink "+label, im.unlink(c.name), c.unlink)
			}
		})
	}
}

// TestNameForms: leading slashes do not matter.
func TestNameForms(t *testing.T) {
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			name := semName(t)
			a, err := im.open("//"+strings.TrimLeft(name, "/"), os.O_CREATE|os.O_EXCL, 0o600, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			b, err := im.open(strings.TrimLeft(name, "/"), 0, 0, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			if err := a.Post(); err != nil {
				t.Fatal(err)
			}
			wantValue(t, b, 1)
			path, ok := posixsem.Path(name)
			if !ok || path != "/dev/shm/sem."+strings.TrimLeft(name, "/") {
				t.Errorf("Path(%q) = %q, %v", name, path, ok)
			}
		})
	}
}

// TestFileFormat: the sem.NAME file each implementation creates: a regular
// file of sizeof(sem_t) bytes with the mode less the umask, holding the
// value, FUTEX_SHARED and zeroes.
func TestFileFormat(t *testing.T) {
	umask := unix.Umask(0o022)
	defer unix.Umask(umask)
	want := wantFile(7)
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			name := semName(t)
			s, err := im.open(name, os.O_CREATE|os.O_EXCL, 0o666, 7)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			path, _ := posixsem.Path(name)
			fi, err := os.Lstat(path)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode() != 0o644 || fi.Size() != int64(posixsem.Size) {
				t.Errorf("%s: mode %v size %d, want -rw-r--r-- and %d", path, fi.Mode(), fi.Size(), posixsem.Size)
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("%s holds\n%x, want\n%x", path, got, want)
			}
		})
	}
}

// TestPermissions: an unprivileged user cannot open or remove a root
// semaphore of mode 0600 (sem_unlink reports the sticky /dev/shm's EPERM
// as EACCES).
func TestPermissions(t *testing.T) {
	shmtest.RequireRoot(t)
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			name := semName(t)
			s, err := im.open(name, os.O_CREATE|os.O_EXCL, 0o644, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			var openErr, unlinkErr error
			shmtest.DoUnprivileged(t, func() {
				if s, err := im.open(name, 0, 0, 0); err == nil {
					s.Close()
				} else {
					openErr = err
				}
				unlinkErr = im.unlink(name)
			})
			wantErrno(t, "Open as nobody", openErr, unix.EACCES)
			if !errors.Is(openErr, fs.ErrPermission) {
				t.Errorf("%v is not fs.ErrPermission", openErr)
			}
			wantErrno(t, "Unlink as nobody", unlinkErr, unix.EACCES)
		})
	}
}

func TestClosed(t *testing.T) {
	forEach(t, 1, func(t *testing.T, s posixsem.Sem) {
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		_, verr := s.Value()
		for what, err := range map[string]error{
			"Post":        s.Post(),
			"Wait":        s.Wait(),
			"TryWait":     s.TryWait(),
			"WaitContext": s.WaitContext(context.Background()),
			"Value":       verr,
			"Close":       s.Close(),
		} {
			if !errors.Is(err, posixsem.ErrClosed) {
				t.Errorf("%s after Close: %v, want ErrClosed", what, err)
			}
		}
	})
}

// TestWaitContextDeadline: a wait with a deadline on a zero semaphore
// gives up in time with context.DeadlineExceeded and leaves no waiter
// registered.
func TestWaitContextDeadline(t *testing.T) {
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			mem := sharedMem(t, 4096)
			s, err := im.init(mem, 0)
			if err != nil {
				t.Fatal(err)
			}
			const timeout = 100 * time.Millisecond
			start := time.Now() // before the deadline is set: a preemption in between must not shorten the wait measured
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			err = s.WaitContext(ctx)
			elapsed := time.Since(start)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("WaitContext = %v, want DeadlineExceeded", err)
			}
			if elapsed < timeout-5*time.Millisecond || elapsed > timeout+3*time.Second {
				t.Errorf("gave up after %v, the deadline was %v", elapsed, timeout)
			}
			if n := rawWaiters(mem); n != 0 {
				t.Errorf("%d waiters registered after the timeout", n)
			}
			// An expired deadline still takes a token that is there, as
			// sem_timedwait does, and fails at once without one.
			if err := s.Post(); err != nil {
				t.Fatal(err)
			}
			if err := s.WaitContext(ctx); err != nil {
				t.Errorf("WaitContext with a token and an expired deadline = %v", err)
			}
			if err := s.WaitContext(ctx); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("WaitContext with an expired deadline = %v", err)
			}
		})
	}
}

// TestWaitContextCancel: a wait blocked in the kernel ends when its
// context is cancelled, and the semaphore is as before.
func TestWaitContextCancel(t *testing.T) {
	for _, im := range impls {
		t.Run(im.name, func(t *testing.T) {
			mem := sharedMem(t, 4096)
			s, err := im.init(mem, 0)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- s.WaitContext(ctx) }()
			waitAsleep(t, 0, hexAddr(addrOf(mem)), 1)
			cancel()
			select {
			case err := <-done:
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("WaitContext = %v, want Canceled", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("WaitContext did not return after cancel")
			}
			if n := rawWaiters(mem); n != 0 {
				t.Errorf("%d waiters registered after the cancel", n)
			}
			if err := s.Post(); err != nil {
				t.Fatal(err)
			}
			if err := s.Wait(); err != nil {
				t.Fatal(err)
			}
			wantValue(t, s, 0)
		})
	}
}

// TestCrossImplementation: every implementation uses the semaphores of
// every other one in the same process: unnamed on the same memory, named
// through separate mappings of the same file; a waiter blocked in one is
// woken by a post through the other.
func TestCrossImplementation(t *testing.T) {
	for _, a := range impls {
		for _, b := range impls {
			t.Run(a.name+"-to-"+b.name, func(t *testing.T) {
				t.Run("unnamed", func(t *testing.T) {
					mem := sharedMem(t, 4096)
					sa, err := a.init(mem, 0)
					if err != nil {
						t.Fatal(err)
					}
					sb, err := b.at(mem)
					if err != nil {
						t.Fatal(err)
					}
					exchangeTokens(t, sa, sb, addrOf(mem))
				})
				t.Run("named", func(t *testing.T) {
					name := semName(t)
					sa, err := a.open(name, os.O_CREATE|os.O_EXCL, 0o600, 0)
					if err != nil {
						t.Fatal(err)
					}
					defer sa.Close()
					sb, err := b.open(name, 0, 0, 0)
					if err != nil {
						t.Fatal(err)
					}
					defer sb.Close()
					exchangeTokens(t, sa, sb, 0)
				})
			})
		}
	}
}

// exchangeTokens has b wait while a posts, then the reverse. With the
// futex word's address known, each post waits until the waiter sleeps.
func exchangeTokens(t *testing.T, a, b posixsem.Sem, addr uintptr) {
	t.Helper()
	for _, p := range [][2]posixsem.Sem{{a, b}, {b, a}} {
		poster, waiter := p[0], p[1]
		done := make(chan error, 1)
		go func() { done <- waiter.Wait() }()
		if addr != 0 {
			waitAsleep(t, 0, hexAddr(addr), 1)
		}
		if err := poster.Post(); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the waiter was not woken")
		}
		wantValue(t, a, 0)
	}
}
