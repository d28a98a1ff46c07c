package ring

import (
	"context"
	"encoding/binary"
	"sync/atomic"
	"time"
	"unsafe"
)

// A Producer writes messages into a Ring. Only one Producer may exist per
// ring at a time, across all processes. Its methods must be called from one
// goroutine at a time (a concurrent call returns an error wrapping
// ErrInvalid — on x86, reliably only while the other call waits: see
// "Cost of a call" in the package documentation), except Close, Stats,
// SetSpin and SetPeerCheck, which may be called from any goroutine: Close
// makes a call in progress return ErrClosed, unless it has already
// published its record.
type Producer struct {
	r         *Ring
	tail      uint64 // our copy of the producer position (we are its only writer)
	headCache uint64 // the consumer position when last read
	pending   uint64 // aligned length of the claimed, uncommitted record; 0 if none
	g         gate
	w         waiter
}

// Producer takes the producer role and returns the Producer. The role is
// free if no process holds it, if its holder closed it, or if its holder
// died (a restarted producer resumes where the dead one stopped: records it
// had not committed are not visible). Otherwise the error wraps ErrInUse.
// A holder is known by its pid: should a dead holder's pid be reused by a
// live process before the role is taken again, the role stays taken
// (ErrInUse) and a waiting peer does not see the death, until that process
// exits too.
func (r *Ring) Producer() (*Producer, error) {
	if err := claimRole(r.producerPID, "producer"); err != nil {
		return nil, err
	}
	p := &Producer{r: r}
	p.g.init(p.release)
	p.w = waiter{word: r.spaceWaiters, peer: r.consumerPID, peerRole: "consumer"}
	p.w.lot.Store(lotOn)
	p.w.spin.Store(-1)
	p.tail = r.tail.Load()
	p.headCache = r.head.Load()
	if err := r.checkPositions(p.headCache, p.tail); err != nil {
		r.producerPID.Store(0)
		return nil, err
	}
	wakeAttached(r.dataWaiters)
	return p, nil
}

// SetSpin sets how a blocked write spins before it sleeps on the futex:
// loads re-checks in a tight loop (with the CPU's spin-wait hint), then
// yields re-checks each after yielding the CPU (runtime.Gosched, then
// sched_yield). SetSpin(0, 0) sleeps at once (the stress tests use it to
// force the sleep/wake path); negative values restore the default (64, 16).
// With the other side in this process, a blocked call parks (see the
// package documentation) after loads+yields runtime.Gosched turns, none
// by default. With the other side in another process, a call that blocks
// within 50 µs of this process's FUTEX_WAKE of a sleeping peer spins on
// until those 50 µs have passed ("Spinning through a wake-up" in the
// package documentation); SetSpin(0, 0) turns that off too.
func (p *Producer) SetSpin(loads, yields int) { p.w.setSpin(loads, yields) }

// SetPeerCheck sets how a blocked call notices that the consumer
// process died. With d == 0, the default, the death is an event (a pidfd
// watched through the netpoller, see "Noticing a dead peer" in the package
// documentation): a blocked call sleeps without periodic wake-ups, except
// a look every second while no consumer has attached; where pidfds cannot
// be watched, it wakes every DefaultPeerCheck to check. With d > 0 it also
// wakes at least every d to look at the consumer's pid word and check that
// process itself (and d replaces DefaultPeerCheck where pidfds cannot be
// watched). With d < 0 there are no checks — for peers in another PID
// namespace, whose pid means nothing here (a blocked call then waits for
// the consumer or its context only).
// A call already asleep applies a new setting once it next wakes.
func (p *Producer) SetPeerCheck(d time.Duration) { p.w.peerCheck.Store(int64(d)) }

// Stats returns how often this Producer slept and woke the consumer.
func (p *Producer) Stats() Stats { return p.w.st.get() }

// TryWrite writes one message of type typ without blocking: ErrFull if there
// is no room now, ErrTooLarge if len(msg) > MaxMessage, ErrClosed if either
// side closed the ring. The message is visible to the consumer when
// TryWrite returns.
func (p *Producer) TryWrite(typ uint32, msg []byte) error {
	if err := p.g.enter("Producer"); err != nil {
		return err
	}
	b, err := p.tryClaim(typ, len(msg))
	if err == nil {
		copyIn(b, msg)
		p.commit()
	}
	p.g.exit()
	return err
}

// Write is WriteContext without a deadline.
func (p *Producer) Write(typ uint32, msg []byte) error {
	return p.WriteContext(context.Background(), typ, msg)
}

