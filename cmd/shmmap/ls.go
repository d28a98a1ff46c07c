package main

import (
	"bufio"
	"fmt"
	"text/tabwriter"

	"github.com/shmmap/shmmap"
)

// lsCmd lists every segment.
var lsCmd = &command{
	name:    "ls",
	args:    "[--json]",
	summary: "every System V segment, and the processes attached to it",
	help: `Lists every System V shared memory segment of the IPC namespace, as the
kernel's /proc/sysvipc/shm does (ipcs -m reads the same table), sorted by
shmid: key, shmid, owner, mode, size in bytes, nattch, the creator's pid
(CPID), the pid of the last attach or detach (LPID), the times of the last
attach, detach and change, the status (dest: removed, destroyed at the last
detach; locked: SHM_LOCK) and the processes found attached, as
"PID COMMAND ACCESS", from their /proc/PID/maps. Segments the user may not
read are listed too.

With --json, prints an array of segments; the fields are documented in
'go doc github.com/shmmap/shmmap/cmd/shmmap'.`,
	run: runLs,
}

// runLs runs shmmap ls.
func runLs(e *env, c *command, args []string) error {
	fs := newFlagSet(c.name)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := e.parse(c, fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(c, pos); err != nil {
		return err
	}
	e.system() // -impl is checked even though the list needs no C calls
	infos, err := shmmap.ListSegments()
	if err != nil {
		return fmt.Errorf("ls: %v", err)
	}
	atts := scanAttachments()
	views := make([]segmentView, len(infos))
	for i := range infos {
		views[i] = segmentView{info: infos[i], holders: holdersOf(atts, &infos[i])}
	}
	if *asJSON {
		out := make([]segmentJSON, len(views))
		for i, v := range views {
			out[i] = v.json()
		}
		return writeJSON(e.stdout, out)
	}
	bw := bufio.NewWriter(e.stdout)
	tw := tabwriter.NewWriter(bw, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tSHMID\tOWNER\tMODE\tSIZE\tNATTCH\tCPID\tLPID\tATTACHED\tDETACHED\tCHANGED\tSTATUS\tPROCESSES")
	for _, v := range views {
		in := v.info
		fmt.Fprintf(tw, "%v\t%d\t%s\t%s\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\n",
			in.Key, in.ID, userName(in.UID), octalMode(uint32(in.Mode)), in.Size, in.Nattch, in.CPID, in.LPID,
			textTime(in.AttachTime), textTime(in.DetachTime), textTime(in.ChangeTime), v.status(), formatHolders(v.holders))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return bw.Flush()
}
