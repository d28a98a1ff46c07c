package main

import (
	"fmt"
	"io"
	"os"

	"github.com/shmmap/shmmap"
	"github.com/shmmap/shmmap/ring"
)

// ringWakeMain is the echo side of BenchmarkWakeLatency:
//
//	streamer ringwake FD RINGSIZE IDLE
//
// FD is a memfd holding IDLE+2 rings of RINGSIZE bytes each (ring.Size),
// formatted by the benchmark: this process consumes ring 0 and echoes
// every message into ring 1, with spinning off, so that every message
// wakes a futex sleeper on each side; it also takes the producer role of
// rings 2 to IDLE+1 and writes nothing there, as the live peer of the
// benchmark's idle readers. It prints "ready" once it holds every role,
// echoes until the producer of ring 0 closes, then closes its roles (the
// idle readers get io.EOF) and exits.
func ringWakeMain(args []string) {
	if len(args) < 3 {
		fail("usage: streamer ringwake FD RINGSIZE IDLE")
	}
	fd, size, idle := atoi(args[0]), atoi(args[1]), atoi(args[2])
	m, err := shmmap.Map(os.NewFile(uintptr(fd), "rings"), 0, 0, shmmap.MapShared)
	check(err)
	mem := m.Bytes()
	at := func(i int) *ring.Ring {
		r, err := ring.Attach(mem[i*size : (i+1)*size])
		check(err)
		return r
	}
	in, err := at(0).Consumer()
	check(err)
	in.SetSpin(0, 0)
	out, err := at(1).Producer()
	check(err)
	idlers := make([]*ring.Producer, idle)
	for i := range idlers {
		idlers[i], err = at(2 + i).Producer()
		check(err)
	}
	fmt.Println("ready")
	buf := messageBuffer(size)
	for {
		typ, n, err := in.Read(buf)
		if err == io.EOF {
			break
		}
		check(err)
		check(out.Write(typ, buf[:n]))
	}
	for _, p := range idlers {
		check(p.Close())
	}
	check(out.Close())
	check(in.Close())
	check(m.Close())
}
