package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"time"

	"github.com/shmmap/shmmap"
	"github.com/shmmap/shmmap/ring"
)

// ringMain runs the ring modes, with the same command line as c/stream.c:
//
//	streamer ringsend|ringrecv FD SIZE COUNT        one ring in the memory of FD
//	streamer ringping|ringpong FD SIZE COUNT SPIN   two rings, one each way
//
// FD is a memfd the benchmark formatted with ring.Init (two rings of equal
// size, back to back, for ping/pong). SPIN 1 spins instead of sleeping on
// the futex.
func ringMain(mode string, args []string) {
	if mode == "ringbsend" || mode == "ringbrecv" {
		ringBatchMain(mode, args)
		return
	}
	if mode == "ringwake" {
		ringWakeMain(args)
		return
	}
	if len(args) < 3 {
		fail("usage: streamer ring MODE FD SIZE COUNT [SPIN]")
	}
	fd, size, count := atoi(args[0]), max(atoi(args[1]), 8), atoi(args[2])
	spin := len(args) > 3 && args[3] == "1"
	m, err := shmmap.Map(os.NewFile(uintptr(fd), "ring"), 0, 0, shmmap.MapShared)
	if err != nil {
		fail("streamer: " + err.Error())
	}
	mem := m.Bytes()
	var in, out []byte // the rings this process reads and writes
	switch mode {
	case "ringsend":
		out = mem
	case "ringrecv":
		in = mem
	case "ringping":
		out, in = mem[:len(mem)/2], mem[len(mem)/2:]
	case "ringpong":
		in, out = mem[:len(mem)/2], mem[len(mem)/2:]
	default:
		fail("streamer: unknown mode " + mode)
	}
	var p *ring.Producer
	var c *ring.Consumer
	if out != nil {
		r, err := ring.Attach(out)
		check(err)
		p, err = r.Producer()
		check(err)
		if spin {
			p.SetSpin(1<<30, 0)
		}
	}
	if in != nil {
		r, err := ring.Attach(in)
		check(err)
		c, err = r.Consumer()
		check(err)
		if spin {
			c.SetSpin(1<<30, 0)
		}
	}
	buf := messageBuffer(size)
	// The streaming modes run loops of their own, with nothing in them
	// but the ring call and the sequence number, as c/stream.c's do.
	switch mode {
	case "ringsend":
		for i := range count {
			binary.LittleEndian.PutUint64(buf, uint64(i))
			if err := p.Write(1, buf); err != nil {
				fail("streamer: " + err.Error())
			}
		}
		check(p.Close())
		check(m.Close())
		return
	case "ringrecv":
		var start time.Time
		for i := range count {
			_, n, err := c.Read(buf)
			if err != nil {
				fail("streamer: " + err.Error())
			}
			if seq := binary.LittleEndian.Uint64(buf); n != size || seq != uint64(i) {
				fail(fmt.Sprintf("streamer: message %d has sequence %d, %d bytes", i, seq, n))
			}
			if i == 0 {
				start = time.Now() // timed from the first message, as stream.c
			}
		}
		fmt.Println(time.Since(start).Nanoseconds())
		check(c.Close())
		check(m.Close())
		return
	}
	recv := func(i int) {
		_, n, err := c.Read(buf)
		check(err)
		if seq := binary.LittleEndian.Uint64(buf); n != size || seq != uint64(i) {
			fail(fmt.Sprintf("streamer: message %d has sequence %d, %d bytes", i, seq, n))
		}
	}
	send := func(i int) {
		binary.LittleEndian.PutUint64(buf, uint64(i))
		check(p.Write(1, buf))
	}
	var start time.Time
	for i := range count {
		switch mode {
		case "ringping":
			if i == 0 {
				start = time.Now()
			}
			send(i)
			recv(i)
		case "ringpong":
			recv(i)
			send(i)
		}
	}
	switch mode {
	case "ringping":
		fmt.Printf("%.1f\n", float64(time.Since(start).Nanoseconds())/float64(count))
	}
	if p != nil {
		check(p.Close())
	}
	if c != nil {
		check(c.Close())
	}
	check(m.Close())
}

// ringBatchMain runs the batch modes, with the same command line as
// c/stream.c:
//
//	streamer ringbsend|ringbrecv FD SIZE COUNT BATCH
//
// ringbsend writes the messages with WriteBatch, BATCH at a time;
// ringbrecv reads them with ReadBatch, up to BATCH at a time, and prints
// the nanoseconds from its first message to its last.
func ringBatchMain(mode string, args []string) {
	if len(args) < 4 {
		fail("usage: streamer ringbsend|ringbrecv FD SIZE COUNT BATCH")
	}
	fd, size, count, batch := atoi(args[0]), max(atoi(args[1]), 8), atoi(args[2]), max(atoi(args[3]), 1)
	m, err := shmmap.Map(os.NewFile(uintptr(fd), "ring"), 0, 0, shmmap.MapShared)
	check(err)
	r, err := ring.Attach(m.Bytes())
	check(err)
	ctx := context.Background()
	if mode == "ringbsend" {
		p, err := r.Producer()
		check(err)
		// The batch is made once; each round only numbers its messages.
		msgs := make([]ring.Message, batch)
		for j := range msgs {
			msgs[j] = ring.Message{Type: 1, Data: messageBuffer(size)}
		}
		for i := 0; i < count; {
			m := msgs[:min(batch, count-i)]
			for j := range m {
				binary.LittleEndian.PutUint64(m[j].Data, uint64(i+j))
			}
			if _, err := p.WriteBatch(ctx, m); err != nil {
				fail("streamer: " + err.Error())
			}
			i += len(m)
		}
		check(p.Close())
	} else {
		c, err := r.Consumer()
		check(err)
		var start time.Time
		i := 0
		take := func(typ uint32, msg []byte) error {
			if seq := binary.LittleEndian.Uint64(msg); len(msg) != size || seq != uint64(i) {
				fail(fmt.Sprintf("streamer: message %d has sequence %d, %d bytes", i, seq, len(msg)))
			}
			if i == 0 {
				start = time.Now() // timed from the first message, as ringrecv
			}
			i++
			return nil
		}
		for i < count {
			_, err := c.ReadBatch(ctx, batch, take)
			check(err)
		}
		fmt.Println(time.Since(start).Nanoseconds())
		check(c.Close())
	}
	check(m.Close())
}

func check(err error) {
	if err != nil {
		fail("streamer: " + err.Error())
	}
}
