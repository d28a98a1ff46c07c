package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/shmmap/shmmap"
	"github.com/shmmap/shmmap/ring"
	"golang.org/x/sys/unix"
)

// pingPongSizes are the request/response benchmarks' payload sizes (the
// shape of issue 14: raw payloads, the same size both ways).
var pingPongSizes = []struct {
	Name string
	Size int
}{{"100B", 100}, {"5476B", 5476}, {"87396B", 87396}, {"1398116B", 1398116}}

// pingPongCapacity is the data area of each of a pair's two rings: 2 MiB
// each way, 4 MiB of ring per pair, in one memfd.
const pingPongCapacity = 2 << 20

// BenchmarkPingPong: request/response in one process. Under RunParallel
// each client goroutine has its own server goroutine and its own
// connection; ns/op is the wall time per round trip over all clients (so
// with GOMAXPROCS clients it is a throughput figure, as is the memcpy
// row's):
//
//   - ring-copy: two rings in a memfd; the client Writes the request and
//     Reads the response into its buffer, the server Reads the request
//     into its buffer and Writes it back: four copies per round trip.
//   - ring-zerocopy: the client claims the request's room (ClaimContext),
//     copies its payload in and commits; the server reads it in place
//     (ReadFunc) and copies it straight into the response's claimed room;
//     the client reads the response in place: two copies per round trip.
//   - socket: a Unix-domain stream socket pair per client (net.UnixConn),
//     the request and the response written and read whole (the kernel
//     copies four times).
//   - chan: no shared memory and no futex, the floor of an in-process
//     hand-off: the client copies its request into a buffer and sends it
//     on a channel, the server copies it into a response buffer and sends
//     that back, the client looks at it in place — ring-zerocopy's two
//     copies, with the Go scheduler's own wake-ups.
//   - memcpy: copy() from one buffer to another of the payload size, in
//     the same RunParallel shape: the bound is 2× this row for
//     ring-zerocopy and 4× it for ring-copy. Both buffers are warm in the
//     copying core's cache, as the client's own request and response
//     buffers are in the ring rows; the ring's memory is not (the other
//     side last wrote or read it), so the bound is the optimistic one.
func BenchmarkPingPong(b *testing.B) {
	for _, ps := range pingPongSizes {
		for _, kind := range []string{"ring-copy", "ring-zerocopy", "socket", "chan", "memcpy"} {
			b.Run(fmt.Sprintf("%s/%s", kind, ps.Name), func(b *testing.B) {
				switch kind {
				case "memcpy":
					benchMemcpy(b, ps.Size)
				case "socket":
					runRequests(b, ps.Size, newSocketPair)
				case "chan":
					runRequests(b, ps.Size, func(*testing.B) pingPonger { return newChanPair(ps.Size) })
				default:
					runRequests(b, ps.Size, func(b *testing.B) pingPonger { return newRingPair(b, kind == "ring-zerocopy") })
				}
			})
		}
	}
}

// pingPonger is one client's connection to its server.
type pingPonger interface {
	// serve answers requests until the client hangs up.
	serve(size int) error
	// roundTrip sends req and reads the response into resp.
	roundTrip(req, resp []byte) error
	// hangUp ends the connection: serve returns.
	hangUp()
}

