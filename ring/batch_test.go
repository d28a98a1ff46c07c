package ring_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/shmmap/shmmap/ring"
	"github.com/shmmap/shmmap/ring/internal/ringmsg"
)

// batchMsgs are n test messages of the stream with this seed.
func batchMsgs(seed uint64, from, n uint64, max int) []ring.Message {
	msgs := make([]ring.Message, n)
	for i := range msgs {
		typ, size, x := ringmsg.Spec(seed, from+uint64(i), max)
		b := make([]byte, size)
		ringmsg.Fill(b, from+uint64(i), x)
		msgs[i] = ring.Message{Type: typ, Data: b}
	}
	return msgs
}

// TestWriteBatchLayout: TryWriteBatch lays out the memory byte for byte as
// the same messages written one TryWrite at a time do — records, padding
// at the wrap, positions — and stops where they stop (ErrFull), across
// several laps of a small ring read back with TryReadBatch.
func TestWriteBatchLayout(t *testing.T) {
	forBothGates(t, func(t *testing.T) {
		memB, _, pb, cb := newRing(t, 1024)
		memS, _, ps, cs := newRing(t, 1024)
		msgs := batchMsgs(3, 0, 4000, 300)
		for lap := 0; len(msgs) > 0; lap++ {
			k, err := pb.TryWriteBatch(msgs)
			want := 0
			var errS error
			for ; want < len(msgs); want++ {
				if errS = ps.TryWrite(msgs[want].Type, msgs[want].Data); errS != nil {
					break
				}
			}
			if k != want || (err == nil) != (errS == nil) || (err != nil && !errors.Is(err, ring.ErrFull)) {
				t.Fatalf("lap %d: TryWriteBatch wrote %d (%v); TryWrite wrote %d (%v)", lap, k, err, want, errS)
			}
			if !bytes.Equal(memB, memS) {
				t.Fatalf("lap %d: the memory after TryWriteBatch differs from the memory after TryWrite", lap)
			}
			// Read back: all of it with one batch, half of it on the
			// single-message side first then a batch, so the laps differ.
			var got []ring.Message
			n, err := cb.TryReadBatch(0, func(typ uint32, msg []byte) error {
				got = append(got, ring.Message{Type: typ, Data: bytes.Clone(msg)})
				return nil
			})
			if err != nil || n != k {
				t.Fatalf("lap %d: TryReadBatch: %d, %v; want %d", lap, n, err, k)
			}
			for i := range got {
				if got[i].Type != msgs[i].Type || !bytes.Equal(got[i].Data, msgs[i].Data) {
					t.Fatalf("lap %d: message %d differs", lap, i)
				}
			}
			buf := make([]byte, 300)
			for range k / 2 {
				if _, _, err := cs.TryRead(buf); err != nil {
					t.Fatal(err)
				}
			}
			if n, err := cs.TryReadBatch(0, func(uint32, []byte) error { return nil }); err != nil || n != k-k/2 {
				t.Fatalf("lap %d: TryReadBatch after TryRead: %d, %v; want %d", lap, n, err, k-k/2)
			}
			if !bytes.Equal(memB, memS) {
				t.Fatalf("lap %d: the memory after reading differs", lap)
			}
			msgs = msgs[k:]
		}
		if _, err := cb.TryReadBatch(0, func(uint32, []byte) error { return nil }); err != ring.ErrEmpty {
			t.Fatalf("TryReadBatch on an empty ring: %v", err)
		}
	})
}

