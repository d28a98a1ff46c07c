package main

import (
	"bufio"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	iofs "io/fs"
	"text/tabwriter"

	"github.com/shmmap/shmmap"
	"github.com/shmmap/shmmap/sysapi"
	"golang.org/x/sys/unix"
)

// msgCmd groups the message queue commands.
var msgCmd = &command{
	name:    "msg",
	args:    "ls|stat|rm|send|recv ...",
	summary: "System V message queues",
	help: `System V message queues (msgget): 'shmmap msg ls', 'shmmap msg stat Q',
'shmmap msg rm [--force] Q', 'shmmap msg send [--type N] Q' and
'shmmap msg recv [--type N] [--nowait] Q'. (POSIX queues are under
'shmmap posix mq'.)`,
	run: func(e *env, c *command, args []string) error { return runGroup(e, c, msgCommands, args) },
}

// msgCommands are the subcommands of msg.
var msgCommands = []*command{msgLsCmd, msgStatCmd, msgRmCmd, msgSendCmd, msgRecvCmd}

// queueJSON is a queue as msg ls --json and msg stat --json print it; the
// field names are documented in the package comment and must not change.
type queueJSON struct {
	Key     string   `json:"key"`
	Msqid   int      `json:"msqid"`
	Owner   string   `json:"owner"`
	Group   string   `json:"group"`
	UID     int      `json:"uid"`
	GID     int      `json:"gid"`
	CUID    int      `json:"cuid"`
	CGID    int      `json:"cgid"`
	Mode    string   `json:"mode"`
	Cbytes  int64    `json:"cbytes"`
	Qnum    int64    `json:"qnum"`
	Qbytes  *int64   `json:"qbytes"`
	Lspid   int      `json:"lspid"`
	Lrpid   int      `json:"lrpid"`
	Stime   *string  `json:"stime"`
	Rtime   *string  `json:"rtime"`
	Ctime   *string  `json:"ctime"`
	Waiters []waiter `json:"waiters"`
}

// msgWaitCalls are the calls a thread waits on a queue in.
var msgWaitCalls = []string{"msgsnd", "msgrcv"}

// queueView is what the kernel says of a queue and the threads found
// waiting on it.
type queueView struct {
	info    shmmap.QueueInfo
	waiters []waiter
}

// json returns v in its JSON form.
func (v queueView) json() queueJSON {
	in := v.info
	out := queueJSON{
		Key: in.Key.String(), Msqid: in.ID,
		Owner: userName(in.UID), Group: groupName(in.GID),
		UID: in.UID, GID: in.GID, CUID: in.CUID, CGID: in.CGID,
		Mode: octalMode(uint32(in.Mode.Perm())), Cbytes: in.Cbytes, Qnum: in.Qnum,
		Lspid: in.Lspid, Lrpid: in.Lrpid,
		Stime: jsonTime(in.Stime), Rtime: jsonTime(in.Rtime), Ctime: jsonTime(in.Ctime),
		Waiters: v.waiters,
	}
	if in.Qbytes >= 0 {
		q := in.Qbytes
		out.Qbytes = &q
	}
	if out.Waiters == nil {
		out.Waiters = []waiter{}
	}
	return out
}

// msgLsCmd lists every queue.
var msgLsCmd = &command{
	name:    "msg ls",
	args:    "[--json]",
	summary: "every System V message queue, and who waits on it",
	help: `Lists every System V message queue of the IPC namespace, as the kernel's
/proc/sysvipc/msg does (ipcs -q reads the same table), sorted by msqid:
key, msqid, owner, mode, the bytes of message text queued (BYTES, ipcs's
used-bytes), the messages queued, the most bytes the queue holds (QBYTES,
msg_qbytes; "-" where the kernel will not tell this user), the pids of the
last msgsnd (LSPID) and msgrcv (LRPID), the times of the last send,
receive and change, and the threads found blocked in msgsnd or msgrcv on
the queue, as "PID COMMAND CALL", from /proc/PID/task/TID/syscall (the
kernel keeps no count of them). Queues the user may not read are listed
too.

With --json, prints an array of queues; the fields are documented in
'go doc github.com/shmmap/shmmap/cmd/shmmap'.`,
	run: runMsgLs,
}

