package main

import (
	"fmt"
	"strings"
)

// rmCmd removes a segment.
var rmCmd = &command{
	name:    "rm",
	args:    "[--force] SEG",
	summary: "remove a segment (IPC_RMID); refuses one that is attached",
	help: `Removes the segment (shmctl IPC_RMID), which needs to be its owner or
creator, or root. A segment that processes still have attached is not
removed: the error says how many attachments it has and which processes
hold it. With --force it is removed anyway: its key is free at once, and the
kernel destroys it when the last process detaches.

` + segHelp,
	run: runRm,
}

// runRm runs shmmap rm.
func runRm(e *env, c *command, args []string) error {
	fs := newFlagSet(c.name)
	force := fs.Bool("force", false, "remove the segment even if processes have it attached")
	ref, seg, err := openArg(e, c, fs, args)
	if err != nil {
		return err
	}
	info, err := seg.Stat()
	if err != nil && !*force {
		return fmt.Errorf("%s %v: %s (cannot tell whether it is attached; --force removes it without looking)", c.name, ref, ref.reason(err))
	}
	var holders []holder
	if info != nil && info.Nattch > 0 {
		holders = holdersOf(scanAttachments(), info)
		if !*force {
			return fmt.Errorf("%s %v: segment is attached (nattch %d): %s; not removed (--force removes it, and it is destroyed at the last detach)",
				c.name, ref, info.Nattch, describeHolders(holders, info.Nattch))
		}
	}
	if err := seg.Remove(); err != nil {
		return ref.fail(c.name, err)
	}
	if info != nil && info.Nattch > 0 {
		fmt.Fprintf(e.stderr, "shmmap: %s %v: removed while attached (nattch %d): %s; destroyed at the last detach\n",
			c.name, ref, info.Nattch, describeHolders(holders, info.Nattch))
	}
	return nil
}

// describeHolders says who holds a segment with nattch attachments:
// "held by pid 4321 (c-writer, rw)", and how many attachments are in
// processes that could not be seen.
func describeHolders(hs []holder, nattch int) string {
	if len(hs) == 0 {
		return "held by processes this user cannot see (other users' or another PID namespace's)"
	}
	parts := make([]string, len(hs))
	for i, h := range hs {
		parts[i] = fmt.Sprintf("pid %d (%s, %s)", h.PID, h.Command, h.Access)
	}
	s := "held by " + strings.Join(parts, ", ")
	if nattch > len(hs) {
		s += " and possibly processes this user cannot see"
	}
	return s
}
