//go:build race

package pthread

import "sync/atomic"

// See atomics.go: atomic writes under the race detector, which would
// report a non-holder's atomic read of __owner against a plain write when
// the mutex is in the Go heap.

func writeU32(p *uint32, v uint32)    { atomic.StoreUint32(p, v) }
func writeI32(p *int32, v int32)      { atomic.StoreInt32(p, v) }
func addToU32(p *uint32, d uint32)    { atomic.AddUint32(p, d) }
func writeWord(p *uintptr, v uintptr) { atomic.StoreUintptr(p, v) }
