package ring

import (
	"context"
	"io"
	"unsafe"
)

// A Message is one message of a batch: its type and its payload.
type Message struct {
	Type uint32
	Data []byte
}

// TryWriteBatch writes as many of msgs as fit now, in order, and publishes
// them together: one store of the producer position (and at most one wake
// of the consumer) for the whole batch instead of one per message. It
// returns how many it wrote; the error is nil only if that is all of them:
// ErrFull if the ring filled first, ErrTooLarge or ErrInvalid at a message
// TryWrite would refuse, ErrClosed if either side closed the ring (the
// messages before are written either way).
func (p *Producer) TryWriteBatch(msgs []Message) (int, error) {
	if err := p.g.enter("Producer"); err != nil {
		return 0, err
	}
	n, err := p.writeBatch(context.Background(), false, msgs)
	p.g.exit()
	return n, err
}

// WriteBatch writes all of msgs, in order, waiting for room as
// WriteContext does. It publishes the messages written so far whenever it
// has to wait (so that the consumer can make room) and once at the end:
// one store of the producer position per batch, or per ring-full. It
// returns how many messages it wrote (all of them when the error is nil)
// and fails as WriteContext does; the messages before the failure are
// published.
func (p *Producer) WriteBatch(ctx context.Context, msgs []Message) (int, error) {
	if err := p.g.enter("Producer"); err != nil {
		return 0, err
	}
	n, err := p.writeBatch(ctx, true, msgs)
	p.g.exit()
	return n, err
}

// writeBatch claims and fills one record after another, advancing our
// position without publishing it, and publishes before it waits (wait
// is true) and at the end. Records that fit before the end of the data area
// and in the room the cached consumer position leaves are written in the
// loop itself; the others go through tryClaim.
func (p *Producer) writeBatch(ctx context.Context, wait bool, msgs []Message) (k int, err error) {
	r := p.r
	capacity := uint64(r.capacity)
	published := p.tail
	fastCopy := p.g.asym // x86 outside the race detector: see move32
	if p.pending != 0 || r.consumerPID.Load() == ownerClosed {
		_, err = p.claimSlow(0, 0) // the error, from the one place that words it
		return 0, err
	}
	for k < len(msgs) {
		m := &msgs[k]
		n := uint64(len(m.Data))
		need := align(n + RecordHeaderSize)
		idx := p.tail & r.mask
		if m.Type != PaddingType && need <= capacity-idx && p.tail+need-p.headCache <= capacity {
			*r.header(idx) = [2]uint32{uint32(n) + RecordHeaderSize, m.Type}
			switch {
			case n-32 <= 32 && fastCopy: // see move32
				d, s := unsafe.Add(r.base, idx+RecordHeaderSize), unsafe.Pointer(unsafe.SliceData(m.Data))
				move32(d, s)
				move32(unsafe.Add(d, n-32), unsafe.Add(s, n-32))
			case n <= smallMessage:
				copy(r.data[idx+RecordHeaderSize:idx+RecordHeaderSize+n], m.Data)
			default:
				copyIn(r.data[idx+RecordHeaderSize:idx+RecordHeaderSize+n], m.Data)
			}
			p.tail += need
			k++
			continue
		}
		var b []byte
		b, err = p.tryClaim(m.Type, len(m.Data))
		if err == ErrFull && wait {
			if p.tail != published {
				p.flush()
				published = p.tail
			}
			b, err = p.claimWait(ctx, m.Type, len(m.Data))
		}
		if err != nil {
			break
		}
		copyIn(b, m.Data)
		p.tail += p.pending
		p.pending = 0
		k++
	}
	if p.tail != published {
		p.flush()
	}
	return k, err
}

// TryReadBatch calls fn with each message already published, in order and
// in place (zero-copy), at most max of them (no limit if max <= 0), and
// frees them together when it returns: one store of the consumer position
// (and at most one wake of the producer) for the whole batch instead of one
// per message. A slice passed to fn is valid only during that call. It
// returns how many messages fn took. If fn returns an error, the messages
// before it are consumed, that one stays in the ring, and TryReadBatch
// returns the count and that error. With no message there it returns
// ErrEmpty, or io.EOF if the producer has closed and everything has been
// read; fn is then not called. fn must not call the Consumer's methods
// other than Close, Stats, SetSpin and SetPeerCheck (a Close from fn, or
// from another goroutine during the batch, releases the role when
// TryReadBatch returns).
//
// A batch reads what the producer publishes meanwhile too; since nothing
// is freed until the batch ends, it holds at most a ring's worth of
// records.
func (c *Consumer) TryReadBatch(max int, fn func(typ uint32, msg []byte) error) (int, error) {
	if err := c.g.enter("Consumer"); err != nil {
		return 0, err
	}
	defer c.g.exitAfterCallback()
	k, err, _ := c.readBatch(max, fn)
	return k, err
}

// ReadBatch is TryReadBatch that waits, as ReadContext does, while the
// ring is empty: it returns at least one message, io.EOF once the producer
// has closed and everything has been read, or an error. An error from fn
// — even ErrEmpty — is returned as it is, never taken for "nothing yet".
func (c *Consumer) ReadBatch(ctx context.Context, max int, fn func(typ uint32, msg []byte) error) (int, error) {
	if err := c.g.enter("Consumer"); err != nil {
		return 0, err
	}
	defer c.g.exitAfterCallback()
	k, err, fromFn := c.readBatch(max, fn)
	if err == ErrEmpty && !fromFn {
		var fnErr error
		err = c.w.block(ctx, func() error {
			if c.g.closed() {
				return ErrClosed
			}
			k, fnErr, fromFn = c.readBatch(max, fn)
			if fromFn {
				return errFromFn
			}
			return fnErr
		})
		if err == errFromFn {
			err = fnErr
		}
	}
	return k, err
}

// readBatch hands fn the messages there are, moving our position over
// them (and over padding) without storing it, and stores it once at the
// end. Records the cached producer position covers, whose headers fit the
// ring, are taken in the loop itself; the others (an empty cache, padding,
// a bad header) through peekSlow. It returns ErrEmpty or io.EOF only when
// there was no message; fromFn says that err is fn's.
func (c *Consumer) readBatch(max int, fn func(typ uint32, msg []byte) error) (k int, err error, fromFn bool) {
	r := c.r
	capacity := uint64(r.capacity)
	start := c.head
	c.batch = true
	c.g.callback(true)
	defer func() { // also if fn panics: what it took before is consumed
		c.g.callback(false)
		c.batch = false
		if c.head != start {
			c.advance(c.head)
		}
	}()
	for max <= 0 || k < max {
		var msg []byte
		var typ uint32
		var length, next uint64
		avail := c.tailCache - c.head
		idx := c.head & r.mask
		if avail != 0 {
			h := r.header(idx)
			length, typ = uint64(h[0]), h[1]
		}
		if padded := align(length); avail != 0 && typ != PaddingType && length >= RecordHeaderSize && padded <= capacity-idx && padded <= avail {
			msg, next = r.data[idx+RecordHeaderSize:idx+length:idx+length], c.head+padded
		} else {
			var perr error
			if msg, typ, next, perr = c.peekSlow(); perr != nil {
				if k == 0 || (perr != ErrEmpty && perr != io.EOF) {
					err = perr
				}
				break
			}
		}
		if err = fn(typ, msg); err != nil {
			return k, err, true
		}
		c.head = next
		k++
	}
	return k, err, false
}
