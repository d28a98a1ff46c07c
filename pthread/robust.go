package pthread

// The robust list: how a thread that dies holding robust mutexes has them
// released by the kernel. See the package documentation ("Robust mutexes
// and goroutines") for the design; the list operations are glibc's
// ENQUEUE_MUTEX and DEQUEUE_MUTEX (nptl/descr.h, 2.36).

import (
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

const ptrSize = unsafe.Sizeof(uintptr(0))

// headSize is sizeof(struct robust_list_head): the list's first entry, the
// futex offset and list_op_pending, three words.
const headSize = 3 * ptrSize

// futexOffset is the head's futex_offset: from an entry (&__list.__next)
// to the lock word, as glibc sets it.
const futexOffset = offLock - offListNext

// slotSize is what a head takes here: the id of the thread that
// registered it (see robustSelf), a word for glibc's robust_prev (which
// the 64-bit list operations write when the list is empty), then the head
// itself.
const slotSize = 2*ptrSize + headSize

// heads are the robust list heads this package registered, by thread id,
// in memory outside the Go heap that is never freed: the kernel reads a
// head when its thread exits, whenever that is.
var heads struct {
	sync.Mutex
	byTID map[int]uintptr // the address of the head (after its two words)
	page  []byte          // the rest of the last page carved into slots
}

// headPages are the pages the heads are carved from (their addresses),
// for robustSelf to tell this package's heads from glibc's without a lock.
var headPages atomic.Pointer[[]uintptr]

// pageSize is the size of those pages.
var pageSize = uintptr(unix.Getpagesize())

// word is the machine word at addr, which is memory outside the Go heap
// (a head) or in the caller's shared mapping (a mutex's list field).
func word(addr uintptr) *uintptr {
	return (*uintptr)(*(*unsafe.Pointer)(unsafe.Pointer(&addr)))
}

// headTID returns the thread id in the slot of head if head is one of
// the heads this package registered (exactly: the head of a slot carved
// from one of its pages; a slot not yet carved holds id 0).
func headTID(head uintptr) (uint32, bool) {
	if pages := headPages.Load(); pages != nil {
		for _, p := range *pages {
			if off := head - p; off < pageSize {
				if off < 2*ptrSize || (off-2*ptrSize)%slotSize != 0 {
					return 0, false
				}
				return uint32(atomic.LoadUintptr(word(head - 2*ptrSize))), true
			}
		}
	}
	return 0, false
}

// threadHead is get_robust_list for the calling thread: its head and
// size, 0 for none.
func threadHead() (head, size uintptr, err error) {
	_, _, e := unix.RawSyscall(unix.SYS_GET_ROBUST_LIST, 0, uintptr(unsafe.Pointer(&head)), uintptr(unsafe.Pointer(&size)))
	if e != 0 {
		return 0, 0, fmt.Errorf("get_robust_list: %w", e)
	}
	return head, size, nil
}

// robustSelf returns the calling thread's robust list head and size, as
// get_robust_list gives them (0 if it has none), and the thread's id;
// ours says that the head is one this package registered. The thread must
// be locked to the calling goroutine.
//
// A head of this package's was registered by the thread the kernel now
// gives it for: set_robust_list sets the calling thread's head only, and
// a new thread (clone) or process (fork, exec) starts without one. The
// registering thread wrote its id in the head's slot, and a thread's id
// never changes; so the id in the slot is the caller's, and a head of
// this package's costs one system call for both. Any other head
// (glibc's, in a program with cgo) costs a gettid as well.
func robustSelf() (head, size uintptr, tid uint32, ours bool, err error) {
	head, size, err = threadHead()
	if err != nil {
		return 0, 0, 0, false, err
	}
	if size == headSize {
		if tid, ours := headTID(head); ours {
			return head, size, tid, true, nil
		}
	}
	return head, size, uint32(unix.Gettid()), false, nil
}

// robustHead returns the robust list head of the calling thread, which
// must be locked to its goroutine, have thread id tid, and have the head
// (of the size) robustSelf found (0 for none): glibc's in a cgo program,
// whose layout it checks, or a new one registered with set_robust_list.
func robustHead(tid int, head, size uintptr) (uintptr, error) {
	if head != 0 {
		if size != headSize {
			return 0, fmt.Errorf("this thread's robust list head is %d bytes, not struct robust_list_head's %d: %w", size, headSize, unix.EINVAL)
		}
		if off := int(*word(head + ptrSize)); off != futexOffset {
			return 0, fmt.Errorf("this thread's robust list has futex offset %d, glibc's mutexes need %d: %w", off, futexOffset, unix.EINVAL)
		}
		return head, nil
	}
	heads.Lock()
	defer heads.Unlock()
	h, ok := heads.byTID[tid]
	if !ok {
		// A new thread, or one with the id of a thread that exited: its
		// head (if any) is free again, since this thread has none.
		if len(heads.page) < int(slotSize) {
			page, err := unix.Mmap(-1, 0, int(pageSize), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
			if err != nil {
				return 0, fmt.Errorf("allocating a robust list head: %w", err)
			}
			heads.page = page
			var pages []uintptr
			if old := headPages.Load(); old != nil {
				pages = append(pages, *old...)
			}
			pages = append(pages, uintptr(unsafe.Pointer(&page[0])))
			headPages.Store(&pages)
		}
		h = uintptr(unsafe.Pointer(&heads.page[0])) + 2*ptrSize
		heads.page = heads.page[slotSize:]
		if heads.byTID == nil {
			heads.byTID = make(map[int]uintptr)
		}
		heads.byTID[tid] = h
	}
	atomic.StoreUintptr(word(h-2*ptrSize), uintptr(tid))
	*word(h - ptrSize) = 0 // robust_prev
	*word(h) = h           // an empty list points to its head
	off := futexOffset
	*word(h + ptrSize) = uintptr(off)
	*word(h + 2*ptrSize) = 0 // list_op_pending
	if _, _, e := unix.RawSyscall(unix.SYS_SET_ROBUST_LIST, h, headSize, 0); e != 0 {
		return 0, fmt.Errorf("set_robust_list: %w", e)
	}
	return h, nil
}

// setPending sets the head's list_op_pending: the mutex (its list entry)
// being locked or unlocked, which the kernel also looks at if the thread
// dies in the middle; 0 when done.
func setPending(head, entry uintptr) {
	writeWord(word(head+2*ptrSize), entry)
}

// enqueue is ENQUEUE_MUTEX: put the mutex whose __list.__next is at entry
// at the front of the thread's list.
func enqueue(head uintptr, f *fields) {
	entry := uintptr(unsafe.Pointer(f.listNext))
	first := atomic.LoadUintptr(word(head))
	if is64 == 1 {
		// next->__prev, where next is the first entry's __pthread_list_t
		// (or the head's robust_prev when the list is empty).
		writeWord(word(first&^1-ptrSize), entry)
		writeWord(f.listNext, first)
		writeWord(f.listPrev, head)
	} else {
		writeWord(f.listNext, first)
	}
	writeWord(word(head), entry)
}

// dequeue is DEQUEUE_MUTEX: take the mutex out of the thread's list.
func dequeue(head uintptr, f *fields) {
	entry := uintptr(unsafe.Pointer(f.listNext))
	if is64 == 1 {
		next, prev := atomic.LoadUintptr(f.listNext), atomic.LoadUintptr(f.listPrev)
		writeWord(word(next&^1-ptrSize), prev) // next->__prev
		writeWord(word(prev&^1), next)         // prev->__next
		writeWord(f.listPrev, 0)
		writeWord(f.listNext, 0)
		return
	}
	runp := atomic.LoadUintptr(word(head)) &^ 1
	if runp == entry {
		writeWord(word(head), atomic.LoadUintptr(word(runp)))
		return
	}
	// Bounded as the kernel bounds its walk (ROBUST_LIST_LIMIT), and
	// stopping at the head: a mutex missing from the list is left alone.
	for range 2048 {
		if runp == head {
			return
		}
		next := atomic.LoadUintptr(word(runp)) &^ 1
		if next == entry {
			writeWord(word(runp), atomic.LoadUintptr(word(next)))
			writeWord(f.listNext, 0)
			return
		}
		runp = next
	}
}
