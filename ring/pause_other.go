//go:build !amd64

package ring

// pause is a no-op where the spin loop has no CPU hint (see asm_amd64.go).
func pause() {}
