package main

import (
	"bufio"
	"fmt"
	"text/tabwriter"
)

// statCmd shows one segment.
var statCmd = &command{
	name:    "stat",
	args:    "[--json] SEG",
	summary: "one segment's IPC_STAT, and the processes attached to it",
	help: `Shows what IPC_STAT reports of the segment (which needs read permission
on it): key, shmid, size, mode, owner and creator, nattch, status, the pids
that created it and last attached or detached it, the times of the last
attach, detach and change; and the processes found attached to it, from
their /proc/PID/maps.

` + segHelp + `

With --json, prints one segment as ls --json does.`,
	run: runStat,
}

// runStat runs shmmap stat.
func runStat(e *env, c *command, args []string) error {
	fs := newFlagSet(c.name)
	asJSON := fs.Bool("json", false, "print JSON")
	ref, seg, err := openArg(e, c, fs, args)
	if err != nil {
		return err
	}
	info, err := seg.Stat()
	if err != nil {
		return ref.fail(c.name, err)
	}
	v := segmentView{info: *info, holders: holdersOf(scanAttachments(), info)}
	if *asJSON {
		return writeJSON(e.stdout, v.json())
	}
	bw := bufio.NewWriter(e.stdout)
	tw := tabwriter.NewWriter(bw, 0, 8, 2, ' ', 0)
	row := func(name, format string, args ...any) { fmt.Fprintf(tw, name+"\t"+format+"\n", args...) }
	row("key", "%v", info.Key)
	row("shmid", "%d", info.ID)
	row("size", "%d", info.Size)
	row("mode", "%s", octalMode(uint32(info.Mode)))
	row("owner", "%s:%s (uid %d, gid %d)", userName(info.UID), groupName(info.GID), info.UID, info.GID)
	row("creator", "%s:%s (uid %d, gid %d)", userName(info.CUID), groupName(info.CGID), info.CUID, info.CGID)
	row("nattch", "%d", info.Nattch)
	row("status", "%s", v.status())
	row("cpid", "%d", info.CPID)
	row("lpid", "%d", info.LPID)
	row("attached", "%s", textTime(info.AttachTime))
	row("detached", "%s", textTime(info.DetachTime))
	row("changed", "%s", textTime(info.ChangeTime))
	if len(v.holders) == 0 {
		row("processes", "-")
	}
	for i, h := range v.holders {
		name := ""
		if i == 0 {
			name = "processes"
		}
		row(name, "%d %s %s", h.PID, h.Command, h.Access)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return bw.Flush()
}
