package ring

import "time"

// ForceCASGate makes the Producers and Consumers made from now on use the
// gate's compare-and-swap protocol (on), or the one this build and kernel
// choose (off), and returns a function that restores the setting.
func ForceCASGate(on bool) (restore func()) {
	old := forceCASGate
	forceCASGate = on
	return func() { forceCASGate = old }
}

// AsymmetricGate reports whether new gates use the asymmetric protocol.
func AsymmetricGate() bool { return asymmetricGate() }

// Parked reports how many calls of this process are parked in the lot.
func Parked() int64 { return lot.n.Load() }

// InLot reports whether c's blocked calls park in the lot when the
// producer is in this process.
func (c *Consumer) InLot() bool { return c.w.lot.Load() }

// LotOn reports whether the lot is on (SHMMAP_RING_LOT is not "off").
func LotOn() bool { return lotOn }

// NoSweep stops the lot's sweeper until restore is called: with no waker
// that does not know the lot, a wake-up the lot loses is then a hang.
func NoSweep() (restore func()) {
	lotNoSweep.Store(true)
	return func() { lotNoSweep.Store(false) }
}

// Sweeps reports how many sweeps the lot's sweeper has made.
func Sweeps() uint64 { return lot.sweeps.Load() }

// ForcePeerPolling makes blocked calls check their peer every
// DefaultPeerCheck (the fallback where a pidfd cannot be watched) instead
// of watching it (on), or watch it again (off), and returns a function
// that restores the setting.
func ForcePeerPolling(on bool) (restore func()) {
	old := peerWatchOn.Load()
	peerWatchOn.Store(!on)
	return func() { peerWatchOn.Store(old) }
}

// PeerWatches returns the number of peer processes watched (open pidfds).
func PeerWatches() int { return watchCount() }

// SetNoPeerRecheck sets how long a call sleeps at most while its peer's
// pid word is 0, and returns a function that restores it.
func SetNoPeerRecheck(d time.Duration) (restore func()) {
	old := noPeerRecheck.Swap(int64(d))
	return func() { noPeerRecheck.Store(old) }
}

// PeerWatchOn reports whether blocked calls watch their peer process (not
// forced off by SHMMAP_RING_PEERWATCH=off, and not found impossible).
func PeerWatchOn() bool { return peerWatchOn.Load() }
