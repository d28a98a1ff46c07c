package main

import (
	"bufio"
	"flag"
	"fmt"
	iofs "io/fs"
	"text/tabwriter"
	"time"

	"github.com/shmmap/shmmap"
	"github.com/shmmap/shmmap/sysapi"
	"golang.org/x/sys/unix"
)

// semCmd groups the semaphore set commands.
var semCmd = &command{
	name:    "sem",
	args:    "ls|stat|rm ...",
	summary: "System V semaphore sets",
	help: `System V semaphore sets (semget): 'shmmap sem ls', 'shmmap sem stat SET'
and 'shmmap sem rm [--force] SET'.

Each kind has its own commands (sem, msg, posix mq) rather than ipcs's
-m -s -q flags on ls: the kinds have different columns and JSON objects,
and shmmap ls and ls --json stay what they were, a list of segments.`,
	run: func(e *env, c *command, args []string) error { return runGroup(e, c, semCommands, args) },
}

// semCommands are the subcommands of sem.
var semCommands = []*command{semLsCmd, semStatCmd, semRmCmd}

// semNumJSON is one semaphore of a set, in the JSON output.
type semNumJSON struct {
	Num   int `json:"num"`
	Value int `json:"value"`
	PID   int `json:"pid"`
	Ncnt  int `json:"ncnt"`
	Zcnt  int `json:"zcnt"`
}

// semSetJSON is a set as sem ls --json and sem stat --json print it; the
// field names are documented in the package comment and must not change.
type semSetJSON struct {
	Key        string       `json:"key"`
	Semid      int          `json:"semid"`
	Owner      string       `json:"owner"`
	Group      string       `json:"group"`
	UID        int          `json:"uid"`
	GID        int          `json:"gid"`
	CUID       int          `json:"cuid"`
	CGID       int          `json:"cgid"`
	Mode       string       `json:"mode"`
	Nsems      int          `json:"nsems"`
	Otime      *string      `json:"otime"`
	Ctime      *string      `json:"ctime"`
	Ncnt       *int         `json:"ncnt"`
	Zcnt       *int         `json:"zcnt"`
	Semaphores []semNumJSON `json:"semaphores"`
	Waiters    []waiter     `json:"waiters"`
}

// semView is what the kernel says of a set, its semaphores (nil if they
// could not be read) and the threads found waiting on it.
type semView struct {
	info    shmmap.SemaphoreInfo
	sems    []semNumJSON
	waiters []waiter
}

// readSems reads each semaphore's value, last pid and waiter counts
// (GETVAL, GETPID, GETNCNT, GETZCNT), or returns nil and the error (no
// read permission, or the set is gone).
func readSems(impl sysapi.Impl, id, n int) ([]semNumJSON, error) {
	sems := make([]semNumJSON, n)
	for i := range sems {
		s := &sems[i]
		s.Num = i
		for _, q := range []struct {
			cmd int
			v   *int
		}{{sysapi.GETVAL, &s.Value}, {sysapi.GETPID, &s.PID}, {sysapi.GETNCNT, &s.Ncnt}, {sysapi.GETZCNT, &s.Zcnt}} {
			v, err := impl.Semctl(id, i, q.cmd, 0)
			if err != nil {
				return nil, err
			}
			*q.v = v
		}
	}
	return sems, nil
}

// counts returns the set's GETNCNT and GETZCNT summed over its
// semaphores, or false if they could not be read.
func (v semView) counts() (ncnt, zcnt int, ok bool) {
	if v.sems == nil {
		return 0, 0, false
	}
	for _, s := range v.sems {
		ncnt += s.Ncnt
		zcnt += s.Zcnt
	}
	return ncnt, zcnt, true
}

// json returns v in its JSON form.
func (v semView) json() semSetJSON {
	in := v.info
	out := semSetJSON{
		Key: in.Key.String(), Semid: in.ID,
		Owner: userName(in.UID), Group: groupName(in.GID),
		UID: in.UID, GID: in.GID, CUID: in.CUID, CGID: in.CGID,
		Mode: octalMode(uint32(in.Mode.Perm())), Nsems: in.Len,
		Otime: jsonTime(in.OpTime), Ctime: jsonTime(in.ChangeTime),
		Semaphores: v.sems, Waiters: v.waiters,
	}
	if n, z, ok := v.counts(); ok {
		out.Ncnt, out.Zcnt = &n, &z
	}
	if out.Waiters == nil {
		out.Waiters = []waiter{}
	}
	return out
}

// semWaitCalls are the calls a thread waits on a set in.
var semWaitCalls = []string{"semop", "semtimedop"}

// newSemView reads the semaphores of the set in and finds its waiters in
// ws (scanWaiters).
func newSemView(impl sysapi.Impl, in shmmap.SemaphoreInfo, ws map[int][]waiter) semView {
	v := semView{info: in, waiters: ws[in.ID]}
	v.sems, _ = readSems(impl, in.ID, in.Len)
	return v
}

