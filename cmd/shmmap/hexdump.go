package main

import (
	"fmt"
	"io"
)

// hexDumper writes what hexdump -C prints of the bytes written to it: lines
// of 16 bytes with their address, in hex and as ASCII; a run of lines equal
// to the one before it as a single "*"; and the address after the last byte
// on a line of its own. Addresses start at start, as with hexdump -C -s.
type hexDumper struct {
	w        io.Writer
	addr     int64 // address of line[0]
	line     [16]byte
	n        int // bytes in line
	prev     [16]byte
	havePrev bool // prev holds the last full line
	starred  bool // a "*" was printed for the current run of equal lines
	wrote    bool // any byte was written
	err      error
}

// newHexDumper returns a hexDumper writing to w, with addresses from start.
func newHexDumper(w io.Writer, start int64) *hexDumper {
	return &hexDumper{w: w, addr: start}
}

// Write dumps p.
func (d *hexDumper) Write(p []byte) (int, error) {
	for _, b := range p {
		d.wrote = true
		d.line[d.n] = b
		d.n++
		if d.n == len(d.line) {
			d.flushLine()
		}
	}
	return len(p), d.err
}

// flushLine prints the pending line, or a "*" for it.
func (d *hexDumper) flushLine() {
	full := d.n == len(d.line)
	if full && d.havePrev && d.line == d.prev {
		if !d.starred {
			d.printf("*\n")
			d.starred = true
		}
		d.addr += int64(d.n)
		d.n = 0
		return
	}
	d.starred = false
	buf := make([]byte, 0, 80)
	buf = fmt.Appendf(buf, "%08x  ", d.addr)
	for i := range len(d.line) {
		if i < d.n {
			buf = fmt.Appendf(buf, "%02x ", d.line[i])
		} else {
			buf = append(buf, "   "...)
		}
		if i == 7 {
			buf = append(buf, ' ')
		}
	}
	buf = append(buf, " |"...)
	for _, b := range d.line[:d.n] {
		if b < 0x20 || b > 0x7e {
			b = '.'
		}
		buf = append(buf, b)
	}
	buf = append(buf, "|\n"...)
	d.printf("%s", buf)
	if full {
		d.prev, d.havePrev = d.line, true
	}
	d.addr += int64(d.n)
	d.n = 0
}

// Close prints the last partial line and the final address. Nothing is
// printed if nothing was written, as hexdump -C does for empty input.
func (d *hexDumper) Close() error {
	if !d.wrote {
		return d.err
	}
	if d.n > 0 {
		d.flushLine()
	}
	d.printf("%08x\n", d.addr)
	return d.err
}

// printf writes to the underlying writer, keeping the first error.
func (d *hexDumper) printf(format string, args ...any) {
	if d.err == nil {
		_, d.err = fmt.Fprintf(d.w, format, args...)
	}
}
