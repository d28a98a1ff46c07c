package main

import (
	"errors"
	"fmt"
	"io/fs"

	"golang.org/x/sys/unix"
)

// createCmd creates a segment.
var createCmd = &command{
	name:    "create",
	args:    "[--mode 0600] KEY SIZE",
	summary: "create a segment (IPC_CREAT|IPC_EXCL)",
	help: `Creates a segment of SIZE bytes at KEY, which must be free (shmget with
IPC_CREAT|IPC_EXCL), and prints its key and shmid. KEY is a key in hex
(0x1234) or decimal, negative allowed, or ftok:PATH:PROJ; key 0 is
IPC_PRIVATE and always makes a new segment, known only by its shmid. SIZE
is in bytes (decimal, or hex with 0x). The segment is owned by the user
running shmmap and persists until removed (shmmap rm).`,
	run: runCreate,
}

// runCreate runs shmmap create.
func runCreate(e *env, c *command, args []string) error {
	flags := newFlagSet(c.name)
	mode := modeFlag(0o600)
	flags.Var(&mode, "mode", "permission bits `MODE`, in octal")
	pos, err := e.parse(c, flags, args)
	if err != nil {
		return err
	}
	if err := wantArgs(c, pos, "KEY", "SIZE"); err != nil {
		return err
	}
	ref, err := parseSeg(pos[0])
	if err != nil || ref.form == byID {
		return usagef(c, "bad KEY %q: want a key (0x1234, 4660, -5) or ftok:PATH:PROJ", pos[0])
	}
	size, err := parseNum(pos[1], 64)
	if err != nil || size <= 0 {
		return usagef(c, "bad SIZE %q: want a number of bytes, at least 1", pos[1])
	}
	sys := e.system()
	if err := ref.resolveKey(sys, c.name); err != nil {
		return err
	}
	seg, err := sys.CreateSegment(ref.key, size, fs.FileMode(mode).Perm())
	if err != nil {
		return fmt.Errorf("%s %v: %s", c.name, ref, createReason(ref, size, err))
	}
	fmt.Fprintf(e.stdout, "created key %v shmid %d size %d mode %v\n", seg.Key(), seg.ID(), size, &mode)
	return nil
}

// createReason says why shmget could not create the segment.
func createReason(ref *segRef, size int64, err error) string {
	switch {
	case errors.Is(err, fs.ErrExist):
		return "a segment with this key already exists"
	case errors.Is(err, unix.EINVAL):
		return fmt.Sprintf("invalid size %d (below SHMMIN or above SHMMAX, see /proc/sys/kernel/shmmax)", size)
	case errors.Is(err, unix.ENOSPC):
		return "no space: too many segments (shmmni) or too much shared memory (shmall)"
	case errors.Is(err, unix.ENOMEM):
		return "out of memory"
	}
	return ref.reason(err)
}
