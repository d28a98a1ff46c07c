// Command shmmap inspects and edits System V shared memory segments, POSIX
// shared memory objects and the shared mappings of processes, the way the
// article checks its work with cat /proc/PID/maps, and ipcs and ipcrm do.
//
// Usage:
//
//	shmmap [-impl cshim|purego] COMMAND [ARGS]
//
// Commands:
//
//	ls      [--json]                          every segment, and who has it attached
//	stat    [--json] SEG                      one segment (IPC_STAT), and who has it attached
//	create  [--mode 0600] KEY SIZE            create a segment (IPC_CREAT|IPC_EXCL)
//	rm      [--force] SEG                     remove a segment (IPC_RMID); refuses an attached one
//	cat     [--offset N] [--length N] [--hex] SEG   a segment's bytes to stdout
//	write   [--offset N] SEG                  stdin into a segment, all or nothing
//	maps    [--json] PID                      a process's shared mappings
//	ftok    [--json] PATH PROJ                the key C's ftok(PATH, PROJ) returns
//	layout  [--json] [--m32] [--cflags FLAGS] [--go] HEADER TYPE   a C struct's layout, or a Go struct for it
//	sem ls  [--json]                          every semaphore set, and who waits on it
//	sem stat [--json] SET                     one set (IPC_STAT), each semaphore, who waits
//	sem rm  [--force] SET                     remove a set (IPC_RMID); refuses one waited on
//	msg ls  [--json]                          every System V message queue, and who waits on it
//	msg stat [--json] Q                       one queue (IPC_STAT), and who waits on it
//	msg rm  [--force] Q                       remove a queue (IPC_RMID); refuses one waited on
//	msg send [--type N] [--nowait] Q          stdin as one message (msgsnd)
//	msg recv [--type N] [--except] [--nowait] [--json] Q   one message to stdout (msgrcv)
//	posix ls [--json]                         POSIX shared memory objects (/dev/shm)
//	posix rm NAME...                          shm_unlink
//	posix mq ls [--json] [--dir DIR]          POSIX message queues (/dev/mqueue)
//	posix mq rm NAME...                       mq_unlink
//	posix mq send [--prio N] [--nowait] NAME  stdin as one message (mq_send)
//	posix mq recv [--nowait] [--json] NAME    one message to stdout (mq_receive)
//	help    [COMMAND]                         help on a command (as does COMMAND -h)
//
// SEG names a segment: a key in hex (0x1234) or decimal, negative allowed
// (-5), as ipcs prints it or C's key_t holds it; id:N for the segment with
// shmid N (the only way to name a private segment, or one removed while
// still attached); or ftok:PATH:PROJ for the key ftok(PATH, PROJ) gives.
// PROJ is a number (65, 0x41) or a single character (A). SET (a semaphore
// set) and Q (a message queue) take the same three forms, id:N naming the
// semid or msqid. Numbers given to
// flags take 0x for hex as well. Flags may come before or after the
// arguments; -flag and --flag are the same; -- ends the flags.
//
// The global flag -impl picks the implementation of the C calls, as for the
// ports: purego (system calls; the default) or cshim (libc through cgo, not
// in a binary built with CGO_ENABLED=0). It may also be given after the
// command.
//
// Exit status: 0 on success, 1 on failure (the error names the command, the
// segment and the reason, as in "shmmap: stat key 0x00001234: no such
// segment" or "shmmap: cat id 3: permission denied"), 2 on a usage error (an
// unknown command or flag, a malformed SEG, PID or number). A command that
// fails changes nothing, except posix rm, which removes the names it can.
//
// # Where the information comes from
//
// ls reads /proc/sysvipc/shm (shmmap.ListSegments), which lists every
// segment of the IPC namespace, even those the user may not read; stat
// calls IPC_STAT (Segment.Stat), which needs read permission. Both find the
// processes attached to a segment by reading /proc/*/maps (with package
// procmaps): a System V mapping is named /SYSVkkkkkkkk, with the key in hex,
// and its inode column is the shmid. Only processes in the same IPC
// namespace as shmmap (any of their threads), whose maps the user may read,
// are found; nattch is the kernel's count of every attachment. access comes
// from the mapping's permissions: rw (shmat without SHM_RDONLY), r (with
// it), or what mprotect left (w, or - for PROT_NONE). A process with a
// segment attached in two ways is listed once for each.
//
// maps reads /proc/PID/maps and lists the mappings whose permissions end in
// s (shared): System V segments, files mapped MAP_SHARED, POSIX shared memory
// objects (/dev/shm/NAME), memfds (/memfd:NAME) and shared anonymous memory.
// Pathnames are printed as the kernel wrote them, spaces included.
//
// Semaphore sets and message queues are System V's other two kinds, as
// ipcs -s and ipcs -q list them. They have commands of their own (sem,
// msg) rather than ipcs's -m -s -q flags on ls: each kind has its own
// columns and JSON object, and ls and ls --json stay a list of segments.
// sem ls reads /proc/sysvipc/sem (shmmap.ListSemaphoreSets) and asks each
// set's semaphores for GETVAL, GETPID, GETNCNT and GETZCNT (which needs
// read permission; the counts are then "-", or null in JSON); msg ls reads
// /proc/sysvipc/msg (shmmap.ListQueues). The threads waiting on a set or
// queue are found in /proc/PID/task/TID/syscall: a thread asleep in semop
// or semtimedop (msgsnd or msgrcv) shows the call's number and its first
// argument, the id (for a 32-bit process, also ipc(2) and its second
// argument). Only threads of shmmap's IPC namespace whose syscall file the
// user may read (root: all) are found. sem rm refuses a set whose
// semaphores have waiters (GETNCNT or GETZCNT above 0) or that a thread is
// found waiting on; msg rm refuses a queue a thread is found waiting on,
// since the kernel keeps no count of a queue's waiters. Both name the
// waiters; --force removes the object anyway, and the waiters' calls fail
// with EIDRM.
//
// posix mq ls lists the mqueue file system mounted on /dev/mqueue (or
// --dir), the only place the kernel shows POSIX message queues; where none
// is mounted it fails and says how to mount one (mount -t mqueue none
// /dev/mqueue). Each queue's counts come from mq_getattr, and QSIZE and
// NOTIFY_PID from its file. The other posix mq commands need no mount.
//
// posix ls lists the regular files in /dev/shm, where glibc's shm_open
// keeps POSIX shared memory objects; names beginning sem. are glibc's named
// semaphores (sem_open) and are marked as such.
//
// # JSON output
//
// ls, stat, sem ls, sem stat, msg ls, msg stat, msg recv, maps, posix ls,
// posix mq ls, posix mq recv, ftok and layout take --json and then print one JSON
// value and a newline. The field names below are stable: fields may be
// added, but none is renamed or removed. Keys are strings of 0x and eight
// lower-case hex digits (the 32 bits of the key_t, as ipcs prints them);
// modes are strings of four octal digits; times are RFC 3339 strings, or
// null when the event never happened.
//
// ls prints an array of segments, sorted by shmid, and stat one segment:
//
//	key       string   "0x00001234"; "0x00000000" for a private segment or one removed while attached
//	shmid     number
//	owner     string   the owner's user name, or the uid in decimal if it has none
//	group     string   the owner's group name, or the gid in decimal
//	uid, gid, cuid, cgid   numbers: owner and creator
//	mode      string   permission bits, "0600"
//	size      number   bytes
//	nattch    number   attachments, as the kernel counts them
//	cpid      number   the process that created it
//	lpid      number   the process that last attached or detached it
//	atime, dtime       string or null: last attach, last detach
//	ctime     string   creation or last IPC_SET
//	removed   bool     IPC_RMID was called; destroyed at the last detach (ipcs: dest)
//	locked    bool     SHM_LOCK was called (ipcs: locked)
//	attached  array    the processes found attached: {"pid": number, "command": string, "access": "rw", "r", "w" or "-"}
//
// sem ls prints an array of semaphore sets, sorted by semid, and sem stat
// one set:
//
//	key       string   "0x00001234"; "0x00000000" for a private set
//	semid     number
//	owner, group, uid, gid, cuid, cgid, mode   as for ls
//	nsems     number   semaphores in the set
//	otime     string or null: the last semop
//	ctime     string   creation or last change (IPC_SET, SETVAL)
//	ncnt, zcnt  number or null (no read permission): GETNCNT and GETZCNT summed over the set
//	semaphores  array or null: {"num", "value" (GETVAL), "pid" (GETPID), "ncnt", "zcnt"}, numbers
//	waiters   array    the threads found waiting: {"pid": number, "tid": number, "command": string, "call": "semop" or "semtimedop"}
//
// msg ls prints an array of message queues, sorted by msqid, and msg stat
// one queue:
//
//	key       string   "0x00001234"; "0x00000000" for a private queue
//	msqid     number
//	owner, group, uid, gid, cuid, cgid, mode   as for ls
//	cbytes    number   bytes of message text queued (ipcs: used-bytes)
//	qnum      number   messages queued (ipcs: messages)
//	qbytes    number or null: msg_qbytes, the most bytes the queue holds (null where the kernel will not tell)
//	lspid, lrpid       numbers: the last msgsnd and msgrcv
//	stime, rtime       string or null: last send, last receive
//	ctime     string   creation or last IPC_SET
//	waiters   array    as for sem, with "call" "msgsnd" or "msgrcv"
//
// msg recv --json prints {"type": number, "size": number, "hex": string},
// and posix mq recv --json {"prio": number, "size": number, "hex": string}.
//
// maps prints an object:
//
//	pid       number
//	command   string   /proc/PID/comm
//	mappings  array of:
//	  start, end  string   addresses, "0x7f3a1c000000"
//	  size        number   end - start, bytes
//	  perms       string   "rw-s"
//	  offset      number   offset in the file
//	  dev         string   "00:01"
//	  inode       number   the shmid for a System V segment
//	  kind        string   "sysv", "posix" (/dev/shm), "memfd", "anon" (shared anonymous memory) or "file"
//	  path        string   the pathname exactly as the kernel printed it
//	  deleted     bool     the pathname ends in " (deleted)"
//	  key         string   System V segments only: the key in the name
//	  shmid       number   System V segments only
//
// posix ls prints an array of objects, sorted by name:
//
//	name      string   "/NAME", as given to shm_open
//	path      string   "/dev/shm/NAME"
//	kind      string   "shm", or "sem" for a glibc named semaphore (sem.NAME)
//	size      number   bytes
//	mode      string   "0600"
//	owner, group  strings, as for ls
//	uid, gid  numbers
//	mtime     string
//
// posix mq ls prints an array of queues, sorted by name:
//
//	name      string   "/NAME", as given to mq_open
//	path      string   "/dev/mqueue/NAME"
//	mode      string   "0600"
//	owner, group  strings, uid, gid numbers, as for ls
//	messages, maxmsg, msgsize  number or null (the queue could not be opened): mq_getattr's mq_curmsgs, mq_maxmsg, mq_msgsize
//	qsize     number   bytes queued, as the kernel counts them (QSIZE)
//	notify_pid  number   the process registered with mq_notify, 0 for none
//	mtime     string or null: last send or receive
//
// ftok prints an object: path (string), proj (number) and key (string).
//
// layout prints an object:
//
//	type          string   the C type, as given: "struct stats"
//	header        string   the header, as given
//	cflags        array of strings: the extra compiler flags (--cflags, then -m32)
//	size, align   numbers: sizeof and _Alignof
//	pointer_size  number   sizeof(void *) for the target: 8, or 4 with --m32
//	fields        array of {"name": the member's path ("hdr.count", "recs[0].id"), "offset": number, "size": number, "type": the C type}
//
// # Layouts
//
// layout compiles a probe of HEADER with the C compiler Go uses (go env CC)
// and reads the result from its debugging information, cross-checked with
// offsetof and sizeof (package github.com/shmmap/shmmap/layout); nothing is
// linked or run. layout --go writes the Go declarations with go tool cgo
// -godefs and needs the go tool.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/shmmap/shmmap"
	"github.com/shmmap/shmmap/internal/cport"
)

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// env is what a command runs with: the implementation chosen and the
// standard streams.
type env struct {
	implName string
	stdin    io.Reader
	stdout   io.Writer
	stderr   io.Writer
}

