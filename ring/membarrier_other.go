//go:build !(amd64 || 386) || race

package ring

// forceCASGate is a no-op here: every gate uses the compare-and-swap
// protocol.
var forceCASGate bool

// asymmetricGate is false where stores may be reordered with each other
// (the asymmetric gate relies on x86's total store order) and under the
// race detector (see gate).
func asymmetricGate() bool { return false }

// membarrier is never called when asymmetricGate is false.
func membarrier() {}