// WriteContext writes one message, waiting while the ring is full: spinning
// briefly, then sleeping on a futex until the consumer makes room. It
// returns ctx's error when ctx is done, an error wrapping ErrPeerDead if
// the consumer process dies while the ring is full, and ErrClosed if the
// consumer closed its side or Close was called.
func (p *Producer) WriteContext(ctx context.Context, typ uint32, msg []byte) error {
	// The common case, written out: the asymmetric gate (see gate), a
	// message that fits before the end of the data area and in the room
	// the cached consumer position leaves, one store of the producer
	// position. Everything else takes writeContext.
	g := &p.g
	if !g.asym || g.busy != 0 {
		return p.writeContext(ctx, typ, msg)
	}
	g.busy = gateBusy
	if g.state.Load() != 0 {
		g.leaveClosed()
		return ErrClosed
	}
	r := p.r
	n := uint64(len(msg))
	need := align(n + RecordHeaderSize)
	idx := p.tail & r.mask
	if p.pending != 0 || typ == PaddingType || need > uint64(r.capacity)-idx ||
		p.tail+need-p.headCache > uint64(r.capacity) || r.consumerPID.Load() == ownerClosed {
		err := p.writeEntered(ctx, typ, msg)
		g.exit()
		return err
	}
	*r.header(idx) = [2]uint32{uint32(n) + RecordHeaderSize, typ}
	switch {
	case n-32 <= 32: // see move32
		d, s := unsafe.Add(r.base, idx+RecordHeaderSize), unsafe.Pointer(unsafe.SliceData(msg))
		move32(d, s)
		move32(unsafe.Add(d, n-32), unsafe.Add(s, n-32))
	case n <= smallMessage:
		copy(r.data[idx+RecordHeaderSize:idx+RecordHeaderSize+n], msg)
	default:
		copyIn(r.data[idx+RecordHeaderSize:idx+RecordHeaderSize+n], msg)
	}
	p.tail += need
	r.tail.Store(p.tail)
	if r.dataWaiters.Load() != 0 {
		wakeIf(r.dataWaiters, &p.w.st)
	}
	g.busy = 0
	if g.state.Load() != 0 {
		g.leaveClosed()
	}
	return nil
}

// smallMessage is the size up to which WriteContext's fast path copies
// with the built-in copy (the runtime's memmove: a few vector moves)
// rather than through copyIn, whose choice of a copy routine is about
// large messages.
const smallMessage = 256

// writeContext is WriteContext through the gate's enter and exit.
func (p *Producer) writeContext(ctx context.Context, typ uint32, msg []byte) error {
	if err := p.g.enter("Producer"); err != nil {
		return err
	}
	err := p.writeEntered(ctx, typ, msg)
	p.g.exit()
	return err
}

// writeEntered is WriteContext inside the gate.
func (p *Producer) writeEntered(ctx context.Context, typ uint32, msg []byte) error {
	b, err := p.tryClaim(typ, len(msg))
	if err == ErrFull {
		b, err = p.claimWait(ctx, typ, len(msg))
	}
	if err == nil {
		copyIn(b, msg)
		p.commit()
	}
	return err
}

// TryClaim reserves room for an n-byte message of type typ and returns the
// memory to fill in place (zero-copy); Commit publishes it. Until Commit the
// consumer does not see the record, and a producer that dies in between
// leaves no trace of it. ErrFull if there is no room now.
func (p *Producer) TryClaim(typ uint32, n int) ([]byte, error) {
	if err := p.g.enter("Producer"); err != nil {
		return nil, err
	}
	b, err := p.tryClaim(typ, n)
	p.g.exit()
	return b, err
}

// ClaimContext is TryClaim that waits for room as WriteContext does.
func (p *Producer) ClaimContext(ctx context.Context, typ uint32, n int) ([]byte, error) {
	if err := p.g.enter("Producer"); err != nil {
		return nil, err
	}
	b, err := p.tryClaim(typ, n)
	if err == ErrFull {
		b, err = p.claimWait(ctx, typ, n)
	}
	p.g.exit()
	return b, err
}

// Commit publishes the record TryClaim or ClaimContext reserved and wakes
// the consumer if it sleeps. After Close it returns ErrClosed and the
// record is dropped.
func (p *Producer) Commit() error {
	if err := p.g.enter("Producer"); err != nil {
		return err
	}
	var err error
	if p.pending == 0 {
		err = errorf(ErrInvalid, "nothing claimed")
	} else {
		p.commit()
	}
	p.g.exit()
	return err
}

// Abort drops a claimed record without publishing it. It does nothing
// after Close (which drops the claim) or during another call.
func (p *Producer) Abort() {
	if p.g.enter("Producer") != nil {
		return
	}
	p.pending = 0
	p.g.exit()
}

