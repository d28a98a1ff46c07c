package main

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
)

// shmDir is where glibc keeps POSIX shared memory objects.
const shmDir = "/dev/shm"

// posixCmd groups the POSIX shared memory commands.
var posixCmd = &command{
	name:    "posix",
	args:    "ls|rm ...",
	summary: "POSIX shared memory objects",
	help:    "POSIX shared memory objects (shm_open), in " + shmDir + ": 'shmmap posix ls' and 'shmmap posix rm NAME...'; POSIX message queues (mq_open): 'shmmap posix mq ls|rm|send|recv' ('shmmap posix mq -h').",
	run:     runPosix,
}

// posixCommands are the subcommands of posix.
var posixCommands = []*command{posixLsCmd, posixRmCmd, posixMqCmd}

// runPosix dispatches shmmap posix ls and rm.
func runPosix(e *env, c *command, args []string) error {
	if len(args) > 0 {
		if sub := lookup(posixCommands, args[0]); sub != nil {
			return sub.run(e, sub, args[1:])
		}
	}
	pos, err := e.parse(c, newFlagSet(c.name), args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef(c, "missing ls, rm or mq")
	}
	return usagef(c, "unknown command %q: want ls, rm or mq", pos[0])
}

// posixLsCmd lists the objects.
var posixLsCmd = &command{
	name:    "posix ls",
	args:    "[--json]",
	summary: "POSIX shared memory objects in " + shmDir,
	help: `Lists the POSIX shared memory objects, the regular files in ` + shmDir + ` (where
glibc's shm_open creates /NAME), sorted by name: the name as given to
shm_open, its kind (shm, or sem for sem.NAME, a glibc named semaphore made by
sem_open), size in bytes, mode, owner and modification time.

With --json, prints an array of objects; the fields are documented in
'go doc github.com/shmmap/shmmap/cmd/shmmap'.`,
	run: runPosixLs,
}

// posixJSON is one object in posix ls --json.
type posixJSON struct {
	Name  string `json:"name"`
	Path  string `json:"path"`
	Kind  string `json:"kind"`
	Size  int64  `json:"size"`
	Mode  string `json:"mode"`
	Owner string `json:"owner"`
	Group string `json:"group"`
	UID   int    `json:"uid"`
	GID   int    `json:"gid"`
	Mtime string `json:"mtime"`
}

// runPosixLs runs shmmap posix ls.
func runPosixLs(e *env, c *command, args []string) error {
	fs := newFlagSet(c.name)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := e.parse(c, fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(c, pos); err != nil {
		return err
	}
	e.system()
	entries, err := os.ReadDir(shmDir)
	if err != nil {
		return fmt.Errorf("%s: %v", c.name, err)
	}
	objs := []posixJSON{}
	var mtimes []time.Time // of objs, for the table
	for _, d := range entries {
		info, err := d.Info()
		if err != nil || !info.Mode().IsRegular() {
			continue // gone meanwhile, or not an object (a directory)
		}
		o := posixJSON{
			Name: "/" + d.Name(), Path: shmDir + "/" + d.Name(), Kind: "shm",
			Size: info.Size(), Mode: octalMode(uint32(info.Mode().Perm())), Mtime: info.ModTime().Format(time.RFC3339),
		}
		if strings.HasPrefix(d.Name(), "sem.") {
			o.Kind = "sem"
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			o.UID, o.GID = int(st.Uid), int(st.Gid)
			o.Owner, o.Group = userName(o.UID), groupName(o.GID)
		}
		objs = append(objs, o)
		mtimes = append(mtimes, info.ModTime())
	}
	if *asJSON {
		return writeJSON(e.stdout, objs)
	}
	bw := bufio.NewWriter(e.stdout)
	tw := tabwriter.NewWriter(bw, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKIND\tSIZE\tMODE\tOWNER\tMODIFIED")
	for i, o := range objs {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", o.Name, o.Kind, o.Size, o.Mode, o.Owner, textTime(mtimes[i]))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return bw.Flush()
}

// posixRmCmd removes objects.
var posixRmCmd = &command{
	name:    "posix rm",
	args:    "NAME...",
	summary: "remove POSIX shared memory objects (shm_unlink)",
	help: `Removes each named POSIX shared memory object with shm_unlink, as a C
program would: NAME is as given to shm_open (/NAME or NAME). Processes that
have the object open or mapped keep it until they let go. Every name is
tried; the command fails if any could not be removed.`,
	run: runPosixRm,
}

// runPosixRm runs shmmap posix rm.
func runPosixRm(e *env, c *command, args []string) error {
	pos, err := e.parse(c, newFlagSet(c.name), args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef(c, "missing NAME")
	}
	sys := e.system()
	var errs []error
	for _, name := range pos {
		if err := sys.ShmUnlink(name); err != nil {
			errs = append(errs, fmt.Errorf("%s %s: %s", c.name, name, posixReason(err)))
		}
	}
	return errors.Join(errs...)
}

// posixReason says in a few words why an object could not be removed.
func posixReason(err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "no such object"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
	}
	return errnoText(err)
}
