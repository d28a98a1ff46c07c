package ring

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
	"unsafe"
)

// A Consumer reads messages from a Ring. Only one Consumer may exist per
// ring at a time, across all processes. Its methods must be called from one
// goroutine at a time (a concurrent call returns an error wrapping
// ErrInvalid — on x86, reliably only while the other call waits: see
// "Cost of a call" in the package documentation), except Close, Stats,
// SetSpin and SetPeerCheck, which may be called from any goroutine: Close
// makes a call in progress return ErrClosed, unless it has already
// consumed its message.
type Consumer struct {
	r         *Ring
	head      uint64 // our copy of the consumer position (we are its only writer)
	tailCache uint64 // the producer position when last read
	batch     bool   // in ReadBatch: padding is freed with the batch, not at once
	g         gate
	w         waiter
}

// Consumer takes the consumer role and returns the Consumer; see Producer
// for when the role is free.
func (r *Ring) Consumer() (*Consumer, error) {
	if err := claimRole(r.consumerPID, "consumer"); err != nil {
		return nil, err
	}
	c := &Consumer{r: r}
	c.g.init(c.release)
	c.w = waiter{word: r.dataWaiters, peer: r.producerPID, peerRole: "producer"}
	c.w.lot.Store(lotOn)
	c.w.spin.Store(-1)
	c.head = r.head.Load()
	c.tailCache = c.head
	if err := r.checkPositions(c.head, r.tail.Load()); err != nil {
		r.consumerPID.Store(0)
		return nil, err
	}
	wakeAttached(r.spaceWaiters)
	return c, nil
}

// SetSpin sets how a blocked read spins before it sleeps on the futex:
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
func (c *Consumer) SetSpin(loads, yields int) { c.w.setSpin(loads, yields) }

// SetPeerCheck sets how a blocked call notices that the producer
// process died. With d == 0, the default, the death is an event (a pidfd
// watched through the netpoller, see "Noticing a dead peer" in the package
// documentation): a blocked call sleeps without periodic wake-ups, except
// a look every second while no producer has attached; where pidfds cannot
// be watched, it wakes every DefaultPeerCheck to check. With d > 0 it also
// wakes at least every d to look at the producer's pid word and check that
// process itself (and d replaces DefaultPeerCheck where pidfds cannot be
// watched). With d < 0 there are no checks — for peers in another PID
// namespace, whose pid means nothing here (a blocked call then waits for
// the producer or its context only).
// A call already asleep applies a new setting once it next wakes.
func (c *Consumer) SetPeerCheck(d time.Duration) { c.w.peerCheck.Store(int64(d)) }

// Stats returns how often this Consumer slept and woke the producer.
func (c *Consumer) Stats() Stats { return c.w.st.get() }

// TryRead reads the next message into buf without blocking and returns its
// type and length. ErrEmpty if there is none now; io.EOF if the producer
// closed the ring and every message has been read. If buf is too short the
// message stays in the ring, n is its length and the error wraps
// io.ErrShortBuffer. A record header that does not fit the ring gives an
// error wrapping ErrCorrupt.
func (c *Consumer) TryRead(buf []byte) (typ uint32, n int, err error) {
	if err := c.g.enter("Consumer"); err != nil {
		return 0, 0, err
	}
	typ, n, err = c.tryRead(buf)
	c.g.exit()
	return typ, n, err
}

// Read is ReadContext without a deadline.
func (c *Consumer) Read(buf []byte) (typ uint32, n int, err error) {
	return c.ReadContext(context.Background(), buf)
}