// tryClaim reserves the next record: the header is written, the payload
// is the returned slice, and commit publishes it. The common case — a
// valid message that fits before the end of the data area and in the room
// the cached consumer position leaves — takes no atomic operation but the
// load of the consumer's pid word (on a line that is only written when a
// role changes hands).
func (p *Producer) tryClaim(typ uint32, n int) ([]byte, error) {
	r := p.r
	capacity := uint64(r.capacity)
	need := align(uint64(n) + RecordHeaderSize)
	idx := p.tail & r.mask
	if p.pending != 0 || typ == PaddingType || uint(n) > uint(r.capacity-RecordHeaderSize) ||
		need > capacity-idx || p.tail+need-p.headCache > capacity || r.consumerPID.Load() == ownerClosed {
		return p.claimSlow(typ, n)
	}
	putHeader(r.data[idx:], uint32(n)+RecordHeaderSize, typ)
	p.pending = need
	start := idx + RecordHeaderSize
	return r.data[start : start+uint64(n) : start+uint64(n)], nil
}

// claimSlow is tryClaim when the record does not fit before the end of the
// data area or in the cached room, or the arguments are wrong.
func (p *Producer) claimSlow(typ uint32, n int) ([]byte, error) {
	if p.pending != 0 {
		return nil, errorf(ErrInvalid, "a claimed record has not been committed")
	}
	if typ == PaddingType {
		return nil, errorf(ErrInvalid, "type %#x is reserved for padding", typ)
	}
	if n < 0 || n > p.r.MaxMessage() {
		return nil, errorf(ErrTooLarge, "%d bytes; this ring carries at most %d", n, p.r.MaxMessage())
	}
	if p.r.consumerPID.Load() == ownerClosed {
		return nil, errorf(ErrClosed, "the consumer closed the ring")
	}
	r := p.r
	capacity := uint64(r.capacity)
	rec := uint64(RecordHeaderSize + n)
	need := align(rec)
	idx := p.tail & r.mask
	if toEnd := capacity - idx; need > toEnd {
		// The record does not fit before the end: fill the end with a
		// padding record. If the record does not fit at the start either,
		// the padding is published on its own, so that a record as large
		// as the ring only needs the ring to drain.
		if err := p.room(toEnd); err != nil {
			return nil, err
		}
		putHeader(r.data[idx:], uint32(toEnd), PaddingType)
		p.tail += toEnd
		idx = 0
		if err := p.room(need); err != nil {
			p.flush()
			return nil, err
		}
	} else if err := p.room(need); err != nil {
		return nil, err
	}
	putHeader(r.data[idx:], uint32(rec), typ)
	p.pending = need
	start := idx + RecordHeaderSize
	return r.data[start : start+uint64(n) : start+uint64(n)], nil
}

// claimWait is tryClaim that waits for room.
func (p *Producer) claimWait(ctx context.Context, typ uint32, n int) (b []byte, err error) {
	err = p.w.block(ctx, func() error {
		if p.g.closed() {
			return ErrClosed
		}
		b, err = p.tryClaim(typ, n)
		return err
	})
	return b, err
}

// commit publishes the claimed record.
func (p *Producer) commit() {
	p.tail += p.pending
	p.pending = 0
	p.flush()
}

// room reports whether need more bytes fit; it re-reads the consumer
// position only when the cached one says no.
func (p *Producer) room(need uint64) error {
	capacity := uint64(p.r.capacity)
	if p.tail+need-p.headCache <= capacity {
		return nil
	}
	head := p.r.head.Load()
	if err := p.r.checkPositions(head, p.tail); err != nil {
		return err
	}
	p.headCache = head
	if p.tail+need-head <= capacity {
		return nil
	}
	return ErrFull
}

// flush publishes every record up to our position: a sequentially
// consistent store of the producer position (the record bytes before it
// are visible to whoever loads it), then a wake for a sleeping consumer.
func (p *Producer) flush() {
	p.r.tail.Store(p.tail)
	wakeIf(p.r.dataWaiters, &p.w.st)
}

// Close releases the producer role and marks the ring closed by the
// producer: the consumer reads what is left, then gets io.EOF. A record
// claimed and not committed is dropped: its slice must not be written
// after Close (from any goroutine), since a new producer may claim the same
// bytes. A call in progress in another goroutine (a WriteContext waiting
// for room) returns ErrClosed, and Close returns once it has, so the
// memory may be unmapped after Close returns. Later calls return
// ErrClosed. Close never unmaps the memory.
func (p *Producer) Close() error {
	return p.g.shut(p.r)
}

// release gives up the role and wakes the consumer to see the end.
func (p *Producer) release() {
	p.r.producerPID.Store(ownerClosed)
	wakeAll(p.r)
}

// wakeAll wakes whoever sleeps on either futex word of r.
func wakeAll(r *Ring) {
	for _, w := range []*atomic.Uint32{r.dataWaiters, r.spaceWaiters} {
		lotSwap(w, 1<<30)
		futexWake(w, 1<<30)
	}
}

func putHeader(b []byte, length, typ uint32) {
	binary.NativeEndian.PutUint32(b[0:], length)
	binary.NativeEndian.PutUint32(b[4:], typ)
}
