package main

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/shmmap/shmmap"
	"github.com/shmmap/shmmap/procmaps"
)

// mapsCmd lists a process's shared mappings.
var mapsCmd = &command{
	name:    "maps",
	args:    "[--json] PID",
	summary: "a process's shared mappings: segments, files, /dev/shm, memfd",
	help: `Reads /proc/PID/maps and lists the mappings whose permissions end in s
(shared), one per line: the address range, the permissions, the size, the
kind (sysv: a System V segment; posix: a POSIX shared memory object in
/dev/shm; memfd; anon: shared anonymous memory; file: a file mapped
MAP_SHARED), for a System V segment its key and shmid (the mapping's inode),
and the pathname exactly as the kernel printed it, spaces included, with
" (deleted)" if it has been unlinked.

With --json, prints an object with the pid, the command and the mappings;
the fields are documented in 'go doc github.com/shmmap/shmmap/cmd/shmmap'.`,
	run: runMaps,
}

// mapsJSON is what maps --json prints.
type mapsJSON struct {
	PID      int           `json:"pid"`
	Command  string        `json:"command"`
	Mappings []mappingJSON `json:"mappings"`
}

// mappingJSON is one shared mapping in maps --json.
type mappingJSON struct {
	Start   string `json:"start"`
	End     string `json:"end"`
	Size    uint64 `json:"size"`
	Perms   string `json:"perms"`
	Offset  uint64 `json:"offset"`
	Dev     string `json:"dev"`
	Inode   uint64 `json:"inode"`
	Kind    string `json:"kind"`
	Path    string `json:"path"`
	Deleted bool   `json:"deleted"`
	Key     string `json:"key,omitempty"`
	Shmid   *int   `json:"shmid,omitempty"`
}

// runMaps runs shmmap maps.
func runMaps(e *env, c *command, args []string) error {
	fs := newFlagSet(c.name)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := e.parse(c, fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(c, pos, "PID"); err != nil {
		return err
	}
	pid, err := strconv.Atoi(pos[0])
	if err != nil || pid <= 0 {
		return usagef(c, "bad PID %q: want a process id, a positive decimal number", pos[0])
	}
	e.system()
	maps, err := procmaps.ReadPID(pid)
	if err != nil {
		return fmt.Errorf("%s pid %d: %s", c.name, pid, procReason(err))
	}
	out := mapsJSON{PID: pid, Command: comm(pid), Mappings: []mappingJSON{}}
	for _, m := range maps {
		if !m.Perms.Shared {
			continue
		}
		mj := mappingJSON{
			Start: fmt.Sprintf("%#x", m.Start), End: fmt.Sprintf("%#x", m.End), Size: m.Len(),
			Perms: m.PermString(), Offset: m.Offset, Dev: m.Dev.String(), Inode: m.Inode,
			Kind: kindOf(m), Path: m.Pathname, Deleted: m.Deleted(),
		}
		if key, shmid, ok := m.SysV(); ok {
			mj.Key, mj.Shmid = shmmap.Key(key).String(), &shmid
		}
		out.Mappings = append(out.Mappings, mj)
	}
	if *asJSON {
		return writeJSON(e.stdout, out)
	}
	bw := bufio.NewWriter(e.stdout)
	plural := "s"
	if len(out.Mappings) == 1 {
		plural = ""
	}
	fmt.Fprintf(bw, "pid %d (%s): %d shared mapping%s\n", pid, out.Command, len(out.Mappings), plural)
	tw := tabwriter.NewWriter(bw, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "ADDRESS\tPERMS\tSIZE\tKIND\tKEY\tSHMID\tPATH")
	for _, m := range out.Mappings {
		key, shmid := "-", "-"
		if m.Shmid != nil {
			key, shmid = m.Key, strconv.Itoa(*m.Shmid)
		}
		fmt.Fprintf(tw, "%s-%s\t%s\t%d\t%s\t%s\t%s\t%s\n", m.Start[2:], m.End[2:], m.Perms, m.Size, m.Kind, key, shmid, m.Path)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return bw.Flush()
}

// kindOf classifies a shared mapping by its name.
func kindOf(m procmaps.Mapping) string {
	name := strings.TrimSuffix(m.Pathname, " (deleted)")
	switch _, _, sysv := m.SysV(); {
	case sysv:
		return "sysv"
	case strings.HasPrefix(name, "/dev/shm/"):
		return "posix"
	case strings.HasPrefix(name, "/memfd:"):
		return "memfd"
	case name == "", name == "/dev/zero" && m.Deleted(), strings.HasPrefix(name, "[anon_shmem:"):
		return "anon"
	}
	return "file"
}

// procReason says in a few words why a process's maps could not be read.
func procReason(err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "no such process"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
	}
	return err.Error()
}