// ReadContext reads the next message, waiting while the ring is empty:
// spinning briefly, then sleeping on a futex until the producer publishes.
// It returns io.EOF once the producer has closed and everything has been
// read, an error wrapping ErrPeerDead if the producer process died (after
// the messages it published), ctx's error when ctx is done, and ErrClosed
// if Close was called.
func (c *Consumer) ReadContext(ctx context.Context, buf []byte) (typ uint32, n int, err error) {
	// The common case, written out: the asymmetric gate (see gate), the
	// cached producer position says a record is there, it is a message
	// whose header fits the ring, and buf holds it; one store of the
	// consumer position. Everything else takes readContext.
	g := &c.g
	if !g.asym || g.busy != 0 {
		return c.readContext(ctx, buf)
	}
	g.busy = gateBusy
	if g.state.Load() != 0 {
		g.leaveClosed()
		return 0, 0, ErrClosed
	}
	r := c.r
	if avail := c.tailCache - c.head; avail != 0 {
		idx := c.head & r.mask
		h := r.header(idx)
		length, typ := uint64(h[0]), h[1]
		padded := align(length)
		if typ != PaddingType && length >= RecordHeaderSize && padded <= uint64(r.capacity)-idx && padded <= avail &&
			length-RecordHeaderSize <= uint64(len(buf)) {
			if m := length - RecordHeaderSize; m-32 <= 32 {
				d, s := unsafe.Pointer(unsafe.SliceData(buf)), unsafe.Add(r.base, idx+RecordHeaderSize)
				move32(d, s)
				move32(unsafe.Add(d, m-32), unsafe.Add(s, m-32))
				n = int(m)
			} else if m <= smallMessage {
				n = copy(buf, r.data[idx+RecordHeaderSize:idx+length])
			} else {
				copyIn(buf, r.data[idx+RecordHeaderSize:idx+length])
				n = int(m)
			}
			c.head += padded
			r.head.Store(c.head)
			if r.spaceWaiters.Load() != 0 {
				wakeIf(r.spaceWaiters, &c.w.st)
			}
			g.busy = 0
			if g.state.Load() != 0 {
				g.leaveClosed()
			}
			return typ, n, nil
		}
	}
	typ, n, err = c.readEntered(ctx, buf)
	g.exit()
	return typ, n, err
}

// readContext is ReadContext through the gate's enter and exit.
func (c *Consumer) readContext(ctx context.Context, buf []byte) (typ uint32, n int, err error) {
	if err := c.g.enter("Consumer"); err != nil {
		return 0, 0, err
	}
	typ, n, err = c.readEntered(ctx, buf)
	c.g.exit()
	return typ, n, err
}

// readEntered is ReadContext inside the gate.
func (c *Consumer) readEntered(ctx context.Context, buf []byte) (typ uint32, n int, err error) {
	typ, n, err = c.tryRead(buf)
	if err == ErrEmpty {
		err = c.w.block(ctx, func() error {
			if c.g.closed() {
				return ErrClosed
			}
			typ, n, err = c.tryRead(buf)
			return err
		})
	}
	return typ, n, err
}

// TryReadFunc calls fn with the next message in place (zero-copy) and
// consumes it when fn returns nil; the slice is valid only during the call.
// If fn returns an error the message stays in the ring and TryReadFunc
// returns that error. fn must not call the Consumer's methods other than
// Close, Stats, SetSpin and SetPeerCheck (a Close from fn, or from another
// goroutine while fn runs, releases the role when TryReadFunc returns).
// Errors as TryRead.
func (c *Consumer) TryReadFunc(fn func(typ uint32, msg []byte) error) error {
	if err := c.g.enter("Consumer"); err != nil {
		return err
	}
	defer c.g.exitAfterCallback()
	return c.tryReadFunc(fn)
}

// ReadFunc is TryReadFunc that waits as ReadContext does. An error from fn
// — even ErrEmpty — is returned as it is, never taken for "nothing yet".
func (c *Consumer) ReadFunc(ctx context.Context, fn func(typ uint32, msg []byte) error) error {
	if err := c.g.enter("Consumer"); err != nil {
		return err
	}
	defer c.g.exitAfterCallback()
	var fnErr error
	call := func(typ uint32, msg []byte) error {
		if fnErr = fn(typ, msg); fnErr != nil {
			return errFromFn
		}
		return nil
	}
	err := c.tryReadFunc(call)
	if err == ErrEmpty {
		err = c.w.block(ctx, func() error {
			if c.g.closed() {
				return ErrClosed
			}
			return c.tryReadFunc(call)
		})
	}
	if err == errFromFn {
		return fnErr
	}
	return err
}

// errFromFn stands for an error a callback returned, so that block does
// not take a callback that returns ErrEmpty for an empty ring.
var errFromFn = errors.New("ring: error from the callback")

// tryRead copies the next message into buf and consumes it.
func (c *Consumer) tryRead(buf []byte) (typ uint32, n int, err error) {
	msg, typ, next, err := c.peek()
	if err != nil {
		return 0, 0, err
	}
	if len(msg) > len(buf) {
		return typ, len(msg), errShort{n: len(msg), have: len(buf)}
	}
	copyIn(buf, msg)
	c.advance(next)
	return typ, len(msg), nil
}

