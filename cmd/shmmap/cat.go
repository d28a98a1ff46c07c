package main

import (
	"bufio"
	"fmt"
	"io"

	"github.com/shmmap/shmmap"
)

// catCmd prints a segment's bytes.
var catCmd = &command{
	name:    "cat",
	args:    "[--offset N] [--length N] [--hex] SEG",
	summary: "a segment's bytes to stdout (raw, or --hex like hexdump -C)",
	help: `Attaches the segment read-only (which needs read permission) and writes
its bytes to stdout: all of them, or --length bytes from --offset. With
--hex, prints them as hexdump -C does, addresses counted from the start of
the segment (as hexdump -C -s OFFSET). An offset or length that goes past
the end of the segment is an error, and nothing is printed.

` + segHelp,
	run: runCat,
}

// runCat runs shmmap cat.
func runCat(e *env, c *command, args []string) error {
	fs := newFlagSet(c.name)
	var offset, length numFlag
	fs.Var(&offset, "offset", "print from byte `N` of the segment (counted from 0)")
	fs.Var(&length, "length", "print `N` bytes (default: to the end of the segment)")
	hex := fs.Bool("hex", false, "print as hexdump -C does")
	ref, att, err := attachArg(e, c, fs, args, shmmap.AttachReadOnly)
	if err != nil {
		return err
	}
	defer att.Detach()
	size := int64(att.Len())
	if offset.v > size {
		return fmt.Errorf("%s %v: offset %d is past the end of the segment (%d bytes)", c.name, ref, offset.v, size)
	}
	n := size - offset.v
	if length.set {
		if length.v > n {
			return fmt.Errorf("%s %v: offset %d + length %d is past the end of the segment (%d bytes)", c.name, ref, offset.v, length.v, size)
		}
		n = length.v
	}
	bw := bufio.NewWriter(e.stdout)
	var out io.Writer = bw
	var dump *hexDumper
	if *hex {
		dump = newHexDumper(bw, offset.v)
		out = dump
	}
	if _, err := io.Copy(out, io.NewSectionReader(att, offset.v, n)); err != nil {
		return fmt.Errorf("%s %v: %v", c.name, ref, err)
	}
	if dump != nil {
		if err := dump.Close(); err != nil {
			return err
		}
	}
	return bw.Flush()
}
