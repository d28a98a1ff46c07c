package main

import (
	"bufio"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/shmmap/shmmap/sysapi"
	"golang.org/x/sys/unix"
)

// mqDir is where the mqueue file system is usually mounted.
const mqDir = "/dev/mqueue"

// mqueueMagic is the mqueue file system's statfs type (MQUEUE_MAGIC).
const mqueueMagic = 0x19800202

// posixMqCmd groups the POSIX message queue commands.
var posixMqCmd = &command{
	name:    "posix mq",
	args:    "ls|rm|send|recv ...",
	summary: "POSIX message queues",
	help: `POSIX message queues (mq_open): 'shmmap posix mq ls', 'shmmap posix mq rm
NAME...', 'shmmap posix mq send [--prio N] NAME' and 'shmmap posix mq recv
NAME'. NAME is as given to mq_open (/NAME, or NAME).`,
	run: func(e *env, c *command, args []string) error { return runGroup(e, c, mqCommands, args) },
}

// mqCommands are the subcommands of posix mq.
var mqCommands = []*command{mqLsCmd, mqRmCmd, mqSendCmd, mqRecvCmd}

// mqName is NAME as mq_open takes it: with a leading slash.
func mqName(s string) string {
	if strings.HasPrefix(s, "/") {
		return s
	}
	return "/" + s
}

// mqJSON is a queue in posix mq ls --json.
type mqJSON struct {
	Name      string  `json:"name"`
	Path      string  `json:"path"`
	Mode      string  `json:"mode"`
	Owner     string  `json:"owner"`
	Group     string  `json:"group"`
	UID       int     `json:"uid"`
	GID       int     `json:"gid"`
	Messages  *int64  `json:"messages"`
	Maxmsg    *int64  `json:"maxmsg"`
	Msgsize   *int64  `json:"msgsize"`
	Qsize     int64   `json:"qsize"`
	NotifyPID int     `json:"notify_pid"`
	Mtime     *string `json:"mtime"`
}

// mqLsCmd lists the queues.
var mqLsCmd = &command{
	name:    "posix mq ls",
	args:    "[--json] [--dir DIR]",
	summary: "POSIX message queues in " + mqDir,
	help: `Lists the POSIX message queues, the files of the mqueue file system
mounted on ` + mqDir + ` (or --dir), sorted by name: the name as given to
mq_open, mode, owner, the messages queued and the queue's limits
(mq_getattr's mq_curmsgs, mq_maxmsg and mq_msgsize, "-" for a queue this
user may not open), the bytes queued (QSIZE, as the kernel counts them),
the pid registered with mq_notify (0 for none) and the time of the last
send or receive.

The kernel only shows the queues through that file system. Where none is
mounted, the command fails and says so; mount one as root with

	mkdir -p /dev/mqueue && mount -t mqueue none /dev/mqueue

(the other posix mq commands work without it). The mount shows the queues
of the IPC namespace it was mounted in.

With --json, prints an array of queues; the fields are documented in
'go doc github.com/shmmap/shmmap/cmd/shmmap'.`,
	run: runMqLs,
}

