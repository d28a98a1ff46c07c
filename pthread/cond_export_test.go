package pthread

import (
	"context"
	"unsafe"
)

// Hooks for the external tests of Cond.

// CondLocker is what a wait needs of its mutex (condLocker).
type CondLocker = condLocker

// WaitLocker is Wait over any CondLocker, for tests that drive a glibc
// mutex without Mutex.
func (c *Cond) WaitLocker(ctx context.Context, m CondLocker) error { return c.wait(ctx, m) }

// InitCondNarrow and CondAtNarrow use the 32-bit layout's two-halves
// counters whatever the platform, so that 64-bit runs test them too.
func InitCondNarrow(mem []byte) (*Cond, error) { return initCond(mem, 0, false) }

// CondAtNarrow is CondAt with the 32-bit layout's counters.
func CondAtNarrow(mem []byte) (*Cond, error) { return condAt(mem, false) }

// CondWide reports whether c uses the 64-bit counters.
func CondWide(c *Cond) bool { return c.wide }

// CondFutexAddr is the address of __g_signals[g], where waiters of group
// g sleep.
func CondFutexAddr(c *Cond, g int) uintptr { return uintptr(unsafe.Pointer(c.f.gSignals[g])) }

// CondSeq returns the waiter sequence and G1 start counters as the
// algorithm reads them.
func CondSeq(c *Cond) (wseq, g1Start uint64) { return c.f.wseq.load(), c.f.g1Start.load() }

// CounterOps exposes one wide counter at p for the arithmetic tests.
type CounterOps struct{ c wideCounter }

// CounterAt returns the counter in the 8 bytes at p.
func CounterAt(p *[8]byte, wide bool) CounterOps { return CounterOps{counterAt(p, wide)} }

func (o CounterOps) Load() uint64             { return o.c.load() }
func (o CounterOps) FetchAdd(v uint32) uint64 { return o.c.fetchAdd(v) }
func (o CounterOps) FetchXor(v uint32) uint64 { return o.c.fetchXor(v) }
func (o CounterOps) Add(v uint32)             { o.c.add(v) }
