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
