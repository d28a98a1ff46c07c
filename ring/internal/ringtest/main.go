// Command ringtest is the Go end of the ring's cross-process tests: the same
// producer and consumer as cring/testdata/producer.c and consumer.c, with
// the same flags and the same output, over the Go ring package.
//
//	ringtest -role producer|consumer (-k KEY | -f PATH) [-i] [-n N] [-s SEED] [-m MAX]
//	         [-p MS] [-S K] [-t MS] [-z] [-b K]
//
// Both print "ready" once they hold their role and, at the end,
// "count N sum S sleeps A wakes B timeouts C". The producer writes N
// messages (0: until killed) and closes; the consumer reads to the end and
// checks every message (ring/internal/ringmsg). -S K stops after K messages
// and waits for stdin to close: the producer with message K claimed and
// half-written, the consumer between two reads. -i formats the ring, else
// it waits for the other side to. -b K writes batches of K messages with
// WriteBatch (N > 0, no -S) or reads with ReadBatch, up to K a batch. Exit 3
// if the peer died, 1 on another error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/shmmap/shmmap"
	"github.com/shmmap/shmmap/ring"
	"github.com/shmmap/shmmap/ring/internal/ringmsg"
)

func main() {
	role := flag.String("role", "", "producer or consumer")
	key := flag.String("k", "", "System V key, hex")
	path := flag.String("f", "", "file or /dev/shm object")
	initRing := flag.Bool("i", false, "format the ring")
	n := flag.Uint64("n", 0, "messages")
	seed := flag.Uint64("s", 1, "seed")
	maxSize := flag.Int("m", 8192, "largest message")
	peerMS := flag.Int("p", 0, "peer-check interval, ms")
	stall := flag.Int64("S", -1, "stop after K messages")
	timeoutMS := flag.Int("t", -1, "timeout of each blocking call, ms")
	nospin := flag.Bool("z", false, "sleep at once instead of spinning")
	batch := flag.Int("b", 0, "write / read in batches of up to K messages")
	flag.Parse()

	mem := mapMemory(*key, *path)
	var r *ring.Ring
	var err error
	if *initRing {
		r, err = ring.Init(mem)
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		r, err = ring.AttachContext(ctx, mem)
		cancel()
	}
	if err != nil {
		fail(err)
	}
	max := min(*maxSize, r.MaxMessage())
	ctx := func() (context.Context, context.CancelFunc) {
		if *timeoutMS < 0 {
			return context.Background(), func() {}
		}
		return context.WithTimeout(context.Background(), time.Duration(*timeoutMS)*time.Millisecond)
	}
	var tot ringmsg.Totals
	switch *role {
	case "producer":
		p, err := r.Producer()
		if err != nil {
			fail(err)
		}
		p.SetPeerCheck(time.Duration(*peerMS) * time.Millisecond)
		if *nospin {
			p.SetSpin(0, 0)
		}
		fmt.Println("ready")
		if *batch > 0 {
			tot = writeBatches(p, *n, *seed, max, *batch, ctx)
			p.Close()
			report(tot, p.Stats())
			return
		}
		for i := uint64(0); *n == 0 || i < *n; i++ {
			typ, size, x := ringmsg.Spec(*seed, i, max)
			c, cancel := ctx()
			b, err := p.ClaimContext(c, typ, size)
			cancel()
			if err != nil {
				fail(err)
			}
			if int64(i) == *stall {
				ringmsg.Fill(b, i, x)
				for j := size / 2; j < size; j++ {
					b[j] = 0xEE // half-written
				}
				fmt.Println("stalled")
				io.Copy(io.Discard, os.Stdin)
				os.Exit(0)
			}
			tot.Add(ringmsg.Fill(b, i, x))
			if err := p.Commit(); err != nil {
				fail(err)
			}
		}
		p.Close()
		report(tot, p.Stats())
	case "consumer":
		c, err := r.Consumer()
		if err != nil {
			fail(err)
		}
		c.SetPeerCheck(time.Duration(*peerMS) * time.Millisecond)
		if *nospin {
			c.SetSpin(0, 0)
		}
		fmt.Println("ready")
		for {
			if int64(tot.Count) == *stall {
				fmt.Println("stalled")
				io.Copy(io.Discard, os.Stdin)
				os.Exit(0)
			}
			cx, cancel := ctx()
			check := func(typ uint32, msg []byte) error {
				sum, err := ringmsg.Check(*seed, tot.Count, max, typ, msg)
				if err != nil {
					return err
				}
				tot.Add(sum)
				return nil
			}
			if *batch > 0 {
				_, err = c.ReadBatch(cx, *batch, check)
			} else {
				err = c.ReadFunc(cx, check)
			}
			cancel()
			if err != nil {
				break
			}
		}
		report(tot, c.Stats())
		if err != io.EOF {
			fail(err)
		}
		if *n != 0 && tot.Count != *n {
			fmt.Printf("error got %d messages, want %d\n", tot.Count, *n)
			os.Exit(1)
		}
		c.Close()
	default:
		fmt.Fprintln(os.Stderr, "ringtest: -role producer or consumer")
		os.Exit(2)
	}
}

// writeBatches writes the n messages in batches of k with WriteBatch.
func writeBatches(p *ring.Producer, n, seed uint64, max, k int, ctx func() (context.Context, context.CancelFunc)) ringmsg.Totals {
	var tot ringmsg.Totals
	msgs := make([]ring.Message, k)
	bufs := make([][]byte, k)
	for j := range bufs {
		bufs[j] = make([]byte, max)
	}
	for i := uint64(0); i < n; {
		m := msgs[:min(uint64(k), n-i)]
		for j := range m {
			typ, size, x := ringmsg.Spec(seed, i+uint64(j), max)
			b := bufs[j][:size]
			tot.Add(ringmsg.Fill(b, i+uint64(j), x))
			m[j] = ring.Message{Type: typ, Data: b}
		}
		c, cancel := ctx()
		written, err := p.WriteBatch(c, m)
		cancel()
		if err != nil {
			fail(err)
		}
		if written != len(m) {
			fail(fmt.Errorf("wrote %d of %d", written, len(m)))
		}
		i += uint64(len(m))
	}
	return tot
}

func report(t ringmsg.Totals, st ring.Stats) {
	fmt.Printf("%v sleeps %d wakes %d timeouts %d\n", t, st.Sleeps, st.Wakes, st.Timeouts)
}

func fail(err error) {
	fmt.Printf("error %v\n", err)
	if errors.Is(err, ring.ErrPeerDead) {
		os.Exit(3)
	}
	os.Exit(1)
}

// mapMemory attaches the segment at key or maps the file at path.
func mapMemory(key, path string) []byte {
	switch {
	case key != "" && path == "":
		k, err := strconv.ParseUint(key, 16, 32)
		if err != nil {
			fail(err)
		}
		seg, err := shmmap.OpenSegment(shmmap.Key(int32(uint32(k))))
		if err != nil {
			fail(err)
		}
		a, err := seg.Attach(shmmap.AttachReadWrite)
		if err != nil {
			fail(err)
		}
		return a.Bytes()
	case path != "" && key == "":
		m, err := shmmap.MapFile(path, shmmap.MapShared)
		if err != nil {
			fail(err)
		}
		return m.Bytes()
	}
	fmt.Fprintln(os.Stderr, "ringtest: need exactly one of -k and -f")
	os.Exit(2)
	return nil
}