// runMqLs runs shmmap posix mq ls.
func runMqLs(e *env, c *command, args []string) error {
	fs := newFlagSet(c.name)
	asJSON := fs.Bool("json", false, "print JSON")
	dir := fs.String("dir", mqDir, "`DIR` where the mqueue file system is mounted")
	pos, err := e.parse(c, fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(c, pos); err != nil {
		return err
	}
	impl := e.system().Impl()
	var st unix.Statfs_t
	if err := unix.Statfs(*dir, &st); err != nil || uint32(st.Type) != mqueueMagic {
		return fmt.Errorf("%s: no mqueue file system is mounted on %s, where the kernel shows POSIX message queues; "+
			"mount one (as root: mkdir -p %s && mount -t mqueue none %s) or name it with --dir (posix mq send, recv and rm work without it)",
			c.name, *dir, *dir, *dir)
	}
	entries, err := os.ReadDir(*dir)
	if err != nil {
		return fmt.Errorf("%s: %v", c.name, err)
	}
	out := []mqJSON{}
	var mtimes []time.Time
	for _, d := range entries {
		info, err := d.Info()
		if err != nil || !info.Mode().IsRegular() {
			continue
		}
		q := mqJSON{Name: "/" + d.Name(), Path: *dir + "/" + d.Name(), Mode: octalMode(uint32(info.Mode().Perm()))}
		if sys, ok := info.Sys().(*syscall.Stat_t); ok {
			q.UID, q.GID = int(sys.Uid), int(sys.Gid)
			q.Owner, q.Group = userName(q.UID), groupName(q.GID)
		}
		q.Mtime = jsonTime(info.ModTime())
		// The file reads "QSIZE:5 NOTIFY:0 SIGNO:0 NOTIFY_PID:0".
		if b, err := os.ReadFile(q.Path); err == nil {
			for _, f := range strings.Fields(string(b)) {
				name, v, _ := strings.Cut(f, ":")
				n, _ := strconv.ParseInt(v, 10, 64)
				switch name {
				case "QSIZE":
					q.Qsize = n
				case "NOTIFY_PID":
					q.NotifyPID = int(n)
				}
			}
		}
		if mqd, err := impl.MqOpen(q.Name, unix.O_RDONLY|unix.O_NONBLOCK, 0, nil); err == nil {
			if a, err := impl.MqGetattr(mqd); err == nil {
				q.Messages, q.Maxmsg, q.Msgsize = &a.Curmsgs, &a.Maxmsg, &a.Msgsize
			}
			unix.Close(mqd)
		}
		out = append(out, q)
		mtimes = append(mtimes, info.ModTime())
	}
	if *asJSON {
		return writeJSON(e.stdout, out)
	}
	opt := func(p *int64) string {
		if p == nil {
			return "-"
		}
		return strconv.FormatInt(*p, 10)
	}
	bw := bufio.NewWriter(e.stdout)
	tw := tabwriter.NewWriter(bw, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tMODE\tOWNER\tMESSAGES\tMAXMSG\tMSGSIZE\tQSIZE\tNOTIFY\tMODIFIED")
	for i, q := range out {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\n", q.Name, q.Mode, q.Owner, opt(q.Messages), opt(q.Maxmsg), opt(q.Msgsize),
			q.Qsize, q.NotifyPID, textTime(mtimes[i]))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return bw.Flush()
}

// mqRmCmd removes queues.
var mqRmCmd = &command{
	name:    "posix mq rm",
	args:    "NAME...",
	summary: "remove POSIX message queues (mq_unlink)",
	help: `Removes each named POSIX message queue with mq_unlink: NAME is as given to
mq_open (/NAME or NAME). Processes that have the queue open keep it until
they close it. Every name is tried; the command fails if any could not be
removed.`,
	run: runMqRm,
}

// runMqRm runs shmmap posix mq rm.
func runMqRm(e *env, c *command, args []string) error {
	pos, err := e.parse(c, newFlagSet(c.name), args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef(c, "missing NAME")
	}
	impl := e.system().Impl()
	var errs []error
	for _, name := range pos {
		if err := impl.MqUnlink(mqName(name)); err != nil {
			errs = append(errs, fmt.Errorf("%s %s: %s", c.name, name, mqReason(err)))
		}
	}
	return errors.Join(errs...)
}

// mqReason says in a few words why an operation on a queue failed.
func mqReason(err error) string {
	if errors.Is(err, unix.ENOENT) {
		return "no such queue"
	}
	return posixReason(err)
}

// mqSendCmd sends a message.
var mqSendCmd = &command{
	name:    "posix mq send",
	args:    "[--prio N] [--nowait] NAME",
	summary: "stdin as one message on a POSIX queue (mq_send)",
	help: `Reads stdin to its end and sends it as one message with priority N
(default 0, below 32768) with mq_send. A full queue makes it wait for room,
unless --nowait is given (O_NONBLOCK): it then fails at once. A message
longer than the queue's mq_msgsize is refused.`,
	run: runMqSend,
}

// runMqSend runs shmmap posix mq send.
func runMqSend(e *env, c *command, args []string) error {
	fs := newFlagSet(c.name)
	prio := &numFlag{}
	fs.Var(prio, "prio", "the message's priority `N`, 0 to 32767")
	nowait := fs.Bool("nowait", false, "fail instead of waiting while the queue is full (O_NONBLOCK)")
	pos, err := e.parse(c, fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(c, pos, "NAME"); err != nil {
		return err
	}
	if prio.v >= sysapi.MQ_PRIO_MAX {
		return usagef(c, "--prio %d: a priority is below %d", prio.v, sysapi.MQ_PRIO_MAX)
	}
	data, err := io.ReadAll(e.stdin)
	if err != nil {
		return fmt.Errorf("%s %s: reading stdin: %v", c.name, pos[0], err)
	}
	impl := e.system().Impl()
	flag := unix.O_WRONLY
	if *nowait {
		flag |= unix.O_NONBLOCK
	}
	mqd, err := impl.MqOpen(mqName(pos[0]), flag, 0, nil)
	if err != nil {
		return fmt.Errorf("%s %s: %s", c.name, pos[0], mqReason(err))
	}
	defer unix.Close(mqd)
	if err := impl.MqTimedsend(mqd, data, uint(prio.v), nil); err != nil {
		switch {
		case errors.Is(err, unix.EAGAIN):
			return fmt.Errorf("%s %s: queue is full; not sent", c.name, pos[0])
		case errors.Is(err, unix.EMSGSIZE):
			size := ""
			if a, err := impl.MqGetattr(mqd); err == nil {
				size = fmt.Sprintf(", mq_msgsize is %d", a.Msgsize)
			}
			return fmt.Errorf("%s %s: message too long: %d bytes%s", c.name, pos[0], len(data), size)
		}
		return fmt.Errorf("%s %s: %s", c.name, pos[0], mqReason(err))
	}
	return nil
}

// mqRecvCmd receives a message.
var mqRecvCmd = &command{
	name:    "posix mq recv",
	args:    "[--nowait] [--json] NAME",
	summary: "one message from a POSIX queue (mq_receive) to stdout",
	help: `Receives the oldest message of the highest priority with mq_receive and
writes it to stdout, as is. With no message to take it waits, unless
--nowait is given (O_NONBLOCK): it then fails at once ("no message").

With --json, prints an object instead: prio (number), size (number) and
hex (string, the message in lowercase hex).`,
	run: runMqRecv,
}

// runMqRecv runs shmmap posix mq recv.
func runMqRecv(e *env, c *command, args []string) error {
	fs := newFlagSet(c.name)
	nowait := fs.Bool("nowait", false, "fail instead of waiting while the queue is empty (O_NONBLOCK)")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := e.parse(c, fs, args)
	if err != nil {
		return err
	}
	if err := wantArgs(c, pos, "NAME"); err != nil {
		return err
	}
	impl := e.system().Impl()
	flag := unix.O_RDONLY
	if *nowait {
		flag |= unix.O_NONBLOCK
	}
	mqd, err := impl.MqOpen(mqName(pos[0]), flag, 0, nil)
	if err != nil {
		return fmt.Errorf("%s %s: %s", c.name, pos[0], mqReason(err))
	}
	defer unix.Close(mqd)
	a, err := impl.MqGetattr(mqd)
	if err != nil {
		return fmt.Errorf("%s %s: mq_getattr: %s", c.name, pos[0], mqReason(err))
	}
	buf := make([]byte, a.Msgsize)
	n, prio, err := impl.MqTimedreceive(mqd, buf, nil)
	if err != nil {
		if errors.Is(err, unix.EAGAIN) {
			return fmt.Errorf("%s %s: no message", c.name, pos[0])
		}
		return fmt.Errorf("%s %s: %s", c.name, pos[0], mqReason(err))
	}
	if *asJSON {
		return writeJSON(e.stdout, recvJSON{Prio: &prio, Size: n, Hex: hex.EncodeToString(buf[:n])})
	}
	_, err = e.stdout.Write(buf[:n])
	return err
}
