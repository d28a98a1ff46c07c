package ring_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/shmmap/shmmap/ring"
	"github.com/shmmap/shmmap/ring/internal/ringmsg"
	"golang.org/x/sys/unix"
)

// Header offsets the tests poke at (see LAYOUT.md).
const (
	offMagic       = 0x000
	offVersion     = 0x004
	offHeaderLen   = 0x008
	offCapacity    = 0x00C
	offMaxMsg      = 0x010
	offProducerPID = 0x040
	offConsumerPID = 0x044
	offTail        = 0x080
	offHead        = 0x100
)

var ne = binary.NativeEndian

// newRing formats a fresh ring of the given capacity in heap memory (8-byte
// aligned, as every Go allocation of this size is) and takes both roles.
func newRing(t testing.TB, capacity int) ([]byte, *ring.Ring, *ring.Producer, *ring.Consumer) {
	t.Helper()
	mem := make([]byte, ring.Size(capacity))
	r, err := ring.Init(mem)
	if err != nil {
		t.Fatal(err)
	}
	if r.Capacity() != capacity {
		t.Fatalf("capacity %d, want %d", r.Capacity(), capacity)
	}
	p, err := r.Producer()
	if err != nil {
		t.Fatal(err)
	}
	c, err := r.Consumer()
	if err != nil {
		t.Fatal(err)
	}
	return mem, r, p, c
}

