package pthread

import "sync/atomic"

// Short names for the atomic operations on the mutex's fields.

func loadU32(p *uint32) uint32             { return atomic.LoadUint32(p) }
func storeU32(p *uint32, v uint32)         { atomic.StoreUint32(p, v) }
func casU32(p *uint32, old, v uint32) bool { return atomic.CompareAndSwapUint32(p, old, v) }
func swapU32(p *uint32, v uint32) uint32   { return atomic.SwapUint32(p, v) }
func addU32(p *uint32, d uint32) uint32    { return atomic.AddUint32(p, d) }
func loadI32(p *int32) int32               { return atomic.LoadInt32(p) }
func storeI32(p *int32, v int32)           { atomic.StoreInt32(p, v) }
