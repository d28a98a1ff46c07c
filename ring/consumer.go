package ring

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// A Consumer reads messages from a Ring. Only one Consumer may exist per
// ring at a time, across all processes. Its methods must be called from one
// goroutine at a time (a concurrent call returns an error wrapping
// ErrInvalid), except Close, Stats, SetSpin and SetPeerCheck, which may be
// called from any goroutine: Close makes a call in progress return
// ErrClosed, unless it has already consumed its message.
type Consumer struct {
	r    *Ring
	head uint64 // our copy of the consumer position (we are its only writer)
	g    gate
	w    waiter
}

// Consumer takes the consumer role and returns the Consumer; see Producer
// for when the role is free.
func (r *Ring) Consumer() (*Consumer, error) {
	if err := claimRole(r.consumerPID, "consumer"); err != nil {
		return nil, err
	}
	c := &Consumer{r: r}
	c.w = waiter{word: r.dataWaiters, peer: r.producerPID, peerRole: "producer"}
	c.w.spin.Store(-1)
	c.head = r.head.Load()
	if err := r.checkPositions(c.head, r.tail.Load()); err != nil {
		r.consumerPID.Store(0)
		return nil, err
	}
	return c, nil
}

// SetSpin sets how a blocked read spins before it sleeps on the futex:
// loads re-checks in a tight loop (with the CPU's spin-wait hint), then
// yields re-checks each after yielding the CPU (runtime.Gosched, then
// sched_yield). SetSpin(0, 0) sleeps at once (the stress tests use it to
// force the sleep/wake path); negative values restore the default (64, 16).
func (c *Consumer) SetSpin(loads, yields int) { c.w.setSpin(loads, yields) }

// SetPeerCheck sets how often a blocked call wakes up to check that the
// producer process is alive: DefaultPeerCheck if d is 0; never if d is
// negative — for peers in another PID namespace, whose pid means nothing
// here (a blocked call then waits for the producer or its context only).
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
	defer c.exit()
	return c.tryRead(buf)
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
	if err := c.g.enter("Consumer"); err != nil {
		return 0, 0, err
	}
	defer c.exit()
	typ, n, err = c.tryRead(buf)
	if err != ErrEmpty {
		return typ, n, err
	}
	err = c.w.block(ctx, func() error {
		if c.g.closed() {
			return ErrClosed
		}
		typ, n, err = c.tryRead(buf)
		return err
	})
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
	defer c.exit()
	return c.tryReadFunc(c.marked(fn))
}

// marked wraps a ReadFunc callback so that Close knows when one runs (see
// gate).
func (c *Consumer) marked(fn func(typ uint32, msg []byte) error) func(typ uint32, msg []byte) error {
	return func(typ uint32, msg []byte) error {
		c.g.callback(true)
		defer c.g.callback(false)
		return fn(typ, msg)
	}
}

// ReadFunc is TryReadFunc that waits as ReadContext does. An error from fn
// — even ErrEmpty — is returned as it is, never taken for "nothing yet".
func (c *Consumer) ReadFunc(ctx context.Context, fn func(typ uint32, msg []byte) error) error {
	if err := c.g.enter("Consumer"); err != nil {
		return err
	}
	defer c.exit()
	var fnErr error
	fn = c.marked(fn)
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

// errFromFn stands for an error ReadFunc's fn returned, so that block does
// not take an fn that returns ErrEmpty for an empty ring.
var errFromFn = errors.New("ring: error from the ReadFunc callback")

func (c *Consumer) tryRead(buf []byte) (typ uint32, n int, err error) {
	err = c.tryReadFunc(func(t uint32, msg []byte) error {
		typ, n = t, len(msg)
		if len(msg) > len(buf) {
			return errShort{n: len(msg), have: len(buf)}
		}
		copyIn(buf, msg)
		return nil
	})
	return typ, n, err
}

func (c *Consumer) tryReadFunc(fn func(typ uint32, msg []byte) error) error {
	r := c.r
	capacity := uint64(r.capacity)
	for range 3 { // a re-check after close, at most one padding record, then a message
		tail := r.tail.Load()
		avail := tail - c.head
		if avail == 0 {
			if r.producerPID.Load() != ownerClosed {
				return ErrEmpty
			}
			if r.tail.Load() != c.head { // published just before closing
				continue
			}
			return io.EOF
		}
		if err := r.checkPositions(c.head, tail); err != nil {
			return err
		}
		idx := c.head & r.mask
		length := uint64(binary.NativeEndian.Uint32(r.data[idx:]))
		typ := binary.NativeEndian.Uint32(r.data[idx+4:])
		if typ == PaddingType {
			if idx == 0 || length != capacity-idx || length > avail {
				return c.corrupt(idx, length, typ, avail)
			}
			c.advance(length)
			continue
		}
		if length < RecordHeaderSize || align(length) > capacity-idx || align(length) > avail {
			return c.corrupt(idx, length, typ, avail)
		}
		start := idx + RecordHeaderSize
		if err := fn(typ, r.data[start:idx+length:idx+length]); err != nil {
			return err
		}
		c.advance(align(length))
		return nil
	}
	return errorf(ErrCorrupt, "two padding records in a row at position %d", c.head)
}

func (c *Consumer) corrupt(idx, length uint64, typ uint32, avail uint64) error {
	return errorf(ErrCorrupt, "record at position %d (offset %d of %d) has length %d, type %#x, with %d bytes published",
		c.head, idx, c.r.capacity, length, typ, avail)
}

// advance frees n bytes: a sequentially consistent store of the consumer
// position, then a wake for a producer sleeping on a full ring.
func (c *Consumer) advance(n uint64) {
	c.head += n
	c.r.head.Store(c.head)
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
	return c.g.shut(c.r, c.release)
}

// exit ends a call; if Close came meanwhile, the role is released now.
func (c *Consumer) exit() {
	if c.g.exit() {
		c.release()
		c.g.done()
	}
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