// initConsumer formats mem as a ring and returns its Consumer, with no
// Producer yet. The caller closes it, before mem goes.
func initConsumer(t testing.TB, mem []byte) *ring.Consumer {
	t.Helper()
	r, err := ring.Init(mem)
	if err != nil {
		t.Fatal(err)
	}
	c, err := r.Consumer()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mustWrite(t testing.TB, p *ring.Producer, typ uint32, msg []byte) {
	t.Helper()
	if err := p.TryWrite(typ, msg); err != nil {
		t.Fatalf("TryWrite(%d, %d bytes): %v", typ, len(msg), err)
	}
}

func mustRead(t testing.TB, c *ring.Consumer, typ uint32, msg []byte) {
	t.Helper()
	buf := make([]byte, 1<<16)
	gt, n, err := c.TryRead(buf)
	if err != nil {
		t.Fatalf("TryRead: %v", err)
	}
	if gt != typ || !bytes.Equal(buf[:n], msg) {
		t.Fatalf("read type %d %q, want type %d %q", gt, buf[:n], typ, msg)
	}
}

func payload(n int, b byte) []byte { return bytes.Repeat([]byte{b}, n) }

func TestCapacityFor(t *testing.T) {
	for _, tc := range []struct{ n, want int }{
		{0, 0}, {ring.HeaderSize + 63, 0}, {ring.HeaderSize + 64, 64}, {ring.HeaderSize + 127, 64},
		{4096, 2048}, {ring.Size(1 << 20), 1 << 20}, {ring.Size(1<<20) + 1000, 1 << 20},
	} {
		if got := ring.CapacityFor(tc.n); got != tc.want {
			t.Errorf("CapacityFor(%d) = %d, want %d", tc.n, got, tc.want)
		}
	}
}

func TestInitAttach(t *testing.T) {
	mem := make([]byte, 4096)
	r, err := ring.Init(mem)
	if err != nil {
		t.Fatal(err)
	}
	if r.Capacity() != 2048 || r.MaxMessage() != 2040 || r.Len() != 0 {
		t.Fatalf("capacity %d max %d len %d", r.Capacity(), r.MaxMessage(), r.Len())
	}
	want := map[int]uint32{offMagic: ring.Magic, offVersion: ring.Version, offHeaderLen: ring.HeaderSize, offCapacity: 2048, offMaxMsg: 2040}
	for off, v := range want {
		if got := ne.Uint32(mem[off:]); got != v {
			t.Errorf("header word at %#x = %d, want %d", off, got, v)
		}
	}
	if string(mem[:4]) != "SRNG" && ne.Uint32([]byte{1, 0, 0, 0}) == 1 {
		t.Errorf("magic bytes %q, want SRNG", mem[:4])
	}
	p, _ := r.Producer()
	mustWrite(t, p, 7, []byte("hello"))
	r2, err := ring.Attach(mem)
	if err != nil {
		t.Fatal(err)
	}
	if r2.Capacity() != 2048 || r2.Len() != 16 {
		t.Fatalf("attached: capacity %d len %d", r2.Capacity(), r2.Len())
	}
	c, err := r2.Consumer()
	if err != nil {
		t.Fatal(err)
	}
	mustRead(t, c, 7, []byte("hello"))
}

func TestInitErrors(t *testing.T) {
	for name, mem := range map[string][]byte{
		"empty":      nil,
		"small":      make([]byte, ring.Size(ring.MinCapacity)-1),
		"misaligned": make([]byte, 4096)[4:],
	} {
		if _, err := ring.Init(mem); !errors.Is(err, ring.ErrInvalid) {
			t.Errorf("%s: Init error %v, want ErrInvalid", name, err)
		}
	}
}

// TestAttachErrors: every way the header can be wrong gives a clear error,
// never a crash.
func TestAttachErrors(t *testing.T) {
	put32 := func(off int, v uint32) func([]byte) { return func(m []byte) { ne.PutUint32(m[off:], v) } }
	put64 := func(off int, v uint64) func([]byte) { return func(m []byte) { ne.PutUint64(m[off:], v) } }
	for _, tc := range []struct {
		name   string
		mutate func([]byte)
		want   error
		text   string
	}{
		{"zero", func(m []byte) { clear(m) }, ring.ErrNotReady, "not initialised"},
		{"magic", put32(offMagic, 0x12345678), ring.ErrCorrupt, "bad magic"},
		{"version", put32(offVersion, 2), ring.ErrCorrupt, "version 2"},
		{"header size", put32(offHeaderLen, 256), ring.ErrCorrupt, "header size"},
		{"capacity not a power of two", put32(offCapacity, 1000), ring.ErrCorrupt, "power of two"},
		{"capacity too small", put32(offCapacity, 32), ring.ErrCorrupt, "power of two"},
		{"capacity zero", put32(offCapacity, 0), ring.ErrCorrupt, "power of two"},
		{"capacity past the memory", put32(offCapacity, 8192), ring.ErrCorrupt, "needs"},
		{"capacity huge", put32(offCapacity, 1<<31), ring.ErrCorrupt, "power of two"},
		{"max message", put32(offMaxMsg, 4096), ring.ErrCorrupt, "max message"},
		{"tail past head+capacity", put64(offTail, 4096), ring.ErrCorrupt, "inconsistent"},
		{"head past tail", put64(offHead, 64), ring.ErrCorrupt, "inconsistent"},
		{"tail unaligned", put64(offTail, 5), ring.ErrCorrupt, "inconsistent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := make([]byte, ring.Size(2048))
			if _, err := ring.Init(mem); err != nil {
				t.Fatal(err)
			}
			tc.mutate(mem)
			r, err := ring.Attach(mem)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) || r != nil {
				t.Fatalf("Attach = %v, %v; want an error wrapping %v saying %q", r, err, tc.want, tc.text)
			}
		})
	}
	mem := make([]byte, ring.Size(2048))
	ring.Init(mem)
	if _, err := ring.Attach(mem[:100]); !errors.Is(err, ring.ErrCorrupt) {
		t.Errorf("short memory: %v", err)
	}
	if _, err := ring.Attach(mem[:ring.Size(1024)]); !errors.Is(err, ring.ErrCorrupt) {
		t.Errorf("memory shorter than the capacity: %v", err)
	}
	if _, err := ring.Attach(make([]byte, 4096)[4:]); !errors.Is(err, ring.ErrInvalid) {
		t.Errorf("misaligned memory: %v", err)
	}
}