// system returns the API over the implementation chosen with -impl. A name
// this binary does not have is reported and the process exits with status
// 2, as for the ports.
func (e *env) system() *shmmap.System {
	return shmmap.Using(cport.MustImpl("shmmap", e.implName))
}

// A command is one subcommand of shmmap.
type command struct {
	name    string // as typed: "ls", "posix ls"
	args    string // the synopsis after the name: "[--json] SEG"
	summary string // one line for the list of commands
	help    string // what -h prints after the synopsis
	run     func(e *env, c *command, args []string) error
}

// commands are the subcommands in the order the usage lists them; posix
// has its own (posixCommands).
var commands = []*command{lsCmd, statCmd, createCmd, rmCmd, catCmd, writeCmd, mapsCmd, ftokCmd, layoutCmd, semCmd, msgCmd, posixCmd}

// lookup returns the command of list called name (the last word of its
// full name: "ls" for "posix ls"), or nil.
func lookup(list []*command, name string) *command {
	for _, c := range list {
		if c.name[strings.LastIndexByte(c.name, ' ')+1:] == name {
			return c
		}
	}
	return nil
}

// usageError is a mistake in the command line: exit status 2.
type usageError struct {
	cmd *command // nil for the top level
	msg string
}

// Error returns what is wrong with the command line.
func (u *usageError) Error() string { return u.msg }