// TestReadBatchFreesOnce: the consumer position in memory does not move
// while a batch runs and moves past all of it when the batch returns; max
// limits a batch; an error from fn leaves its message in the ring.
func TestReadBatchFreesOnce(t *testing.T) {
	forBothGates(t, func(t *testing.T) {
		mem, _, p, c := newRing(t, 4096)
		msgs := batchMsgs(5, 0, 10, 64)
		if k, err := p.TryWriteBatch(msgs); k != 10 || err != nil {
			t.Fatalf("TryWriteBatch: %d, %v", k, err)
		}
		head0 := ne.Uint64(mem[offHead:])
		seen := 0
		k, err := c.TryReadBatch(4, func(typ uint32, msg []byte) error {
			if h := ne.Uint64(mem[offHead:]); h != head0 {
				return fmt.Errorf("consumer position %d during the batch, want %d", h, head0)
			}
			if !bytes.Equal(msg, msgs[seen].Data) {
				return fmt.Errorf("message %d differs", seen)
			}
			seen++
			return nil
		})
		if k != 4 || err != nil {
			t.Fatalf("TryReadBatch(4): %d, %v", k, err)
		}
		var want uint64
		for _, m := range msgs[:4] {
			want += (uint64(len(m.Data)) + 8 + 7) &^ 7
		}
		if h := ne.Uint64(mem[offHead:]); h != head0+want {
			t.Fatalf("consumer position %d after the batch, want %d", h, head0+want)
		}
		stop := errors.New("stop")
		k, err = c.TryReadBatch(0, func(typ uint32, msg []byte) error {
			if bytes.Equal(msg, msgs[6].Data) {
				return stop
			}
			return nil
		})
		if k != 2 || err != stop {
			t.Fatalf("TryReadBatch stopped by fn at the third message: %d, %v; want 2, stop", k, err)
		}
		mustRead(t, c, msgs[6].Type, msgs[6].Data)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if k, err := c.ReadBatch(ctx, 0, func(uint32, []byte) error { return nil }); k != 3 || err != nil {
			t.Fatalf("ReadBatch of the last three: %d, %v", k, err)
		}
		p.Close()
		if k, err := c.ReadBatch(ctx, 0, func(uint32, []byte) error { return nil }); k != 0 || err != io.EOF {
			t.Fatalf("ReadBatch after the producer closed: %d, %v; want 0, io.EOF", k, err)
		}
	})
}

// TestWriteBatchRefuses: a message TryWrite would refuse stops the batch
// there, after the ones before it are published; so does a closed ring.
func TestWriteBatchRefuses(t *testing.T) {
	forBothGates(t, func(t *testing.T) {
		_, _, p, c := newRing(t, 1024)
		ok := []byte("fine")
		k, err := p.TryWriteBatch([]ring.Message{{1, ok}, {2, ok}, {3, make([]byte, 2000)}, {4, ok}})
		if k != 2 || !errors.Is(err, ring.ErrTooLarge) {
			t.Fatalf("TryWriteBatch with a message too large third: %d, %v", k, err)
		}
		k, err = p.WriteBatch(context.Background(), []ring.Message{{5, ok}, {ring.PaddingType, ok}})
		if k != 1 || !errors.Is(err, ring.ErrInvalid) {
			t.Fatalf("WriteBatch with the padding type second: %d, %v", k, err)
		}
		for _, typ := range []uint32{1, 2, 5} {
			mustRead(t, c, typ, ok)
		}
		c.Close()
		if k, err := p.TryWriteBatch([]ring.Message{{1, ok}}); k != 0 || !errors.Is(err, ring.ErrClosed) {
			t.Fatalf("TryWriteBatch after the consumer closed: %d, %v", k, err)
		}
		p.Close()
		if k, err := p.WriteBatch(context.Background(), nil); k != 0 || err != ring.ErrClosed {
			t.Fatalf("WriteBatch after Close: %d, %v", k, err)
		}
	})
}

// TestBatchStream: WriteBatch in one goroutine and ReadBatch in another,
// through a ring smaller than a batch, so that both wait (and sleep) for
// each other; every message arrives intact and in order.
func TestBatchStream(t *testing.T) {
	forBothGates(t, func(t *testing.T) {
		const n, max = 20000, 200
		_, _, p, c := newRing(t, 1024)
		p.SetSpin(1, 0)
		c.SetSpin(1, 0)
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		errc := make(chan error, 1)
		go func() {
			for i := uint64(0); i < n; i += 50 {
				msgs := batchMsgs(8, i, 50, max)
				if k, err := p.WriteBatch(ctx, msgs); err != nil || k != len(msgs) {
					errc <- fmt.Errorf("WriteBatch at %d: %d, %v", i, k, err)
					return
				}
			}
			errc <- p.Close()
		}()
		var tot ringmsg.Totals
		var err error
		for err == nil {
			_, err = c.ReadBatch(ctx, 0, func(typ uint32, msg []byte) error {
				sum, err := ringmsg.Check(8, tot.Count, max, typ, msg)
				tot.Add(sum)
				return err
			})
		}
		if err != io.EOF {
			t.Fatalf("after %d messages: %v", tot.Count, err)
		}
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
		if want := ringmsg.Expect(8, n, max); tot != want {
			t.Fatalf("got %v, want %v", tot, want)
		}
		t.Logf("producer %+v, consumer %+v", p.Stats(), c.Stats())
	})
}

// forBothGates runs f with the gate this build and kernel choose and, if
// that is the asymmetric one, again with the compare-and-swap one.
func forBothGates(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	t.Run("gate=default", f)
	if ring.AsymmetricGate() {
		t.Run("gate=cas", func(t *testing.T) {
			defer ring.ForceCASGate(true)()
			f(t)
		})
	}
}