// runRequests runs the round trips with one pair per RunParallel
// goroutine. The pairs are made, their servers started and one round trip
// done on each before the timer starts, so no row counts page faults on
// first touch or goroutine start-up.
func runRequests(b *testing.B, size int, newPair func(*testing.B) pingPonger) {
	n := runtime.GOMAXPROCS(0) // RunParallel's goroutines at parallelism 1
	pairs := make([]pingPonger, n)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range pairs {
		pairs[i] = newPair(b)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- pairs[i].serve(size)
		}()
	}
	req, resp := make([][]byte, n), make([][]byte, n)
	for i := range pairs {
		req[i], resp[i] = payload(size, byte(i)), make([]byte, size)
		mustf(b, pairs[i].roundTrip(req[i], resp[i]), "warm-up round trip")
		if rp, ok := pairs[i].(*ringPair); ok {
			rp.warmSleeps = rp.sleeps()
		}
	}
	var next atomic.Int32
	var failed atomic.Pointer[error]
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := int(next.Add(1)) - 1
		p, q, r := pairs[i], req[i], resp[i]
		for pb.Next() {
			if err := p.roundTrip(q, r); err != nil {
				failed.Store(&err)
				return
			}
		}
	})
	b.StopTimer()
	for _, p := range pairs {
		p.hangUp()
	}
	wg.Wait()
	close(errs)
	if err := failed.Load(); err != nil {
		b.Fatalf("round trip: %v", *err)
	}
	for err := range errs {
		mustf(b, err, "server")
	}
	var sleeps uint64
	for _, p := range pairs {
		if rp, ok := p.(*ringPair); ok {
			sleeps += rp.sleeps() - rp.warmSleeps
		}
	}
	if _, ok := pairs[0].(*ringPair); ok {
		b.ReportMetric(float64(sleeps)/float64(b.N), "sleeps/op")
	}
	for i := range pairs {
		if resp[i][0] != req[i][0] || resp[i][size-1] != req[i][size-1] {
			b.Fatalf("pair %d: the response is not the request", i)
		}
	}
}

// payload returns size bytes starting with tag.
func payload(size int, tag byte) []byte {
	p := make([]byte, size)
	for i := range p {
		p[i] = tag + byte(i)
	}
	return p
}

// benchMemcpy: the copy bound's unit, copy() of size bytes between two
// warm buffers per RunParallel goroutine.
func benchMemcpy(b *testing.B, size int) {
	b.SetBytes(int64(size))
	b.RunParallel(func(pb *testing.PB) {
		src, dst := payload(size, 1), make([]byte, size)
		copy(dst, src)
		for pb.Next() {
			copy(dst, src)
		}
	})
}

// ringPair: a request ring and a response ring, both in one memfd
// mapping.
type ringPair struct {
	zeroCopy bool
	reqP     *ring.Producer // client side
	respC    *ring.Consumer
	reqC     *ring.Consumer // server side
	respP    *ring.Producer
	// warmSleeps is sleeps() after the warm-up.
	warmSleeps uint64
}

// sleeps counts the sleeps of all four ends — in-process, parks in the
// ring's lot, each woken by a channel hand-off rather than FUTEX_WAKE: the
// ring rows report them per round trip (sleeps/op), a count the machine's
// noise does not blur.
func (p *ringPair) sleeps() uint64 {
	return p.reqP.Stats().Sleeps + p.reqC.Stats().Sleeps + p.respP.Stats().Sleeps + p.respC.Stats().Sleeps
}

func newRingPair(b *testing.B, zeroCopy bool) pingPonger {
	size := ring.Size(pingPongCapacity)
	f, err := shmmap.Memfd("bench-pingpong", int64(2*size))
	mustf(b, err, "memfd")
	m, err := shmmap.Map(f, 0, 2*size, shmmap.MapShared)
	f.Close()
	mustf(b, err, "map")
	b.Cleanup(func() { m.Close() })
	reqRing, err := ring.Init(m.Bytes()[:size])
	mustf(b, err, "ring.Init")
	respRing, err := ring.Init(m.Bytes()[size:])
	mustf(b, err, "ring.Init")
	p := &ringPair{zeroCopy: zeroCopy}
	p.reqP, err = reqRing.Producer()
	mustf(b, err, "Producer")
	p.reqC, err = reqRing.Consumer()
	mustf(b, err, "Consumer")
	p.respP, err = respRing.Producer()
	mustf(b, err, "Producer")
	p.respC, err = respRing.Consumer()
	mustf(b, err, "Consumer")
	b.Cleanup(func() {
		p.reqP.Close()
		p.reqC.Close()
		p.respP.Close()
		p.respC.Close()
	})
	return p
}