// usagef returns a usageError for c.
func usagef(c *command, format string, args ...any) error {
	return &usageError{cmd: c, msg: fmt.Sprintf(format, args...)}
}

// errHelp is returned when help was asked for and printed: exit status 0.
var errHelp = errors.New("help printed")

// main runs the command line and exits with its status.
func main() {
	e := &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}
	os.Exit(run(e, os.Args[1:]))
}

// run runs the command line args (without the program name) and returns
// the exit status.
func run(e *env, args []string) int {
	err := dispatch(e, args)
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, errHelp):
		return exitOK
	case errors.As(err, &ue):
		name := "shmmap"
		if ue.cmd != nil {
			name += " " + ue.cmd.name
			fmt.Fprintf(e.stderr, "%s: %s\nusage: %s %s\nRun '%s -h' for help.\n", name, ue.msg, name, ue.cmd.args, name)
		} else {
			fmt.Fprintf(e.stderr, "%s: %s\nusage: shmmap [-impl cshim|purego] COMMAND [ARGS]\nRun 'shmmap -h' for the list of commands.\n", name, ue.msg)
		}
		return exitUsage
	default:
		// One line per error (posix rm reports each name it could not
		// remove).
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintf(e.stderr, "shmmap: %s\n", line)
		}
		return exitFailure
	}
}

