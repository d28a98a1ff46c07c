package pthread

// Offsets are the field offsets the package uses, by C member name, for
// the layout test to hold to the C compiler's.
var Offsets = map[string]uintptr{
	"__lock":   offLock,
	"__count":  offCount,
	"__owner":  offOwner,
	"__nusers": offNusers,
	"__kind":   offKind,
}

// CondUnlock and CondLock expose the condition variable's hooks.
func CondUnlock(m *Mutex) error { return m.condUnlock() }
func CondLock(m *Mutex) error   { return m.condLock() }

// RobustSelf is robustSelf for the calling goroutine, which must be
// locked to its thread: the thread id it found and whether the head was
// this package's (so that the id came from the head's slot).
func RobustSelf() (head uintptr, tid int, ours bool, err error) {
	head, _, t, ours, err := robustSelf()
	return head, int(t), ours, err
}

// UnlockerHead is the head the calling thread (id tid) would unlock m
// with, and whether (64-bit only) it came from the mutex without a system call.
func UnlockerHead(m *Mutex, tid int) (head uintptr, fromMutex bool) {
	if is64 == 0 {
		head, _, _ = threadHead()
		return head, false
	}
	if t, ok := headTID(*m.f.listPrev); ok && t == uint32(tid) {
		return *m.f.listPrev, true
	}
	head, _, _ = threadHead()
	return head, false
}

// HeadFirst is the first entry of the robust list at head.
func HeadFirst(head uintptr) uintptr { return *word(head) }

// LockWord is m's __lock word, read atomically.
func LockWord(m *Mutex) uint32 { return loadU32(m.f.lock) }
