//go:build !race

package pthread

// See atomics.go: plain writes, as glibc's.

func writeU32(p *uint32, v uint32)    { *p = v }
func writeI32(p *int32, v int32)      { *p = v }
func addToU32(p *uint32, d uint32)    { *p += d }
func writeWord(p *uintptr, v uintptr) { *p = v }