// runMsgLs runs shmmap msg ls.
func runMsgLs(e *env, c *command, args []string) error {
	fs := newFlagSet(c.name)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := e.parse(c, fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(c, pos); err != nil {
		return err
	}
	infos, err := e.system().ListQueues()
	if err != nil {
		return fmt.Errorf("%s: %v", c.name, err)
	}
	ws := scanWaiters(msgWaitCalls...)
	views := make([]queueView, len(infos))
	for i := range infos {
		views[i] = queueView{info: infos[i], waiters: ws[infos[i].ID]}
	}
	if *asJSON {
		out := make([]queueJSON, len(views))
		for i, v := range views {
			out[i] = v.json()
		}
		return writeJSON(e.stdout, out)
	}
	bw := bufio.NewWriter(e.stdout)
	tw := tabwriter.NewWriter(bw, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tMSQID\tOWNER\tMODE\tBYTES\tMESSAGES\tQBYTES\tLSPID\tLRPID\tSENT\tRECEIVED\tCHANGED\tWAITERS")
	for _, v := range views {
		in := v.info
		qbytes := "-"
		if in.Qbytes >= 0 {
			qbytes = fmt.Sprint(in.Qbytes)
		}
		fmt.Fprintf(tw, "%v\t%d\t%s\t%s\t%d\t%d\t%s\t%d\t%d\t%s\t%s\t%s\t%s\n",
			in.Key, in.ID, userName(in.UID), octalMode(uint32(in.Mode)), in.Cbytes, in.Qnum, qbytes, in.Lspid, in.Lrpid,
			textTime(in.Stime), textTime(in.Rtime), textTime(in.Ctime), formatWaiters(v.waiters))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return bw.Flush()
}

// findQueue is the common start of the subcommands on one queue: parse the
// flags in fset and the one Q argument, run check (if not nil: the
// command's own usage checks), and find the queue's id.
func findQueue(e *env, c *command, fset *flag.FlagSet, args []string, check func() error) (*segRef, int, error) {
	pos, err := e.parse(c, fset, args)
	if err != nil {
		return nil, 0, err
	}
	if err := wantArgs(c, pos, "Q"); err != nil {
		return nil, 0, err
	}
	if check != nil {
		if err := check(); err != nil {
			return nil, 0, err
		}
	}
	ref, err := msgKind.parseRef(pos[0])
	if err != nil {
		return nil, 0, usagef(c, "%v", err)
	}
	impl := e.system().Impl()
	get := func(key int) (int, error) { return impl.Msgget(key, 0) }
	stat := func(id int) error {
		var ds sysapi.MsqidDS
		_, err := impl.Msgctl(id, unix.IPC_STAT, &ds)
		return err
	}
	id, err := msgKind.find(e.system(), c.name, ref, get, stat)
	if err != nil {
		return nil, 0, err
	}
	return ref, id, nil
}

// statQueue is IPC_STAT of queue id as a QueueInfo.
func statQueue(impl sysapi.Impl, id int) (*shmmap.QueueInfo, error) {
	var ds sysapi.MsqidDS
	if _, err := impl.Msgctl(id, unix.IPC_STAT, &ds); err != nil {
		return nil, err
	}
	return &shmmap.QueueInfo{
		Key: shmmap.Key(ds.Key), ID: id, Mode: iofs.FileMode(ds.Mode).Perm(),
		UID: int(ds.Uid), GID: int(ds.Gid), CUID: int(ds.Cuid), CGID: int(ds.Cgid),
		Qnum: int64(ds.Qnum), Cbytes: int64(ds.Cbytes), Qbytes: int64(ds.Qbytes),
		Lspid: int(ds.Lspid), Lrpid: int(ds.Lrpid),
		Stime: unixTime(ds.Stime), Rtime: unixTime(ds.Rtime), Ctime: unixTime(ds.Ctime),
	}, nil
}

// msgStatCmd shows one queue.
var msgStatCmd = &command{
	name:    "msg stat",
	args:    "[--json] Q",
	summary: "one message queue's IPC_STAT, and who waits on it",
	help: `Shows what IPC_STAT reports of the message queue (which needs read
permission on it): key, msqid, mode, owner and creator, the messages and
bytes queued, msg_qbytes, the pids of the last msgsnd and msgrcv, the times
of the last send, receive and change; and the threads found blocked in
msgsnd or msgrcv on it, from /proc/PID/task/TID/syscall.

` + msgKind.refHelp() + `

With --json, prints one queue as msg ls --json does.`,
	run: runMsgStat,
}

// runMsgStat runs shmmap msg stat.
func runMsgStat(e *env, c *command, args []string) error {
	fs := newFlagSet(c.name)
	asJSON := fs.Bool("json", false, "print JSON")
	ref, id, err := findQueue(e, c, fs, args, nil)
	if err != nil {
		return err
	}
	info, err := statQueue(e.system().Impl(), id)
	if err != nil {
		return msgKind.fail(c.name, ref, err)
	}
	v := queueView{info: *info, waiters: scanWaiters(msgWaitCalls...)[id]}
	if *asJSON {
		return writeJSON(e.stdout, v.json())
	}
	bw := bufio.NewWriter(e.stdout)
	tw := tabwriter.NewWriter(bw, 0, 8, 2, ' ', 0)
	row := func(name, format string, args ...any) { fmt.Fprintf(tw, name+"\t"+format+"\n", args...) }
	row("key", "%v", info.Key)
	row("msqid", "%d", info.ID)
	row("mode", "%s", octalMode(uint32(info.Mode)))
	row("owner", "%s:%s (uid %d, gid %d)", userName(info.UID), groupName(info.GID), info.UID, info.GID)
	row("creator", "%s:%s (uid %d, gid %d)", userName(info.CUID), groupName(info.CGID), info.CUID, info.CGID)
	row("messages", "%d", info.Qnum)
	row("bytes", "%d", info.Cbytes)
	row("qbytes", "%d", info.Qbytes)
	row("lspid", "%d", info.Lspid)
	row("lrpid", "%d", info.Lrpid)
	row("sent", "%s", textTime(info.Stime))
	row("received", "%s", textTime(info.Rtime))
	row("changed", "%s", textTime(info.Ctime))
	waiterRows(row, v.waiters)
	if err := tw.Flush(); err != nil {
		return err
	}
	return bw.Flush()
}

// msgRmCmd removes a queue.
var msgRmCmd = &command{
	name:    "msg rm",
	args:    "[--force] Q",
	summary: "remove a message queue (IPC_RMID); refuses one processes wait on",
	help: `Removes the message queue (msgctl IPC_RMID), which needs to be its owner
or creator, or root; the messages in it are lost. The kernel does not count
the processes blocked in msgsnd or msgrcv on a queue, so they are looked
for in /proc/PID/task/TID/syscall (threads of this IPC namespace whose
syscall file this user may read: all of them for root). A queue with a
waiter found is not removed: the error names the waiters. With --force it
is removed anyway, at once: the waiters' calls fail with EIDRM.

` + msgKind.refHelp(),
	run: runMsgRm,
}

// runMsgRm runs shmmap msg rm.
func runMsgRm(e *env, c *command, args []string) error {
	fs := newFlagSet(c.name)
	force := fs.Bool("force", false, "remove the queue even if processes wait on it")
	ref, id, err := findQueue(e, c, fs, args, nil)
	if err != nil {
		return err
	}
	ws := scanWaiters(msgWaitCalls...)[id]
	if len(ws) > 0 && !*force {
		return fmt.Errorf("%s %v: processes wait on the queue: %s; not removed (--force removes it, and their call fails with EIDRM)",
			c.name, ref, describeWaiters(ws))
	}
	if _, err := e.system().Impl().Msgctl(id, unix.IPC_RMID, nil); err != nil {
		return msgKind.fail(c.name, ref, err)
	}
	if len(ws) > 0 {
		fmt.Fprintf(e.stderr, "shmmap: %s %v: removed while processes waited: %s; their call fails with EIDRM\n", c.name, ref, describeWaiters(ws))
	}
	return nil
}

// msgSendCmd sends a message.
var msgSendCmd = &command{
	name:    "msg send",
	args:    "[--type N] [--nowait] Q",
	summary: "stdin as one message on a System V queue (msgsnd)",
	help: `Reads stdin to its end and sends it as one message of type N (default 1,
at least 1) with msgsnd. A full queue makes it wait for room, unless
--nowait is given: it then fails at once. A message longer than msgmax
(/proc/sys/kernel/msgmax) is refused.

` + msgKind.refHelp(),
	run: runMsgSend,
}

// runMsgSend runs shmmap msg send.
func runMsgSend(e *env, c *command, args []string) error {
	fs := newFlagSet(c.name)
	typ := &intFlag{v: 1}
	fs.Var(typ, "type", "the message's `TYPE` (mtype), at least 1")
	nowait := fs.Bool("nowait", false, "fail instead of waiting while the queue is full (IPC_NOWAIT)")
	ref, id, err := findQueue(e, c, fs, args, func() error {
		if typ.v < 1 {
			return usagef(c, "--type %d: a message's type must be at least 1", typ.v)
		}
		return nil
	})
	if err != nil {
		return err
	}
	data, err := io.ReadAll(e.stdin)
	if err != nil {
		return fmt.Errorf("%s %v: reading stdin: %v", c.name, ref, err)
	}
	impl := e.system().Impl()
	var info sysapi.Msginfo
	if _, err := impl.MsgctlInfo(sysapi.IPC_INFO, &info); err == nil && len(data) > int(info.Msgmax) {
		return fmt.Errorf("%s %v: message too long: %d bytes, msgmax is %d", c.name, ref, len(data), info.Msgmax)
	}
	flags := 0
	if *nowait {
		flags = unix.IPC_NOWAIT
	}
	if err := impl.Msgsnd(id, typ.v, data, flags); err != nil {
		if errors.Is(err, unix.EAGAIN) {
			return fmt.Errorf("%s %v: queue is full (no room for %d bytes); not sent", c.name, ref, len(data))
		}
		return msgKind.fail(c.name, ref, err)
	}
	return nil
}

// msgRecvCmd receives a message.
var msgRecvCmd = &command{
	name:    "msg recv",
	args:    "[--type N] [--except] [--nowait] [--json] Q",
	summary: "one message from a System V queue (msgrcv) to stdout",
	help: `Receives one message with msgrcv and writes its text to stdout, as is.
--type selects as msgrcv's msgtyp does: 0 (the default) the first message,
N > 0 the first of type N (with --except, the first of another type), N < 0
the first of the lowest type at most -N. With no message to take it waits,
unless --nowait is given: it then fails at once ("no message").

With --json, prints an object instead: type (number), size (number) and
hex (string, the text in lowercase hex).

` + msgKind.refHelp(),
	run: runMsgRecv,
}

// recvJSON is a received message in msg recv --json and posix mq recv
// --json.
type recvJSON struct {
	Type *int64 `json:"type,omitempty"`
	Prio *uint  `json:"prio,omitempty"`
	Size int    `json:"size"`
	Hex  string `json:"hex"`
}

// runMsgRecv runs shmmap msg recv.
func runMsgRecv(e *env, c *command, args []string) error {
	fs := newFlagSet(c.name)
	typ := &intFlag{}
	fs.Var(typ, "type", "msgtyp `N`: 0 any, N > 0 type N, N < 0 the lowest type at most -N")
	except := fs.Bool("except", false, "with --type N > 0: the first message of another type (MSG_EXCEPT)")
	nowait := fs.Bool("nowait", false, "fail instead of waiting while there is no message (IPC_NOWAIT)")
	asJSON := fs.Bool("json", false, "print JSON")
	ref, id, err := findQueue(e, c, fs, args, func() error {
		if *except && typ.v <= 0 {
			return usagef(c, "--except needs --type N with N > 0")
		}
		return nil
	})
	if err != nil {
		return err
	}
	impl := e.system().Impl()
	size := 8192
	var info sysapi.Msginfo
	if _, err := impl.MsgctlInfo(sysapi.IPC_INFO, &info); err == nil && info.Msgmax > 0 {
		size = int(info.Msgmax)
	}
	flags := sysapi.MSG_NOERROR // a message longer than msgmax (sent before msgmax was lowered) is cut rather than stuck
	if *nowait {
		flags |= unix.IPC_NOWAIT
	}
	if *except {
		flags |= sysapi.MSG_EXCEPT
	}
	buf := make([]byte, size)
	mtype, n, err := impl.Msgrcv(id, buf, typ.v, flags)
	if err != nil {
		if errors.Is(err, unix.ENOMSG) {
			return fmt.Errorf("%s %v: no message", c.name, ref)
		}
		return msgKind.fail(c.name, ref, err)
	}
	if *asJSON {
		return writeJSON(e.stdout, recvJSON{Type: &mtype, Size: n, Hex: hex.EncodeToString(buf[:n])})
	}
	_, err = e.stdout.Write(buf[:n])
	return err
}