// tryReadFunc calls fn with the next message and consumes it if fn
// returns nil; Close knows while fn runs (see gate).
func (c *Consumer) tryReadFunc(fn func(typ uint32, msg []byte) error) error {
	msg, typ, next, err := c.peek()
	if err != nil {
		return err
	}
	c.g.callback(true)
	err = fn(typ, msg)
	c.g.callback(false)
	if err != nil {
		return err
	}
	c.advance(next)
	return nil
}

// peek returns the next message in place, its type, and the consumer
// position after it, with padding records before it already skipped. The
// common case — the cached producer position says a record is there, and
// its header fits the ring — takes no atomic operation: the producer
// position is loaded only when the cached one says the ring is empty.
func (c *Consumer) peek() (msg []byte, typ uint32, next uint64, err error) {
	r := c.r
	if avail := c.tailCache - c.head; avail != 0 {
		idx := c.head & r.mask
		length := uint64(binary.NativeEndian.Uint32(r.data[idx:]))
		typ = binary.NativeEndian.Uint32(r.data[idx+4:])
		padded := align(length)
		if typ != PaddingType && length >= RecordHeaderSize && padded <= uint64(r.capacity)-idx && padded <= avail {
			return r.data[idx+RecordHeaderSize : idx+length : idx+length], typ, c.head + padded, nil
		}
	}
	return c.peekSlow()
}

// peekSlow is peek when the cached producer position says the ring is
// empty, at a padding record, or at a record that does not fit.
func (c *Consumer) peekSlow() (msg []byte, typ uint32, next uint64, err error) {
	r := c.r
	capacity := uint64(r.capacity)
	for range 3 { // a re-check after close, at most one padding record, then a message
		if c.tailCache == c.head {
			tail := r.tail.Load()
			if tail == c.head {
				if r.producerPID.Load() != ownerClosed {
					return nil, 0, 0, ErrEmpty
				}
				if r.tail.Load() != c.head { // published just before closing
					continue
				}
				return nil, 0, 0, io.EOF
			}
			if err := r.checkPositions(c.head, tail); err != nil {
				return nil, 0, 0, err
			}
			c.tailCache = tail
		}
		avail := c.tailCache - c.head
		idx := c.head & r.mask
		length := uint64(binary.NativeEndian.Uint32(r.data[idx:]))
		typ := binary.NativeEndian.Uint32(r.data[idx+4:])
		if typ == PaddingType {
			if idx == 0 || length != capacity-idx || length > avail {
				return nil, 0, 0, c.corrupt(idx, length, typ, avail)
			}
			if c.batch {
				c.head += length // freed with the batch
			} else {
				c.advance(c.head + length)
			}
			continue
		}
		if length < RecordHeaderSize || align(length) > capacity-idx || align(length) > avail {
			return nil, 0, 0, c.corrupt(idx, length, typ, avail)
		}
		return r.data[idx+RecordHeaderSize : idx+length : idx+length], typ, c.head + align(length), nil
	}
	return nil, 0, 0, errorf(ErrCorrupt, "two padding records in a row at position %d", c.head)
}

func (c *Consumer) corrupt(idx, length uint64, typ uint32, avail uint64) error {
	return errorf(ErrCorrupt, "record at position %d (offset %d of %d) has length %d, type %#x, with %d bytes published",
		c.head, idx, c.r.capacity, length, typ, avail)
}

// advance frees the records before position head: a sequentially
// consistent store of the consumer position, then a wake for a producer
// sleeping on a full ring.
func (c *Consumer) advance(head uint64) {
	c.head = head
	c.r.head.Store(head)
	wakeIf(c.r.spaceWaiters, &c.w.st)
}

// Close releases the consumer role and marks the ring closed by the
// consumer: the producer's writes then fail with ErrClosed. A call in
// progress in another goroutine (a ReadContext waiting for a message)
// returns ErrClosed, and Close returns once it has, so the memory may be
// unmapped after Close returns — except while a ReadFunc callback runs
// (Close may come from the callback itself): the role is then released
// when that ReadFunc returns. Later calls return ErrClosed. Close never
// unmaps the memory.
func (c *Consumer) Close() error {
	return c.g.shut(c.r)
}

// release gives up the role and wakes the producer to see it.
func (c *Consumer) release() {
	c.r.consumerPID.Store(ownerClosed)
	wakeAll(c.r)
}

// errShort is TryRead's error for a buffer that is too short.
type errShort struct{ n, have int }

func (e errShort) Error() string {
	return fmt.Sprintf("ring: a %d-byte message does not fit a %d-byte buffer", e.n, e.have)
}

func (e errShort) Unwrap() error { return io.ErrShortBuffer }