func TestEmptyAndFull(t *testing.T) {
	_, r, p, c := newRing(t, 256)
	if _, _, err := c.TryRead(nil); err != ring.ErrEmpty {
		t.Fatalf("TryRead on an empty ring: %v", err)
	}
	// 20-byte messages are 32-byte records: 8 fill 256 bytes.
	for i := range 8 {
		mustWrite(t, p, uint32(i), payload(20, byte(i)))
	}
	if r.Len() != 256 {
		t.Fatalf("Len %d, want 256", r.Len())
	}
	if err := p.TryWrite(9, nil); !errors.Is(err, ring.ErrFull) {
		t.Fatalf("TryWrite on a full ring: %v", err)
	}
	mustRead(t, c, 0, payload(20, 0))
	if err := p.TryWrite(9, payload(25, 9)); !errors.Is(err, ring.ErrFull) {
		t.Fatalf("a 40-byte record in 32 free bytes: %v", err)
	}
	mustWrite(t, p, 8, payload(24, 8)) // 32 bytes: fits exactly, wraps to offset 0
	for i := 1; i < 8; i++ {
		mustRead(t, c, uint32(i), payload(20, byte(i)))
	}
	mustRead(t, c, 8, payload(24, 8))
	if _, _, err := c.TryRead(nil); err != ring.ErrEmpty {
		t.Fatalf("TryRead after draining: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, _, err := c.ReadContext(ctx, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ReadContext on an empty ring: %v", err)
	}
	for i := range 8 {
		mustWrite(t, p, uint32(i), payload(20, byte(i)))
	}
	if err := p.WriteContext(ctx, 1, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WriteContext on a full ring: %v", err)
	}
}

// TestWrapAroundPadding: a record that does not fit before the end leaves a
// padding record there and starts at offset 0.
func TestWrapAroundPadding(t *testing.T) {
	mem, r, p, c := newRing(t, 128)
	data := mem[ring.HeaderSize:]
	mustWrite(t, p, 1, payload(40, 'a')) // 48 bytes at 0
	mustWrite(t, p, 2, payload(40, 'b')) // 48 bytes at 48
	mustRead(t, c, 1, payload(40, 'a'))
	// 32 bytes remain before the end (96..128); a 48-byte record needs padding.
	mustWrite(t, p, 3, payload(33, 'c')) // 41 bytes, aligned 48, at 0
	if l, typ := ne.Uint32(data[96:]), ne.Uint32(data[100:]); l != 32 || typ != ring.PaddingType {
		t.Fatalf("at offset 96: length %d type %#x, want a 32-byte padding record", l, typ)
	}
	if l, typ := ne.Uint32(data[0:]), ne.Uint32(data[4:]); l != 41 || typ != 3 {
		t.Fatalf("at offset 0: length %d type %d, want 41, 3", l, typ)
	}
	if tail := ne.Uint64(mem[offTail:]); tail != 96+32+48 {
		t.Fatalf("producer position %d, want 176", tail)
	}
	mustRead(t, c, 2, payload(40, 'b'))
	mustRead(t, c, 3, payload(33, 'c')) // skips the padding
	if head := ne.Uint64(mem[offHead:]); head != 176 {
		t.Fatalf("consumer position %d, want 176", head)
	}
	// Many laps of odd sizes, each checked.
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 10000 {
		msg := payload(rng.IntN(r.MaxMessage()+1), byte(i))
		if err := p.TryWrite(uint32(i), msg); errors.Is(err, ring.ErrFull) {
			// The padding went in; the record needs it consumed first.
			if _, _, err := c.TryRead(nil); err != ring.ErrEmpty {
				t.Fatalf("skipping the padding: %v", err)
			}
			mustWrite(t, p, uint32(i), msg)
		} else if err != nil {
			t.Fatal(err)
		}
		mustRead(t, c, uint32(i), msg)
	}
}

// TestMaxMessage: a message of MaxMessage bytes takes the whole ring; from
// a position other than 0 it first needs the padding to drain.
func TestMaxMessage(t *testing.T) {
	_, r, p, c := newRing(t, 256)
	max := r.MaxMessage()
	if max != 248 {
		t.Fatalf("MaxMessage %d", max)
	}
	if err := p.TryWrite(1, make([]byte, max+1)); !errors.Is(err, ring.ErrTooLarge) {
		t.Fatalf("MaxMessage+1: %v", err)
	}
	big := payload(max, 'M')
	mustWrite(t, p, 1, big)
	if err := p.TryWrite(2, nil); !errors.Is(err, ring.ErrFull) {
		t.Fatalf("after a ring-sized record: %v", err)
	}
	mustRead(t, c, 1, big)
	mustWrite(t, p, 2, []byte("x"))
	mustRead(t, c, 2, []byte("x"))
	// The producer is at offset 16 now: the padding goes in, the record waits.
	if err := p.TryWrite(3, big); !errors.Is(err, ring.ErrFull) {
		t.Fatalf("ring-sized record at offset 16: %v", err)
	}
	if _, _, err := c.TryRead(nil); err != ring.ErrEmpty {
		t.Fatalf("after skipping the padding: %v", err)
	}
	mustWrite(t, p, 3, big)
	mustRead(t, c, 3, big)
	// The blocking path: a reader in another goroutine drains the ring for
	// each ring-sized message, with zero-length messages shifting the
	// producer's offset so that most of them need padding first.
	done := make(chan error, 1)
	go func() {
		buf := make([]byte, max)
		for i := 0; i < 100; {
			typ, n, err := c.Read(buf)
			switch {
			case err != nil:
			case typ == 9999 && n == 0:
				continue
			case typ != uint32(i) || n != max || !bytes.Equal(buf, big):
				err = fmt.Errorf("message %d: type %d, %d bytes", i, typ, n)
			}
			if err != nil {
				done <- err
				return
			}
			i++
		}
		done <- nil
	}()
	for i := range 100 {
		if i%3 != 0 {
			if err := p.Write(9999, nil); err != nil {
				t.Fatal(err)
			}
		}
		if err := p.Write(uint32(i), big); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		t.Fatalf("reader: %v", err)
	}
}

