// Command streamer is the Go end of the streaming and latency benchmarks,
// with the same command line as c/stream.c:
//
//	streamer send|recv FD SIZE COUNT
//	streamer ping|pong RFD WFD SIZE COUNT
//	streamer ringsend|ringrecv FD SIZE COUNT
//	streamer ringping|ringpong FD SIZE COUNT SPIN
//	streamer ringwake FD RINGSIZE IDLE (BenchmarkWakeLatency's echo side)
//
// Messages are SIZE bytes; the first 8 carry the sequence number, which the
// receiver checks. recv prints the nanoseconds from its first message to its
// last; ping prints nanoseconds per round trip.
package main

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	if len(os.Args) < 5 {
		fail("usage: streamer send|recv FD SIZE COUNT | ping|pong RFD WFD SIZE COUNT")
	}
	mode := os.Args[1]
	args := os.Args[2:]
	if strings.HasPrefix(mode, "ring") {
		ringMain(mode, args)
		return
	}
	rfd := atoi(args[0])
	wfd := rfd
	if mode == "ping" || mode == "pong" {
		wfd, args = atoi(args[1]), args[1:]
	}
	size, count := max(atoi(args[1]), 8), atoi(args[2])
	r := os.NewFile(uintptr(rfd), "r")
	w := r
	if wfd != rfd {
		w = os.NewFile(uintptr(wfd), "w")
	}
	buf := messageBuffer(size)
	var start time.Time
	for i := range count {
		switch mode {
		case "send":
			binary.LittleEndian.PutUint64(buf, uint64(i))
			mustWrite(w, buf)
		case "recv":
			mustRead(r, buf)
			if i == 0 {
				start = time.Now()
			}
			if seq := binary.LittleEndian.Uint64(buf); seq != uint64(i) {
				fail(fmt.Sprintf("streamer: message %d has sequence %d", i, seq))
			}
		case "ping":
			if i == 0 {
				start = time.Now()
			}
			binary.LittleEndian.PutUint64(buf, uint64(i))
			mustWrite(w, buf)
			mustRead(r, buf)
		case "pong":
			mustRead(r, buf)
			mustWrite(w, buf)
		default:
			fail("streamer: unknown mode " + mode)
		}
	}
	switch mode {
	case "recv":
		fmt.Println(time.Since(start).Nanoseconds())
	case "ping":
		fmt.Printf("%.1f\n", float64(time.Since(start).Nanoseconds())/float64(count))
	}
}

// messageBuffer returns a zeroed buffer of size bytes, for the messages a
// process sends or receives, with the page after it touched as well.
//
// A copy out of a buffer whose next page was never touched (the page has
// no page-table entry yet) is slower: on the Xeon these benchmarks were
// first run on, streaming 4 KiB messages into a ring from a page-aligned
// buffer took 325 ns per message with the next page untouched and 250 ns
// with it touched, in C (aligned_alloc without memset) as in Go, the rest
// of the program unchanged. (Most likely the CPU's next-page prefetcher
// walks the page tables for the page after the stream on every copy, and
// a walk that finds no entry is not cached.) A buffer from C's malloc has
// its next page touched by malloc's own bookkeeping, and a fresh Go heap
// object often does not, which made a Go writer look 5–30 % slower than a
// C one. Both ends (c/stream.c: message_buffer) therefore touch it, so
// that the rows compare the ring, not the allocators' layouts.
func messageBuffer(size int) []byte {
	b := make([]byte, size+pageSize)
	for i := size; i < len(b); i += 64 {
		b[i] = 0xff
	}
	return b[:size:size]
}

// pageSize is the page messageBuffer touches after a buffer.
const pageSize = 4096

func mustWrite(w io.Writer, b []byte) {
	if _, err := w.Write(b); err != nil {
		fail("streamer: write: " + err.Error())
	}
}

func mustRead(r io.Reader, b []byte) {
	if _, err := io.ReadFull(r, b); err != nil {
		fail("streamer: read: " + err.Error())
	}
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		fail("streamer: " + err.Error())
	}
	return n
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, msg)
	os.Exit(1)
}