// dispatch parses the global flags and runs the command.
func dispatch(e *env, args []string) error {
	fs := newFlagSet("shmmap")
	implName := cport.ImplFlag(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(e.stdout)
			return errHelp
		}
		return &usageError{msg: err.Error()}
	}
	e.implName = *implName
	args = fs.Args()
	if len(args) == 0 {
		return &usageError{msg: "no command given"}
	}
	if args[0] == "help" {
		return help(e, args[1:])
	}
	c := lookup(commands, args[0])
	if c == nil {
		return &usageError{msg: fmt.Sprintf("unknown command %q", args[0])}
	}
	return c.run(e, c, args[1:])
}

// help prints the usage, or the help of the command named in args.
func help(e *env, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		printUsage(e.stdout)
		return errHelp
	}
	c := lookup(commands, args[0])
	if c == nil {
		return &usageError{msg: fmt.Sprintf("help: unknown command %q", args[0])}
	}
	return c.run(e, c, append(args[1:], "-h"))
}

// printUsage prints the list of commands.
func printUsage(w io.Writer) {
	fmt.Fprintf(w, "usage: shmmap [-impl cshim|purego] COMMAND [ARGS]\n\n")
	fmt.Fprintf(w, "System V shared memory segments, semaphore sets and message queues, POSIX shared memory objects and message queues, and shared mappings.\n\nCommands:\n")
	// Groups of commands are listed by their subcommands.
	groups := map[*command][]*command{semCmd: semCommands, msgCmd: msgCommands, posixCmd: posixCommands, posixMqCmd: mqCommands}
	var list []*command
	var expand func(cs []*command)
	expand = func(cs []*command) {
		for _, c := range cs {
			if subs, ok := groups[c]; ok {
				expand(subs)
			} else {
				list = append(list, c)
			}
		}
	}
	expand(commands)
	for _, c := range list {
		fmt.Fprintf(w, "  %-14s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "  %-14s %s\n", "help", "help on a command (or COMMAND -h)")
	fmt.Fprintf(w, "\n%s\n\nGlobal flags:\n  -impl cshim|purego\n\timplementation of the C calls (default purego)\n", segHelp)
	fmt.Fprintf(w, "\nExit status: 0 success, 1 failure, 2 usage error.\n")
}
