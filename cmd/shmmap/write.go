package main

import (
	"fmt"
	"io"

	"github.com/shmmap/shmmap"
)

// writeCmd copies stdin into a segment.
var writeCmd = &command{
	name:    "write",
	args:    "[--offset N] SEG",
	summary: "stdin into a segment at an offset, all or nothing",
	help: `Attaches the segment read-write (which needs read and write permission)
and copies stdin into it at --offset (default 0). Nothing is ever written
past the end of the segment: if stdin holds more bytes than fit between the
offset and the end, nothing at all is written and the command fails. The
rest of the segment is left as it is.

` + segHelp,
	run: runWrite,
}

// runWrite runs shmmap write.
func runWrite(e *env, c *command, args []string) error {
	fs := newFlagSet(c.name)
	var offset numFlag
	fs.Var(&offset, "offset", "write at byte `N` of the segment (counted from 0)")
	ref, att, err := attachArg(e, c, fs, args, shmmap.AttachReadWrite)
	if err != nil {
		return err
	}
	defer att.Detach()
	size := int64(att.Len())
	if offset.v > size {
		return fmt.Errorf("%s %v: offset %d is past the end of the segment (%d bytes); nothing written", c.name, ref, offset.v, size)
	}
	room := size - offset.v
	// Read one byte more than fits, to know whether stdin is too long
	// without reading all of it.
	data, err := io.ReadAll(io.LimitReader(e.stdin, room+1))
	if err != nil {
		return fmt.Errorf("%s %v: reading stdin: %v; nothing written", c.name, ref, err)
	}
	if int64(len(data)) > room {
		return fmt.Errorf("%s %v: stdin is longer than the %d bytes that fit at offset %d (the segment is %d bytes); nothing written",
			c.name, ref, room, offset.v, size)
	}
	if _, err := att.WriteAt(data, offset.v); err != nil {
		return fmt.Errorf("%s %v: %v", c.name, ref, err)
	}
	return nil
}
