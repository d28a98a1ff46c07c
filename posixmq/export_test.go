package posixmq

// SetSpinHook sets the function called after each yield of a spin (nil
// for none); tests call it before starting the calls they watch.
func SetSpinHook(f func()) { spinHook = f }
