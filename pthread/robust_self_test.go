package pthread_test

import (
	"fmt"
	"math/bits"
	"runtime"
	"testing"
	"unsafe"

	"github.com/shmmap/shmmap/pthread"
	"golang.org/x/sys/unix"
)

// TestRobustSelfTID: a robust Lock takes the thread id from the slot of
// the robust list head this package registered for the thread, in the
// same get_robust_list that finds the head. On thread after thread (each
// goroutine exits wired, so its thread ends and ids are reused, with
// their slots), the id is gettid's, the lock word holds it, and (on
// 64-bit) Unlock finds the head from the mutex's __list.__prev only while
// the mutex is first on the list: unlocking out of order asks the kernel.
// Every list is empty at the end. In a program with cgo (the race
// detector's), the head is glibc's, the id gettid's, and Unlock always
// asks the kernel.
func TestRobustSelfTID(t *testing.T) {
	mem := sharedMem(t, 4096)
	a, err := pthread.InitMutex(mem[:pthread.MutexSize], pthread.MutexAttr{Robust: true})
	if err != nil {
		t.Fatal(err)
	}
	b, err := pthread.InitMutex(mem[128:128+pthread.MutexSize], pthread.MutexAttr{Type: pthread.MutexErrorCheck, Robust: true})
	if err != nil {
		t.Fatal(err)
	}
	lockWord := func(m []byte) uint32 { return *(*uint32)(unsafe.Pointer(&m[0])) & 0x3fffffff }
	for i := range 40 {
		errc := make(chan error, 1)
		go func() {
			runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
			errc <- func() error {
				gettid := unix.Gettid()
				// A thread made by glibc (with cgo: the race detector's
				// test binary) has glibc's head from the start.
				// One of this package's, if an earlier test's lock on this
				// thread registered it, is kept.
				firstHead, _, firstOurs, err := pthread.RobustSelf()
				if err != nil {
					return err
				}
				glibc := firstHead != 0 && !firstOurs
				if err := a.Lock(); err != nil {
					return err
				}
				head, tid, ours, err := pthread.RobustSelf()
				if err != nil {
					return err
				}
				if tid != gettid || ours == glibc || firstHead != 0 && head != firstHead {
					return fmt.Errorf("robustSelf: tid %d, head %#x (this package's: %v); gettid %d, head before the lock %#x (glibc's: %v)", tid, head, ours, gettid, firstHead, glibc)
				}
				if got := lockWord(mem); got != uint32(gettid) {
					return fmt.Errorf("lock word's owner %d, gettid %d", got, gettid)
				}
				if err := b.Lock(); err != nil {
					return err
				}
				if bits.UintSize == 64 && ours {
					// b is first on the list, a second: a's unlock asks the kernel.
					if h, fast := pthread.UnlockerHead(b, gettid); !fast || h != head {
						return fmt.Errorf("b first on the list: head %#x (from the mutex: %v), want %#x from the mutex", h, fast, head)
					}
					if h, fast := pthread.UnlockerHead(a, gettid); fast || h != head {
						return fmt.Errorf("a second on the list: head %#x (from the mutex: %v), want %#x from get_robust_list", h, fast, head)
					}
					if _, fast := pthread.UnlockerHead(b, gettid+1); fast {
						return fmt.Errorf("b's head taken for thread id %d", gettid+1)
					}
				}
				if err := a.Unlock(); err != nil {
					return err
				}
				if bits.UintSize == 64 && ours {
					if h, fast := pthread.UnlockerHead(b, gettid); !fast || h != head {
						return fmt.Errorf("b alone on the list: head %#x (from the mutex: %v), want %#x from the mutex", h, fast, head)
					}
				}
				if h, fast := pthread.UnlockerHead(b, gettid); !ours && (fast || h != head) {
					return fmt.Errorf("glibc's head %#x: unlock would use %#x (from the mutex: %v)", head, h, fast)
				}
				if err := b.Unlock(); err != nil {
					return err
				}
				if first := pthread.HeadFirst(head); first != head {
					return fmt.Errorf("robust list not empty after the unlocks: first entry %#x, head %#x", first, head)
				}
				if lockWord(mem) != 0 || lockWord(mem[128:]) != 0 {
					return fmt.Errorf("lock words %#x, %#x after the unlocks", lockWord(mem), lockWord(mem[128:]))
				}
				return nil
			}()
		}()
		if err := <-errc; err != nil {
			t.Fatalf("thread %d: %v", i, err)
		}
	}
}
