package ring

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