// TestExactFill: records that exactly fill the ring, lap after lap, never
// need padding.
func TestExactFill(t *testing.T) {
	mem, r, p, c := newRing(t, 1024)
	for lap := range 5 {
		for i := range 16 { // 16 records of 64 bytes
			mustWrite(t, p, uint32(i), payload(56, byte(lap)))
		}
		if r.Len() != 1024 {
			t.Fatalf("lap %d: Len %d", lap, r.Len())
		}
		if err := p.TryWrite(0, nil); !errors.Is(err, ring.ErrFull) {
			t.Fatalf("lap %d: %v", lap, err)
		}
		for i := range 16 {
			mustRead(t, c, uint32(i), payload(56, byte(lap)))
		}
	}
	for off := 0; off < 1024; off += 64 {
		if typ := ne.Uint32(mem[ring.HeaderSize+off+4:]); typ == ring.PaddingType {
			t.Fatalf("padding at %d", off)
		}
	}
}

func TestShortBuffer(t *testing.T) {
	_, _, p, c := newRing(t, 256)
	mustWrite(t, p, 5, []byte("0123456789"))
	typ, n, err := c.TryRead(make([]byte, 4))
	if !errors.Is(err, io.ErrShortBuffer) || n != 10 || typ != 5 {
		t.Fatalf("TryRead into 4 bytes: %d %d %v", typ, n, err)
	}
	mustRead(t, c, 5, []byte("0123456789")) // still there
	mustWrite(t, p, 6, nil)
	mustRead(t, c, 6, nil)
}