func (p *ringPair) serve(size int) error {
	ctx := context.Background()
	defer p.respP.Close()
	if p.zeroCopy {
		for {
			err := p.reqC.ReadFunc(ctx, func(typ uint32, msg []byte) error {
				out, err := p.respP.ClaimContext(ctx, typ, len(msg))
				if err != nil {
					return err
				}
				ring.Copy(out, msg)
				return p.respP.Commit()
			})
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
		}
	}
	buf := make([]byte, size)
	for {
		typ, n, err := p.reqC.ReadContext(ctx, buf)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := p.respP.WriteContext(ctx, typ, buf[:n]); err != nil {
			return err
		}
	}
}

func (p *ringPair) roundTrip(req, resp []byte) error {
	ctx := context.Background()
	if !p.zeroCopy {
		if err := p.reqP.WriteContext(ctx, 1, req); err != nil {
			return err
		}
		_, n, err := p.respC.ReadContext(ctx, resp)
		if err == nil && n != len(req) {
			err = fmt.Errorf("a %d-byte response to a %d-byte request", n, len(req))
		}
		return err
	}
	b, err := p.reqP.ClaimContext(ctx, 1, len(req))
	if err != nil {
		return err
	}
	ring.Copy(b, req)
	if err := p.reqP.Commit(); err != nil {
		return err
	}
	return p.respC.ReadFunc(ctx, func(_ uint32, msg []byte) error {
		if len(msg) != len(req) {
			return fmt.Errorf("a %d-byte response to a %d-byte request", len(msg), len(req))
		}
		// Look at the response as a server's caller would, without a copy.
		resp[0], resp[len(resp)-1] = msg[0], msg[len(msg)-1]
		return nil
	})
}

func (p *ringPair) hangUp() { p.reqP.Close() }

// socketPair: a connected Unix-domain stream socket pair.
type socketPair struct{ client, server net.Conn }

func newSocketPair(b *testing.B) pingPonger {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	mustf(b, err, "socketpair")
	var conns [2]net.Conn
	for i, fd := range fds {
		f := os.NewFile(uintptr(fd), "pingpong")
		conns[i], err = net.FileConn(f) // a dup, non-blocking, in the netpoller
		f.Close()
		mustf(b, err, "FileConn")
	}
	p := &socketPair{client: conns[0], server: conns[1]}
	b.Cleanup(func() { p.client.Close(); p.server.Close() })
	return p
}

func (p *socketPair) serve(size int) error {
	buf := make([]byte, size)
	for {
		if _, err := io.ReadFull(p.server, buf); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		if _, err := p.server.Write(buf); err != nil {
			return err
		}
	}
}

func (p *socketPair) roundTrip(req, resp []byte) error {
	if _, err := p.client.Write(req); err != nil {
		return err
	}
	_, err := io.ReadFull(p.client, resp)
	return err
}

func (p *socketPair) hangUp() { p.client.(*net.UnixConn).CloseWrite() }

// chanPair: two unbuffered channels and a buffer each way.
type chanPair struct {
	req, resp       chan []byte
	reqBuf, respBuf []byte
}

func newChanPair(size int) pingPonger {
	return &chanPair{req: make(chan []byte), resp: make(chan []byte), reqBuf: make([]byte, size), respBuf: make([]byte, size)}
}

func (p *chanPair) serve(int) error {
	for m := range p.req {
		n := copy(p.respBuf, m)
		p.resp <- p.respBuf[:n]
	}
	return nil
}

func (p *chanPair) roundTrip(req, resp []byte) error {
	copy(p.reqBuf, req)
	p.req <- p.reqBuf[:len(req)]
	m := <-p.resp
	if len(m) != len(req) {
		return fmt.Errorf("a %d-byte response to a %d-byte request", len(m), len(req))
	}
	resp[0], resp[len(resp)-1] = m[0], m[len(m)-1]
	return nil
}

func (p *chanPair) hangUp() { close(p.req) }
