package ring

import (
	"context"
	"io"
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
	n, err := p.writeBatch(nil, msgs)
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
	n, err := p.writeBatch(ctx, msgs)
	p.g.exit()
	return n, err
}

// writeBatch claims and fills one record after another, advancing our
// position without publishing it, and publishes before it waits (ctx not
// nil) and at the end.
func (p *Producer) writeBatch(ctx context.Context, msgs []Message) (k int, err error) {
	published := p.tail
	for k < len(msgs) {
		m := &msgs[k]
		var b []byte
		b, err = p.tryClaim(m.Type, len(m.Data))
		if err == ErrFull && ctx != nil {
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
// from another goroutine while fn runs, releases the role when
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
	return c.readBatch(max, fn)
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
	var fnErr error
	call := func(typ uint32, msg []byte) error {
		if fnErr = fn(typ, msg); fnErr != nil {
			return errFromFn
		}
		return nil
	}
	k, err := c.readBatch(max, call)
	if err == ErrEmpty {
		err = c.w.block(ctx, func() error {
			if c.g.closed() {
				return ErrClosed
			}
			k, err = c.readBatch(max, call)
			return err
		})
	}
	if err == errFromFn {
		return k, fnErr
	}
	return k, err
}

// readBatch hands fn the messages there are, moving our position over
// them (and over padding) without storing it, and stores it once at the
// end. It returns ErrEmpty or io.EOF only when there was no message.
func (c *Consumer) readBatch(max int, fn func(typ uint32, msg []byte) error) (k int, err error) {
	start := c.head
	c.batch = true
	defer func() { // also if fn panics: what it took before is consumed
		c.batch = false
		if c.head != start {
			c.advance(c.head)
		}
	}()
	for max <= 0 || k < max {
		msg, typ, next, perr := c.peek()
		if perr != nil {
			if k == 0 || (perr != ErrEmpty && perr != io.EOF) {
				err = perr
			}
			break
		}
		c.g.callback(true)
		err = fn(typ, msg)
		c.g.callback(false)
		if err != nil {
			break
		}
		c.head = next
		k++
	}
	return k, err
}