func TestClaimCommit(t *testing.T) {
	_, _, p, c := newRing(t, 256)
	b, err := p.TryClaim(4, 5)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.TryClaim(4, 5); !errors.Is(err, ring.ErrInvalid) {
		t.Fatalf("second claim: %v", err)
	}
	if _, _, err := c.TryRead(nil); err != ring.ErrEmpty {
		t.Fatalf("claimed but not committed: %v", err)
	}
	copy(b, "hello")
	if err := p.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := p.Commit(); !errors.Is(err, ring.ErrInvalid) {
		t.Fatalf("second commit: %v", err)
	}
	b, _ = p.TryClaim(4, 5)
	copy(b, "lost!")
	p.Abort()
	mustWrite(t, p, 5, []byte("world"))
	mustRead(t, c, 4, []byte("hello"))
	mustRead(t, c, 5, []byte("world"))
	if err := p.TryWrite(ring.PaddingType, nil); !errors.Is(err, ring.ErrInvalid) {
		t.Fatalf("padding type: %v", err)
	}
	var got []string
	mustWrite(t, p, 1, []byte("zero-copy"))
	if err := c.TryReadFunc(func(typ uint32, msg []byte) error { got = append(got, string(msg)); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != "zero-copy" {
		t.Fatalf("TryReadFunc saw %q", got)
	}
	keep := errors.New("not now")
	mustWrite(t, p, 2, []byte("again"))
	if err := c.TryReadFunc(func(uint32, []byte) error { return keep }); err != keep {
		t.Fatalf("TryReadFunc: %v", err)
	}
	mustRead(t, c, 2, []byte("again"))
}

// TestCorruptRecords: record headers and positions that do not fit the ring
// give ErrCorrupt from every read and write path, never a panic or a hang.
func TestCorruptRecords(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(mem, data []byte)
	}{
		{"length zero", func(_, d []byte) { ne.PutUint32(d, 0) }},
		{"length below the header", func(_, d []byte) { ne.PutUint32(d, 7) }},
		{"length past the end", func(_, d []byte) { ne.PutUint32(d, 300) }},
		{"length past the producer", func(_, d []byte) { ne.PutUint32(d, 100) }},
		{"length huge", func(_, d []byte) { ne.PutUint32(d, 0xFFFFFFF0) }},
		{"padding at 0", func(_, d []byte) { ne.PutUint32(d, 256); ne.PutUint32(d[4:], ring.PaddingType) }},
		{"padding short", func(_, d []byte) { ne.PutUint32(d, 16); ne.PutUint32(d[4:], ring.PaddingType) }},
		{"tail past capacity", func(m, _ []byte) { ne.PutUint64(m[offTail:], 1024) }},
		{"tail behind head", func(m, _ []byte) { ne.PutUint64(m[offTail:], 1<<63) }},
		{"tail unaligned", func(m, _ []byte) { ne.PutUint64(m[offTail:], 13) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem, _, p, c := newRing(t, 256)
			mustWrite(t, p, 1, payload(20, 1)) // 32 bytes at 0
			mustWrite(t, p, 2, payload(20, 2)) // 32 bytes at 32
			tc.mutate(mem, mem[ring.HeaderSize:])
			if _, _, err := c.TryRead(make([]byte, 1024)); !errors.Is(err, ring.ErrCorrupt) {
				t.Fatalf("TryRead: %v", err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, _, err := c.ReadContext(ctx, make([]byte, 1024)); !errors.Is(err, ring.ErrCorrupt) {
				t.Fatalf("ReadContext: %v", err)
			}
			t.Log(c.TryReadFunc(func(uint32, []byte) error { return nil }))
		})
	}
	// The producer checks the consumer's position before trusting it.
	mem, _, p, _ := newRing(t, 256)
	for range 8 {
		mustWrite(t, p, 1, payload(20, 1))
	}
	ne.PutUint64(mem[offHead:], 1<<40)
	if err := p.TryWrite(1, nil); !errors.Is(err, ring.ErrCorrupt) {
		t.Fatalf("producer with a corrupt consumer position: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.WriteContext(ctx, 1, nil); !errors.Is(err, ring.ErrCorrupt) {
		t.Fatalf("WriteContext with a corrupt consumer position: %v", err)
	}
}

// TestRandomCorruption scribbles over the header and the data at random
// while a producer and a consumer keep going: every call returns (an error
// or not) and nothing panics.
func TestRandomCorruption(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	buf := make([]byte, 1<<12)
	for round := range 2000 {
		mem, _, p, c := newRing(t, 256)
		for i := range 20 {
			p.TryWrite(uint32(i), payload(rng.IntN(60), byte(i)))
			if i%3 == 0 {
				c.TryRead(buf)
			}
		}
		for range 1 + rng.IntN(4) {
			off := rng.IntN(len(mem))
			if round%2 == 0 { // aim at the words that matter
				offs := []int{offTail, offHead, offTail + 4, ring.HeaderSize + 8*rng.IntN(32)}
				off = offs[rng.IntN(len(offs))]
			}
			mem[off] = byte(rng.Uint32())
		}
		for range 40 {
			p.TryWrite(1, payload(rng.IntN(300), 1))
			c.TryRead(buf)
		}
		ring.Attach(mem)
	}
}

func TestRoles(t *testing.T) {
	mem, r, p, c := newRing(t, 256)
	if _, err := r.Producer(); !errors.Is(err, ring.ErrInUse) {
		t.Fatalf("second producer: %v", err)
	}
	if _, err := r.Consumer(); !errors.Is(err, ring.ErrInUse) {
		t.Fatalf("second consumer: %v", err)
	}
	if got := ne.Uint32(mem[offProducerPID:]); got != uint32(unix.Getpid()) {
		t.Fatalf("producer pid word %d, want %d", got, unix.Getpid())
	}
	mustWrite(t, p, 1, []byte("before close"))
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != ring.ErrClosed {
		t.Fatalf("second Close: %v", err)
	}
	if err := p.TryWrite(1, nil); err != ring.ErrClosed {
		t.Fatalf("write after Close: %v", err)
	}
	mustRead(t, c, 1, []byte("before close"))
	if _, _, err := c.TryRead(nil); err != io.EOF {
		t.Fatalf("read after the producer closed: %v", err)
	}
	if _, _, err := c.Read(nil); err != io.EOF {
		t.Fatalf("blocking read after the producer closed: %v", err)
	}
	// A closed role can be taken again.
	p2, err := r.Producer()
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, p2, 2, []byte("second producer"))
	mustRead(t, c, 2, []byte("second producer"))
	c.Close()
	if _, _, err := c.TryRead(nil); err != ring.ErrClosed {
		t.Fatalf("read after Close: %v", err)
	}
	if err := p2.TryWrite(3, nil); !errors.Is(err, ring.ErrClosed) {
		t.Fatalf("write after the consumer closed: %v", err)
	}
	// A role held by a dead process is free.
	ne.PutUint32(mem[offConsumerPID:], uint32(deadPID(t)))
	if _, err := r.Consumer(); err != nil {
		t.Fatalf("taking over from a dead consumer: %v", err)
	}
}

// deadPID returns the pid of a process that has exited and been reaped.
func deadPID(t *testing.T) int {
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

// zombie returns the pid of a child that has exited but is not reaped yet;
// the cleanup reaps it.
func zombie(t *testing.T) int {
	cmd := exec.Command("true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Wait() })
	var info unix.Siginfo
	// Wait for the exit without reaping (WNOWAIT): no sleep, no race.
	if err := unix.Waitid(unix.P_PID, cmd.Process.Pid, &info, unix.WEXITED|unix.WNOWAIT, nil); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

// TestPeerDeadInProcess: a blocked reader or writer whose peer's pid names a
// dead process (reaped, or a zombie) returns ErrPeerDead, after delivering
// what the peer published.
func TestPeerDeadInProcess(t *testing.T) {
	for _, kind := range []string{"reaped", "zombie"} {
		t.Run(kind, func(t *testing.T) {
			pid := deadPID(t)
			if kind == "zombie" {
				pid = zombie(t)
			}
			mem, _, p, c := newRing(t, 256)
			c.SetPeerCheck(5 * time.Millisecond)
			p.SetPeerCheck(5 * time.Millisecond)
			mustWrite(t, p, 1, []byte("last words"))
			ne.PutUint32(mem[offProducerPID:], uint32(pid))
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			buf := make([]byte, 64)
			if _, n, err := c.ReadContext(ctx, buf); err != nil || string(buf[:n]) != "last words" {
				t.Fatalf("read %q, %v", buf[:n], err)
			}
			_, _, err := c.ReadContext(ctx, buf)
			if !errors.Is(err, ring.ErrPeerDead) || !strings.Contains(err.Error(), fmt.Sprint(pid)) {
				t.Fatalf("reader: %v, want ErrPeerDead naming pid %d", err, pid)
			}
			t.Log(err)
			// With peer checks off only the context ends the wait.
			c.SetPeerCheck(-1)
			short, cancelShort := context.WithTimeout(ctx, 30*time.Millisecond)
			defer cancelShort()
			if _, _, err := c.ReadContext(short, buf); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("reader with peer checks off: %v", err)
			}
			for p.TryWrite(1, nil) == nil {
			}
			ne.PutUint32(mem[offConsumerPID:], uint32(pid))
			if err := p.WriteContext(ctx, 1, nil); !errors.Is(err, ring.ErrPeerDead) {
				t.Fatalf("writer: %v, want ErrPeerDead", err)
			}
		})
	}
}

// asleep waits (yielding, not sleeping) until a blocked call has gone to
// sleep on its futex, so that what the test does next has to wake it.
func asleep(t *testing.T, stats func() ring.Stats) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for stats().Sleeps == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the call never went to sleep")
		}
		runtime.Gosched()
	}
}

// woken returns what the woken call returned, failing the test if nothing
// woke it within 30 seconds.
func woken(t *testing.T, errc <-chan error) error {
	t.Helper()
	select {
	case err := <-errc:
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("the sleeping call was not woken")
		return nil
	}
}

// quiet makes a side sleep at once and never wake for a peer check, so only
// a wake from the other side (or Close, or a cancel) can end its sleep.
func quiet(s interface {
	SetSpin(int, int)
	SetPeerCheck(time.Duration)
}) {
	s.SetSpin(0, 0)
	s.SetPeerCheck(time.Hour)
}

// TestCloseWakes: Close wakes a reader asleep on the futex (io.EOF when the
// producer closes, ErrClosed when the reader's own side does) and a writer
// asleep on a full ring (ErrClosed when either side closes); a Close that
// interrupts a call releases the role once that call has returned.
func TestCloseWakes(t *testing.T) {
	errc := make(chan error, 1)

	_, _, p, c := newRing(t, 256)
	quiet(c)
	go func() { _, _, err := c.Read(nil); errc <- err }()
	asleep(t, c.Stats)
	p.Close()
	if err := woken(t, errc); err != io.EOF {
		t.Fatalf("reader woken by the producer's Close: %v", err)
	}

	_, r, _, c := newRing(t, 256)
	quiet(c)
	go func() { _, _, err := c.Read(nil); errc <- err }()
	asleep(t, c.Stats)
	c.Close()
	// Close returned after the interrupted Read released the role.
	if _, err := r.Consumer(); err != nil {
		t.Fatalf("the consumer role after Close interrupted a Read: %v", err)
	}
	if err := woken(t, errc); err != ring.ErrClosed {
		t.Fatalf("reader woken by its own Close: %v", err)
	}

	_, _, p, c = newRing(t, 256)
	quiet(p)
	for p.TryWrite(1, nil) == nil {
	}
	go func() { errc <- p.Write(1, nil) }()
	asleep(t, p.Stats)
	c.Close()
	if err := woken(t, errc); !errors.Is(err, ring.ErrClosed) {
		t.Fatalf("writer woken by the consumer's Close: %v", err)
	}

	_, r, p, _ = newRing(t, 256)
	quiet(p)
	for p.TryWrite(1, nil) == nil {
	}
	go func() { errc <- p.Write(1, nil) }()
	asleep(t, p.Stats)
	p.Close()
	if _, err := r.Producer(); err != nil {
		t.Fatalf("the producer role after Close interrupted a Write: %v", err)
	}
	if err := woken(t, errc); err != ring.ErrClosed {
		t.Fatalf("writer woken by its own Close: %v", err)
	}
}

// TestCloseInsideCallback: Close from a ReadFunc callback does not wait for
// the ReadFunc it is inside (which would deadlock): the message is
// consumed and the role is released when ReadFunc returns.
func TestCloseInsideCallback(t *testing.T) {
	_, r, p, c := newRing(t, 256)
	if err := p.TryWrite(1, []byte("x")); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		done <- c.TryReadFunc(func(uint32, []byte) error { return c.Close() })
	}()
	if err := woken(t, done); err != nil {
		t.Fatalf("TryReadFunc whose callback closed: %v", err)
	}
	if _, err := r.Consumer(); err != nil {
		t.Fatalf("the consumer role after the callback's Close: %v", err)
	}
}

// TestCommitAfterClose: a claim dropped by Close cannot be committed, and
// the role is free at once for a new producer.
func TestCommitAfterClose(t *testing.T) {
	_, r, p, c := newRing(t, 256)
	b, err := p.TryClaim(1, 4)
	if err != nil {
		t.Fatal(err)
	}
	copy(b, "gone")
	p.Close()
	if err := p.Commit(); err != ring.ErrClosed {
		t.Fatalf("Commit after Close: %v", err)
	}
	p.Abort() // a no-op after Close
	if _, err := r.Producer(); err != nil {
		t.Fatalf("the producer role after Close with a claim: %v", err)
	}
	if _, _, err := c.TryRead(make([]byte, 8)); err != ring.ErrEmpty {
		t.Fatalf("the consumer after an uncommitted claim: %v, want ErrEmpty", err)
	}
}

// TestConcurrentCalls: a second call while one is in progress is refused
// (ErrInvalid), not interleaved with it.
func TestConcurrentCalls(t *testing.T) {
	_, _, _, c := newRing(t, 256)
	quiet(c)
	errc := make(chan error, 1)
	go func() { _, _, err := c.Read(nil); errc <- err }()
	asleep(t, c.Stats)
	if _, _, err := c.TryRead(nil); !errors.Is(err, ring.ErrInvalid) {
		t.Fatalf("TryRead during a Read: %v, want ErrInvalid", err)
	}
	c.Close()
	if err := woken(t, errc); err != ring.ErrClosed {
		t.Fatalf("Read: %v", err)
	}
	if _, _, err := c.TryRead(nil); err != ring.ErrClosed {
		t.Fatalf("TryRead after Close: %v", err)
	}
}

// TestReadFuncCallbackError: an error from ReadFunc's callback comes back
// as it is, even ErrEmpty, which must not be taken for an empty ring.
func TestReadFuncCallbackError(t *testing.T) {
	_, _, p, c := newRing(t, 256)
	if err := p.TryWrite(1, []byte("x")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, want := range []error{ring.ErrEmpty, io.ErrUnexpectedEOF} {
		if err := c.ReadFunc(ctx, func(uint32, []byte) error { return want }); err != want {
			t.Fatalf("ReadFunc with a callback returning %v: %v", want, err)
		}
	}
	if _, n, err := c.TryRead(make([]byte, 8)); err != nil || n != 1 {
		t.Fatalf("the message after the callback refused it: n=%d, %v", n, err)
	}
}

// TestCancelWakes: cancelling the context wakes a reader asleep on the
// futex at once (not at its next peer check, an hour away).
func TestCancelWakes(t *testing.T) {
	_, _, _, c := newRing(t, 256)
	quiet(c)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { _, _, err := c.ReadContext(ctx, nil); errc <- err }()
	asleep(t, c.Stats)
	cancel()
	select {
	case err := <-errc:
		if err != context.Canceled {
			t.Fatalf("ReadContext: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("cancel did not wake the reader")
	}
}

// TestAttachContextWaits: AttachContext sleeps until Init runs elsewhere.
func TestAttachContextWaits(t *testing.T) {
	mem := make([]byte, ring.Size(1024))
	got := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		r, err := ring.AttachContext(ctx, mem)
		if err == nil && r.Capacity() != 1024 {
			err = fmt.Errorf("capacity %d", r.Capacity())
		}
		got <- err
	}()
	if _, err := ring.Init(mem); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := ring.AttachContext(ctx, make([]byte, 4096)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("AttachContext on memory no one initialises: %v", err)
	}
}

// TestStreamGoroutines streams checked messages of mixed sizes between two
// goroutines (the race detector watches the ordering), with the default
// spinning and with none.
func TestStreamGoroutines(t *testing.T) {
	n := uint64(200000)
	if raceEnabled {
		n = 50000
	}
	for _, tc := range []struct {
		name     string
		capacity int
		spin     bool
	}{{"64KiB", 1 << 16, true}, {"4KiB-nospin", 4096, false}} {
		t.Run(tc.name, func(t *testing.T) {
			_, r, p, c := newRing(t, tc.capacity)
			if !tc.spin {
				p.SetSpin(0, 0)
				c.SetSpin(0, 0)
			}
			got, err := stream(context.Background(), p, c, 1, n, min(8192, r.MaxMessage()))
			if err != nil {
				t.Fatal(err)
			}
			if want := ringmsg.Expect(1, n, min(8192, r.MaxMessage())); got != want {
				t.Fatalf("consumer got %v, producer sent %v", got, want)
			}
			t.Logf("%v; producer %+v, consumer %+v", got, p.Stats(), c.Stats())
		})
	}
}

// stream writes messages [0, n) of the test stream from p in a goroutine,
// closes, and reads and checks them through c until io.EOF.
func stream(ctx context.Context, p *ring.Producer, c *ring.Consumer, seed, n uint64, max int) (ringmsg.Totals, error) {
	perr := make(chan error, 1)
	go func() {
		defer p.Close()
		for i := range n {
			typ, size, x := ringmsg.Spec(seed, i, max)
			b, err := p.ClaimContext(ctx, typ, size)
			if err != nil {
				perr <- fmt.Errorf("producer, message %d: %w", i, err)
				return
			}
			ringmsg.Fill(b, i, x)
			p.Commit()
		}
		perr <- nil
	}()
	var tot ringmsg.Totals
	for {
		err := c.ReadFunc(ctx, func(typ uint32, msg []byte) error {
			sum, err := ringmsg.Check(seed, tot.Count, max, typ, msg)
			if err == nil {
				tot.Add(sum)
			}
			return err
		})
		if err == io.EOF {
			break
		}
		if err != nil {
			<-perr
			return tot, fmt.Errorf("consumer after %d messages: %w", tot.Count, err)
		}
	}
	return tot, <-perr
}