// semLsCmd lists every set.
var semLsCmd = &command{
	name:    "sem ls",
	args:    "[--json]",
	summary: "every System V semaphore set, and who waits on it",
	help: `Lists every System V semaphore set of the IPC namespace, as the kernel's
/proc/sysvipc/sem does (ipcs -s reads the same table), sorted by semid:
key, semid, owner, mode, the number of semaphores (NSEMS), the times of the
last semop and of the last change, the processes waiting for a semaphore
to increase (NCNT) and to become zero (ZCNT), summed over the set's
semaphores (GETNCNT and GETZCNT; "-" for a set the user may not read), and
the threads found waiting, as "PID COMMAND CALL", from
/proc/PID/task/TID/syscall. Sets the user may not read are listed too.

With --json, prints an array of sets; the fields are documented in
'go doc github.com/shmmap/shmmap/cmd/shmmap'.`,
	run: runSemLs,
}

// runSemLs runs shmmap sem ls.
func runSemLs(e *env, c *command, args []string) error {
	fs := newFlagSet(c.name)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := e.parse(c, fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(c, pos); err != nil {
		return err
	}
	impl := e.system().Impl()
	infos, err := shmmap.ListSemaphoreSets()
	if err != nil {
		return fmt.Errorf("%s: %v", c.name, err)
	}
	ws := scanWaiters(semWaitCalls...)
	views := make([]semView, len(infos))
	for i := range infos {
		views[i] = newSemView(impl, infos[i], ws)
	}
	if *asJSON {
		out := make([]semSetJSON, len(views))
		for i, v := range views {
			out[i] = v.json()
		}
		return writeJSON(e.stdout, out)
	}
	bw := bufio.NewWriter(e.stdout)
	tw := tabwriter.NewWriter(bw, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tSEMID\tOWNER\tMODE\tNSEMS\tOPERATED\tCHANGED\tNCNT\tZCNT\tWAITERS")
	for _, v := range views {
		in := v.info
		ncnt, zcnt := "-", "-"
		if n, z, ok := v.counts(); ok {
			ncnt, zcnt = fmt.Sprint(n), fmt.Sprint(z)
		}
		fmt.Fprintf(tw, "%v\t%d\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n",
			in.Key, in.ID, userName(in.UID), octalMode(uint32(in.Mode)), in.Len,
			textTime(in.OpTime), textTime(in.ChangeTime), ncnt, zcnt, formatWaiters(v.waiters))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return bw.Flush()
}

// openSet is the common start of sem stat and sem rm: parse the flags in
// fset and the one SET argument, find the set and IPC_STAT it. A stat
// failure is returned in statErr, with the ref and id, for rm --force to
// go on; a set it cannot find is an error.
func openSet(e *env, c *command, fset *flag.FlagSet, args []string) (ref *segRef, id int, info *shmmap.SemaphoreInfo, statErr, err error) {
	pos, err := e.parse(c, fset, args)
	if err != nil {
		return nil, 0, nil, nil, err
	}
	if err := wantArgs(c, pos, "SET"); err != nil {
		return nil, 0, nil, nil, err
	}
	ref, err = semKind.parseRef(pos[0])
	if err != nil {
		return nil, 0, nil, nil, usagef(c, "%v", err)
	}
	impl := e.system().Impl()
	var ds sysapi.SemidDS
	stat := func(id int) error { return impl.SemctlStat(id, &ds) }
	get := func(key int) (int, error) { return impl.Semget(key, 0, 0) }
	if ref.form != byID {
		// semget finds a set the user may not read; IPC_STAT then tells.
		stat = func(int) error { return nil }
	}
	id, err = semKind.find(e.system(), c.name, ref, get, stat)
	if err != nil {
		return nil, 0, nil, nil, err
	}
	if ref.form != byID {
		if statErr = impl.SemctlStat(id, &ds); statErr != nil {
			return ref, id, nil, statErr, nil
		}
	}
	return ref, id, &shmmap.SemaphoreInfo{
		Key: shmmap.Key(ds.Key), ID: id, Len: int(ds.Nsems), Mode: iofs.FileMode(ds.Mode).Perm(),
		UID: int(ds.Uid), GID: int(ds.Gid), CUID: int(ds.Cuid), CGID: int(ds.Cgid),
		OpTime: unixTime(ds.Otime), ChangeTime: unixTime(ds.Ctime),
	}, nil, nil
}

// semStatCmd shows one set.
var semStatCmd = &command{
	name:    "sem stat",
	args:    "[--json] SET",
	summary: "one semaphore set's IPC_STAT, each semaphore, and who waits",
	help: `Shows what IPC_STAT reports of the semaphore set (which needs read
permission on it): key, semid, the number of semaphores, mode, owner and
creator, the times of the last semop and of the last change; then each
semaphore's value (GETVAL), the pid of the last semop on it (GETPID) and the
processes waiting for it to increase (GETNCNT) and to become zero
(GETZCNT); and the threads found waiting on the set, from
/proc/PID/task/TID/syscall.

` + semKind.refHelp() + `

With --json, prints one set as sem ls --json does.`,
	run: runSemStat,
}

// runSemStat runs shmmap sem stat.
func runSemStat(e *env, c *command, args []string) error {
	fs := newFlagSet(c.name)
	asJSON := fs.Bool("json", false, "print JSON")
	ref, _, info, statErr, err := openSet(e, c, fs, args)
	if err != nil {
		return err
	}
	if statErr != nil {
		return semKind.fail(c.name, ref, statErr)
	}
	v := newSemView(e.system().Impl(), *info, scanWaiters(semWaitCalls...))
	if *asJSON {
		return writeJSON(e.stdout, v.json())
	}
	bw := bufio.NewWriter(e.stdout)
	tw := tabwriter.NewWriter(bw, 0, 8, 2, ' ', 0)
	row := func(name, format string, args ...any) { fmt.Fprintf(tw, name+"\t"+format+"\n", args...) }
	row("key", "%v", info.Key)
	row("semid", "%d", info.ID)
	row("nsems", "%d", info.Len)
	row("mode", "%s", octalMode(uint32(info.Mode)))
	row("owner", "%s:%s (uid %d, gid %d)", userName(info.UID), groupName(info.GID), info.UID, info.GID)
	row("creator", "%s:%s (uid %d, gid %d)", userName(info.CUID), groupName(info.CGID), info.CUID, info.CGID)
	row("operated", "%s", textTime(info.OpTime))
	row("changed", "%s", textTime(info.ChangeTime))
	if n, z, ok := v.counts(); ok {
		row("ncnt", "%d", n)
		row("zcnt", "%d", z)
	}
	for _, s := range v.sems {
		row(fmt.Sprintf("semaphore %d", s.Num), "value %d, pid %d, ncnt %d, zcnt %d", s.Value, s.PID, s.Ncnt, s.Zcnt)
	}
	waiterRows(row, v.waiters)
	if err := tw.Flush(); err != nil {
		return err
	}
	return bw.Flush()
}

// semRmCmd removes a set.
var semRmCmd = &command{
	name:    "sem rm",
	args:    "[--force] SET",
	summary: "remove a semaphore set (IPC_RMID); refuses one processes wait on",
	help: `Removes the semaphore set (semctl IPC_RMID), which needs to be its owner
or creator, or root. A set that processes are waiting on (GETNCNT or
GETZCNT of a semaphore above 0) is not removed: the error says how many
wait and names the threads found blocked in semop or semtimedop on it
(from /proc/PID/task/TID/syscall). With --force it is removed anyway, at
once: the waiters' calls fail with EIDRM.

SET names a semaphore set as SEG names a segment: a key, id:N or
ftok:PATH:PROJ ('shmmap sem stat -h').`,
	run: runSemRm,
}

// runSemRm runs shmmap sem rm.
func runSemRm(e *env, c *command, args []string) error {
	fs := newFlagSet(c.name)
	force := fs.Bool("force", false, "remove the set even if processes wait on it")
	ref, id, info, statErr, err := openSet(e, c, fs, args)
	if err != nil {
		return err
	}
	impl := e.system().Impl()
	var ncnt, zcnt int
	var ws []waiter
	if statErr == nil {
		sems, err := readSems(impl, id, info.Len)
		if err != nil && !*force {
			statErr = err
		}
		for _, s := range sems {
			ncnt += s.Ncnt
			zcnt += s.Zcnt
		}
		ws = scanWaiters(semWaitCalls...)[id]
	}
	if statErr != nil && !*force {
		return fmt.Errorf("%s %v: %s (cannot tell whether processes wait on it; --force removes it without looking)", c.name, ref, semKind.reason(ref, statErr))
	}
	waiting := ncnt+zcnt > 0 || len(ws) > 0
	if waiting && !*force {
		return fmt.Errorf("%s %v: processes wait on the set (ncnt %d, zcnt %d): %s; not removed (--force removes it, and their semop fails with EIDRM)",
			c.name, ref, ncnt, zcnt, describeSemWaiters(ws, ncnt+zcnt))
	}
	if _, err := impl.Semctl(id, 0, unix.IPC_RMID, 0); err != nil {
		return semKind.fail(c.name, ref, err)
	}
	if waiting {
		fmt.Fprintf(e.stderr, "shmmap: %s %v: removed while processes waited (ncnt %d, zcnt %d): %s; their semop fails with EIDRM\n",
			c.name, ref, ncnt, zcnt, describeSemWaiters(ws, ncnt+zcnt))
	}
	return nil
}

// describeSemWaiters names the threads found waiting on a set that the
// kernel counts n waiters on.
func describeSemWaiters(ws []waiter, n int) string {
	if len(ws) == 0 {
		return "waiting in processes this user cannot see (other users' or another PID namespace's)"
	}
	s := describeWaiters(ws)
	if n > len(ws) {
		s += " and possibly processes this user cannot see"
	}
	return s
}

// unixTime converts seconds since the epoch, 0 meaning never.
func unixTime(sec int64) time.Time {
	if sec == 0 {
		return time.Time{}
	}
	return time.Unix(sec, 0)
}
