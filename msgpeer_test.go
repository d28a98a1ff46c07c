package shmmap_test

// The C side of the message-queue cross-process tests: testdata/msgpeer.c
// driven against itself (C to C, and C to 32-bit C where the machine runs
// those), each test in a private IPC namespace. The Go halves (the root
// package's Queue and package posixmq) are to slot in later as more
// mpScriptSide implementations and more peers next to the C ones; the
// script generator below is the Go re-implementation of the one documented
// in msgpeer.c, checked here against the C peer's own output.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	"github.com/shmmap/shmmap"
	"github.com/shmmap/shmmap/impls"
	"github.com/shmmap/shmmap/shmtest"
	"golang.org/x/sys/unix"
)

// The msgrcv flags x/sys/unix does not define (<linux/msg.h>).
const (
	mpMsgNoError = 0o10000
	mpMsgExcept  = 0o20000
)

// mpTimeout bounds the wait for one answer of a peer (and for a peer to
// fall asleep in a blocking call), so a wedged peer fails the test with its
// output rather than hanging it.
const mpTimeout = 20 * time.Second

// mpBuild is the C peer built for one ABI.
type mpBuild struct {
	name string // "C" or "C-m32"
	path string
}

// mpBuilds builds testdata/msgpeer.c as the C compiler builds it by default
// and, where the machine builds and runs 32-bit programs, with -m32 (the
// test log says why not otherwise). -lrt is for glibc before 2.34, where
// mq_open lived in librt.
func mpBuilds(t *testing.T) []mpBuild {
	t.Helper()
	builds := []mpBuild{{"C", shmtest.BuildC(t, "testdata/msgpeer.c", "-lrt")}}
	if ok, reason := shmtest.CanRun32(); ok {
		builds = append(builds, mpBuild{"C-m32", shmtest.BuildC(t, "testdata/msgpeer.c", "-m32", "-lrt")})
	} else {
		t.Logf("no 32-bit C peer (C-m32) in the matrix: %s", reason)
	}
	return builds
}

// mpPairs is every (first, second) pair to run a two-peer test with: C with
// C, and C with C-m32 both ways where there is a 32-bit peer, so that the
// kernel's translation of a 32-bit long mtype is crossed in both directions.
func mpPairs(t *testing.T) [][2]mpBuild {
	b := mpBuilds(t)
	pairs := [][2]mpBuild{{b[0], b[0]}}
	if len(b) > 1 {
		pairs = append(pairs, [2]mpBuild{b[0], b[1]}, [2]mpBuild{b[1], b[0]})
	}
	return pairs
}

// mpPeer drives one msgpeer process: one command line in, one answer line
// out (see the comment at the top of msgpeer.c).
type mpPeer struct {
	name string
	proc *shmtest.Process
	last string // the last command, for failure messages
}

// startMP starts the peer bin from the calling goroutine (so after Isolate
// in the test's namespace), as nobody if unprivileged is set.
func startMP(t *testing.T, name, bin string, unprivileged bool) *mpPeer {
	t.Helper()
	cmd := exec.Command(bin)
	if unprivileged {
		cmd.Dir = shmtest.SharedDir(t)
		shmtest.Unprivileged(cmd)
	}
	p := &mpPeer{name: name, proc: shmtest.Start(t, cmd)}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the last command sent to peer %s (pid %d): %q", p.name, p.proc.Pid(), p.last)
		}
	})
	return p
}

// send writes a command without waiting for its answer: for a command that
// blocks, whose answer the test reads later with answer.
func (p *mpPeer) send(t *testing.T, format string, args ...any) {
	t.Helper()
	p.last = fmt.Sprintf(format, args...)
	p.proc.Send(t, p.last)
}

// answer reads the peer's next answer; a "bad" answer (the peer could not
// parse the command) fails the test.
func (p *mpPeer) answer(t *testing.T) string {
	t.Helper()
	line := p.proc.WaitLine(t, "", mpTimeout)
	if strings.HasPrefix(line, "bad") {
		t.Fatalf("peer %s refused %q: %s", p.name, p.last, line)
	}
	return line
}

// do sends a command and returns its answer.
func (p *mpPeer) do(t *testing.T, format string, args ...any) string {
	t.Helper()
	p.send(t, format, args...)
	return p.answer(t)
}

// ok sends a command that must succeed and returns its answer without the
// "ok" (and the space after it).
func (p *mpPeer) ok(t *testing.T, format string, args ...any) string {
	t.Helper()
	a := p.do(t, format, args...)
	if a != "ok" && !strings.HasPrefix(a, "ok ") {
		t.Fatalf("peer %s: %q: %s", p.name, p.last, a)
	}
	return strings.TrimPrefix(strings.TrimPrefix(a, "ok"), " ")
}

// fails sends a command that must fail with errno want.
func (p *mpPeer) fails(t *testing.T, want unix.Errno, format string, args ...any) {
	t.Helper()
	if got := p.do(t, format, args...); got != mpErr(want) {
		t.Errorf("peer %s: %q: got %q, want %q (%v)", p.name, p.last, got, mpErr(want), want)
	}
}

// mpErr is the peer's answer for a call that failed with e.
func mpErr(e unix.Errno) string { return fmt.Sprintf("err %d", int(e)) }

// fields parses "k=v k=v ..." (the answers of stat, info and mqattr).
func (p *mpPeer) fields(t *testing.T, format string, args ...any) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, f := range strings.Fields(p.ok(t, format, args...)) {
		k, v, found := strings.Cut(f, "=")
		if !found {
			t.Fatalf("peer %s: %q: a field without '=': %q", p.name, p.last, f)
		}
		m[k] = v
	}
	return m
}

// waitAsleep waits until the peer sleeps in the kernel in one of the
// functions named (its /proc/PID/wchan), state S: it has entered the
// blocking call the test sent it and nothing has woken it. For System V
// queues the kernel sleeps in do_msgsnd and do_msgrcv; for POSIX queues in
// wq_sleep (both directions).
func (p *mpPeer) waitAsleep(t *testing.T, wchan ...string) {
	t.Helper()
	pid := p.proc.Pid()
	what := fmt.Sprintf("peer %s (pid %d) asleep in %s after %q", p.name, pid, strings.Join(wchan, " or "), p.last)
	shmtest.WaitFor(t, what, mpTimeout, func() bool {
		w, err := os.ReadFile(fmt.Sprintf("/proc/%d/wchan", pid))
		if err != nil || !slices.Contains(wchan, string(w)) {
			return false
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return false
		}
		// The state follows the parenthesised command name.
		_, after, _ := strings.Cut(string(stat), ") ")
		return strings.HasPrefix(after, "S")
	}, p.proc)
}

// noAnswerYet fails the test if the peer has answered the blocking command
// it was sent: it has printed n lines so far and must not have printed more.
func (p *mpPeer) noAnswerYet(t *testing.T, n int) {
	t.Helper()
	if got := strings.Count(p.proc.Stdout(), "\n"); got != n {
		t.Fatalf("peer %s answered %q while it should be blocked: %q", p.name, p.last, p.proc.Stdout())
	}
}

// lines is the number of answers the peer has printed.
func (p *mpPeer) lines() int { return strings.Count(p.proc.Stdout(), "\n") }

// mpSysctl reads a number from /proc/sys: on the test's goroutine after
// Isolate, the value in the test's namespace.
func mpSysctl(t *testing.T, name string) int {
	t.Helper()
	b, err := os.ReadFile("/proc/sys/" + name)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("/proc/sys/%s: %v", name, err)
	}
	return n
}

// mpProcMsg returns the /proc/sysvipc/msg line for queue id, as a map from
// the header's column names.
func mpProcMsg(t *testing.T, id string) map[string]string {
	t.Helper()
	b, err := os.ReadFile("/proc/sysvipc/msg")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	head := strings.Fields(lines[0])
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) != len(head) {
			t.Fatalf("/proc/sysvipc/msg: %q does not match the header %q", l, lines[0])
		}
		m := map[string]string{}
		for i, h := range head {
			m[h] = f[i]
		}
		if m["msqid"] == id {
			return m
		}
	}
	t.Fatalf("no queue %s in /proc/sysvipc/msg:\n%s", id, b)
	return nil
}

// mpRemoveAtEnd removes System V queue id when the test ends, from the
// test's goroutine (so in its namespace), unless the test removed it: a
// test stopped half-way leaves nothing behind. It runs before NoLeaks's
// check if registered after NoLeaks.
func mpRemoveAtEnd(t *testing.T, id string) {
	t.Helper()
	n, err := strconv.Atoi(id)
	if err != nil {
		t.Fatalf("queue id %q: %v", id, err)
	}
	t.Cleanup(func() {
		_, _, e := unix.Syscall(unix.SYS_MSGCTL, uintptr(n), unix.IPC_RMID, 0)
		if e != 0 && e != unix.EINVAL && e != unix.EIDRM {
			t.Errorf("removing queue %d: %v", n, e)
		}
	})
}

// mpUnlinkAtEnd unlinks POSIX queue name when the test ends, from the
// test's goroutine, unless the test did. (The kernel's mq_unlink takes the
// name without glibc's leading slash.)
func mpUnlinkAtEnd(t *testing.T, name string) {
	t.Helper()
	p, err := unix.BytePtrFromString(strings.TrimPrefix(name, "/"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _, e := unix.Syscall(unix.SYS_MQ_UNLINK, uintptr(unsafe.Pointer(p)), 0, 0)
		if e != 0 && e != unix.ENOENT {
			t.Errorf("mq_unlink(%s): %v", name, e)
		}
	})
}

// mpHex is how the peer writes bytes: lowercase hex, "-" for none.
func mpHex(b []byte) string {
	if len(b) == 0 {
		return "-"
	}
	return fmt.Sprintf("%x", b)
}

// TestMsgpeerSysV drives two C peers through a System V queue: creation and
// lookup, every kind of msgtyp selection, truncation, the errors, a sender
// blocked on a full queue until the other peer receives, and a receiver
// blocked on an empty queue woken with EIDRM when the other peer removes it.
// IPC_STAT is held to /proc/sysvipc/msg and to what the test did.
func TestMsgpeerSysV(t *testing.T) {
	for _, pair := range mpPairs(t) {
		t.Run(pair[0].name+"-"+pair[1].name, func(t *testing.T) {
			shmtest.Isolate(t)
			shmtest.NoLeaks(t)
			a := startMP(t, "A", pair[0].path, false)
			b := startMP(t, "B", pair[1].path, false)
			const key = 0x5107
			msgmnb, msgmax := mpSysctl(t, "kernel/msgmnb"), mpSysctl(t, "kernel/msgmax")

			// Creation and lookup.
			id := a.ok(t, "get %#x %#o", key, unix.IPC_CREAT|unix.IPC_EXCL|0o600)
			mpRemoveAtEnd(t, id)
			if got := b.ok(t, "get %#x 0", key); got != id {
				t.Fatalf("B found queue %s at key %#x, A made %s", got, key, id)
			}
			b.fails(t, unix.EEXIST, "get %#x %#o", key, unix.IPC_CREAT|unix.IPC_EXCL|0o600)
			b.fails(t, unix.ENOENT, "get %#x 0", key+1)
			b.ok(t, "id %s", id) // the failed gets left B's queue alone, but say so

			// A new queue: empty, msgmnb bytes, the mode it was made with;
			// the limits as IPC_INFO gives them are the namespace's sysctls.
			st := b.fields(t, "stat")
			want := map[string]string{"key": fmt.Sprintf("0x%08x", key), "qnum": "0", "cbytes": "0",
				"qbytes": strconv.Itoa(msgmnb), "lspid": "0", "lrpid": "0", "mode": "0600"}
			for k, v := range want {
				if st[k] != v {
					t.Errorf("stat of a new queue: %s=%s, want %s (all: %v)", k, st[k], v, st)
				}
			}
			info := b.fields(t, "info")
			if info["msgmax"] != strconv.Itoa(msgmax) || info["msgmnb"] != strconv.Itoa(msgmnb) {
				t.Errorf("info %v, but /proc/sys/kernel has msgmax %d, msgmnb %d", info, msgmax, msgmnb)
			}
			ms := b.fields(t, "msgstat %s", info["highest"])
			if ms["id"] != id || ms["key"] != want["key"] {
				t.Errorf("msgstat of the highest index %s: %v, want queue %s", info["highest"], ms, id)
			}

			// Selection. A sends, in this order (type, bytes):
			sent := []struct {
				typ  int
				data string
			}{{3, "c1"}, {1, "a1"}, {2, "b1"}, {1, "a2"}, {3, "c2"}, {5, ""}}
			cbytes := 0
			for _, m := range sent {
				a.ok(t, "snd %d %s 0", m.typ, mpHex([]byte(m.data)))
				cbytes += len(m.data)
			}
			st = b.fields(t, "stat")
			if st["qnum"] != strconv.Itoa(len(sent)) || st["cbytes"] != strconv.Itoa(cbytes) ||
				st["lspid"] != strconv.Itoa(a.proc.Pid()) || st["lrpid"] != "0" {
				t.Errorf("stat after %d sends of %d bytes by pid %d: %v", len(sent), cbytes, a.proc.Pid(), st)
			}
			// And B takes them with these selections; each expected message
			// follows from msgrcv(2) and what is left in the queue.
			for _, r := range []struct {
				msgtyp, flags int
				want          string
			}{
				{1, 0, "ok 1 " + mpHex([]byte("a1"))},                  // the first of type 1
				{-2, 0, "ok 1 " + mpHex([]byte("a2"))},                 // the lowest type <= 2 is 1: a2, the only 1 left
				{3, mpMsgExcept, "ok 2 " + mpHex([]byte("b1"))},        // the first not of type 3
				{0, 0, "ok 3 " + mpHex([]byte("c1"))},                  // the first of all
				{-4, 0, "ok 3 " + mpHex([]byte("c2"))},                 // left: c2 (3), "" (5): the lowest <= 4
				{4, unix.IPC_NOWAIT, mpErr(unix.ENOMSG)},               // only type 5 is left
				{5, mpMsgExcept | unix.IPC_NOWAIT, mpErr(unix.ENOMSG)}, // and nothing else
				{0, 0, "ok 5 -"},                         // the empty message
				{0, unix.IPC_NOWAIT, mpErr(unix.ENOMSG)}, // the queue is empty
			} {
				if got := b.do(t, "rcv 100 %d %#o", r.msgtyp, r.flags); got != r.want {
					t.Errorf("rcv msgtyp %d flags %#o: %q, want %q", r.msgtyp, r.flags, got, r.want)
				}
			}
			st = b.fields(t, "stat")
			if st["qnum"] != "0" || st["cbytes"] != "0" || st["lrpid"] != strconv.Itoa(b.proc.Pid()) {
				t.Errorf("stat after B emptied the queue (B is pid %d): %v", b.proc.Pid(), st)
			}

			// Too long for the buffer: E2BIG leaves it in the queue,
			// MSG_NOERROR takes it cut to the buffer.
			a.ok(t, "snd 7 %s 0", mpHex([]byte("0123456789")))
			b.fails(t, unix.E2BIG, "rcv 4 0 0")
			if st = b.fields(t, "stat"); st["qnum"] != "1" || st["cbytes"] != "10" {
				t.Errorf("stat after the E2BIG: %v, want the 10-byte message still there", st)
			}
			if got, want := b.do(t, "rcv 4 0 %#o", mpMsgNoError), "ok 7 "+mpHex([]byte("0123")); got != want {
				t.Errorf("rcv 4 with MSG_NOERROR: %q, want %q", got, want)
			}

			// Bad arguments. The largest message, msgmax bytes, goes
			// through whole; one byte more is EINVAL.
			a.fails(t, unix.EINVAL, "snd 0 00 %#o", unix.IPC_NOWAIT)
			a.fails(t, unix.EINVAL, "snd -1 00 %#o", unix.IPC_NOWAIT)
			big := make([]byte, msgmax+1)
			for i := range big {
				big[i] = byte(i * 7)
			}
			a.fails(t, unix.EINVAL, "snd 1 %s %#o", mpHex(big), unix.IPC_NOWAIT)
			a.ok(t, "snd 9 %s %#o", mpHex(big[:msgmax]), unix.IPC_NOWAIT)
			if got, want := b.do(t, "rcv %d 0 0", msgmax), "ok 9 "+mpHex(big[:msgmax]); got != want {
				t.Errorf("rcv of the %d-byte message: got %d characters, want %d (first 40: %.40q, want %.40q)",
					msgmax, len(got), len(want), got, want)
			}
			b.fails(t, unix.EINVAL, "rcv -1 0 %#o", unix.IPC_NOWAIT)

			// A full queue: EAGAIN with IPC_NOWAIT, and without it the sender
			// sleeps until B makes room.
			a.ok(t, "setqbytes 10")
			a.ok(t, "snd 1 %s %#o", mpHex([]byte("ten bytes!")), unix.IPC_NOWAIT)
			a.fails(t, unix.EAGAIN, "snd 1 %s %#o", mpHex([]byte("x")), unix.IPC_NOWAIT)
			if st = b.fields(t, "stat"); st["qbytes"] != "10" || st["cbytes"] != "10" || st["qnum"] != "1" {
				t.Errorf("stat of the full queue: %v", st)
			}
			n := a.lines()
			a.send(t, "snd 2 %s 0", mpHex([]byte("ab")))
			a.waitAsleep(t, "do_msgsnd")
			a.noAnswerYet(t, n)
			if got, want := b.do(t, "rcv 100 0 0"), "ok 1 "+mpHex([]byte("ten bytes!")); got != want {
				t.Errorf("B's receive from the full queue: %q, want %q", got, want)
			}
			if got := a.answer(t); got != "ok" {
				t.Errorf("A's blocked send, after B made room: %q, want ok", got)
			}
			if got, want := b.do(t, "rcv 100 0 0"), "ok 2 "+mpHex([]byte("ab")); got != want {
				t.Errorf("the message A's blocked send sent: %q, want %q", got, want)
			}

			// IPC_STAT against the kernel's own listing.
			st = b.fields(t, "stat")
			proc := mpProcMsg(t, id)
			for _, f := range []string{"qnum", "cbytes", "lspid", "lrpid", "uid", "gid", "cuid", "cgid", "stime", "rtime", "ctime"} {
				if st[f] != proc[f] {
					t.Errorf("stat %s=%s, /proc/sysvipc/msg says %s", f, st[f], proc[f])
				}
			}
			if st["mode"] != "0"+proc["perms"] {
				t.Errorf("stat mode=%s, /proc/sysvipc/msg perms %s", st["mode"], proc["perms"])
			}
			if k, _ := strconv.ParseInt(proc["key"], 10, 64); k != key {
				t.Errorf("/proc/sysvipc/msg has key %s for queue %s, want %d", proc["key"], id, key)
			}

			// Removal wakes a blocked receiver with EIDRM.
			n = b.lines()
			b.send(t, "rcv 100 0 0")
			b.waitAsleep(t, "do_msgrcv")
			b.noAnswerYet(t, n)
			a.ok(t, "rmid")
			if got := b.answer(t); got != mpErr(unix.EIDRM) {
				t.Errorf("B's receive blocked on the queue A removed: %q, want %q (EIDRM)", got, mpErr(unix.EIDRM))
			}
			b.fails(t, unix.EINVAL, "stat")
			a.fails(t, unix.ENOENT, "get %#x 0", key)
		})
	}
}

// TestMsgpeerPermissions: a queue's mode governs another user's peer, for
// System V (msgget asking for access, msgsnd, msgrcv, IPC_STAT) and POSIX
// (mq_open) queues.
func TestMsgpeerPermissions(t *testing.T) {
	shmtest.RequireRoot(t)
	shmtest.Isolate(t)
	shmtest.NoLeaks(t)
	bin := mpBuilds(t)[0].path
	root := startMP(t, "root", bin, false)
	nobody := startMP(t, "nobody", bin, true)

	const key = 0x5108
	id := root.ok(t, "get %#x %#o", key, unix.IPC_CREAT|0o600)
	mpRemoveAtEnd(t, id)
	root.ok(t, "snd 1 aa 0")
	// Asking for no access finds the queue; asking for read does not.
	nobody.fails(t, unix.EACCES, "get %#x 0400", key)
	if got := nobody.ok(t, "get %#x 0", key); got != id {
		t.Fatalf("nobody found queue %s, root made %s", got, id)
	}
	nobody.fails(t, unix.EACCES, "snd 1 bb %#o", unix.IPC_NOWAIT)
	nobody.fails(t, unix.EACCES, "rcv 10 0 %#o", unix.IPC_NOWAIT)
	nobody.fails(t, unix.EACCES, "stat")
	nobody.fails(t, unix.EPERM, "rmid") // only the owner, creator or a privileged process
	root.ok(t, "setperm 0 0 0606")
	nobody.ok(t, "snd 1 bb %#o", unix.IPC_NOWAIT)
	if got := nobody.do(t, "rcv 10 0 %#o", unix.IPC_NOWAIT); got != "ok 1 aa" {
		t.Errorf("nobody's receive once the mode is 0606: %q, want \"ok 1 aa\"", got)
	}
	if st := nobody.fields(t, "stat"); st["mode"] != "0606" {
		t.Errorf("stat after setperm 0606: mode=%s", st["mode"])
	}
	root.ok(t, "rmid")

	const name = "/msgpeer-perm"
	root.ok(t, "mqopen %s %#o 0600 0 0", name, unix.O_CREAT|unix.O_EXCL|unix.O_RDWR)
	mpUnlinkAtEnd(t, name)
	nobody.fails(t, unix.EACCES, "mqopen %s %#o 0 0 0", name, unix.O_WRONLY)
	root.ok(t, "mqunlink %s", name)
	root.ok(t, "mqclose")
}

// TestMsgpeerPOSIX drives two C peers through a POSIX queue: priorities,
// mq_getattr counts, O_NONBLOCK (per descriptor), timeouts, EMSGSIZE both
// ways, blocked receivers and senders woken by the other peer, mq_notify
// across processes, and unlink.
func TestMsgpeerPOSIX(t *testing.T) {
	for _, pair := range mpPairs(t) {
		t.Run(pair[0].name+"-"+pair[1].name, func(t *testing.T) {
			// POSIX queues belong to the IPC namespace as well: the name is
			// this test's alone.
			shmtest.Isolate(t)
			a := startMP(t, "A", pair[0].path, false)
			b := startMP(t, "B", pair[1].path, false)
			const name = "/msgpeer"
			rdwr := unix.O_RDWR
			a.ok(t, "mqopen %s %#o 0600 4 64", name, unix.O_CREAT|unix.O_EXCL|rdwr)
			mpUnlinkAtEnd(t, name)
			b.fails(t, unix.EEXIST, "mqopen %s %#o 0600 4 64", name, unix.O_CREAT|unix.O_EXCL|rdwr)
			b.fails(t, unix.ENOENT, "mqopen /msgpeer-none %#o 0 0 0", rdwr)
			b.fails(t, unix.EINVAL, "mqopen no-slash/x %#o 0600 4 64", unix.O_CREAT|rdwr)
			b.ok(t, "mqopen %s %#o 0 0 0", name, rdwr)
			attr := func(p *mpPeer, flags, curmsgs string) {
				t.Helper()
				want := map[string]string{"flags": flags, "maxmsg": "4", "msgsize": "64", "curmsgs": curmsgs}
				if got := p.fields(t, "mqattr"); !cmp.Equal(got, want) {
					t.Errorf("mqattr of %s: %v, want %v", p.name, got, want)
				}
			}
			attr(b, "0", "0")

			// Priorities: highest first, first-in first-out within one.
			for _, m := range []struct {
				prio int
				data string
			}{{1, "p1"}, {5, "p5a"}, {3, "p3"}, {5, "p5b"}} {
				a.ok(t, "mqsnd %d %s", m.prio, mpHex([]byte(m.data)))
			}
			attr(b, "0", "4")
			// The queue is full (4): a timeout in the present ends at once,
			// a non-blocking descriptor says EAGAIN, and a message longer than
			// mq_msgsize is EMSGSIZE before anything else.
			a.fails(t, unix.ETIMEDOUT, "mqsnd 0 00 0")
			a.fails(t, unix.EINVAL, "mqsnd 0 00 -1") // an invalid timespec, checked as the call would block
			if got := a.fields(t, "mqsetattr 1"); got["flags"] != "0" {
				t.Errorf("mqsetattr returned the old flags %s, want 0", got["flags"])
			}
			a.fails(t, unix.EAGAIN, "mqsnd 0 00")
			a.fails(t, unix.EMSGSIZE, "mqsnd 0 %s", mpHex(make([]byte, 65)))
			attr(a, fmt.Sprintf("%#o", unix.O_NONBLOCK), "4")
			attr(b, "0", "4") // O_NONBLOCK is A's descriptor's, not the queue's
			b.fails(t, unix.EMSGSIZE, "mqrcv 63")
			for _, want := range []string{"5 " + mpHex([]byte("p5a")), "5 " + mpHex([]byte("p5b")),
				"3 " + mpHex([]byte("p3")), "1 " + mpHex([]byte("p1"))} {
				if got := b.do(t, "mqrcv 64"); got != "ok "+want {
					t.Errorf("mqrcv: %q, want %q", got, "ok "+want)
				}
			}
			attr(b, "0", "0")
			b.fails(t, unix.ETIMEDOUT, "mqrcv 64 10")
			a.fails(t, unix.EAGAIN, "mqrcv 64")

			// A receiver blocked on the empty queue takes what A sends.
			n := b.lines()
			b.send(t, "mqrcv 64")
			b.waitAsleep(t, "wq_sleep")
			b.noAnswerYet(t, n)
			a.ok(t, "mqsnd 7 %s", mpHex([]byte("hi")))
			if got, want := b.answer(t), "ok 7 "+mpHex([]byte("hi")); got != want {
				t.Errorf("B's blocked receive: %q, want %q", got, want)
			}

			// A sender blocked on the full queue goes on when B receives.
			a.ok(t, "mqsetattr 0")
			for i := range 4 {
				a.ok(t, "mqsnd 2 %02x", i)
			}
			n = a.lines()
			a.send(t, "mqsnd 9 %s", mpHex([]byte("last")))
			a.waitAsleep(t, "wq_sleep")
			a.noAnswerYet(t, n)
			if got := b.do(t, "mqrcv 64"); got != "ok 2 00" {
				t.Errorf("B's receive from the full queue: %q, want \"ok 2 00\"", got)
			}
			if got := a.answer(t); got != "ok" {
				t.Errorf("A's blocked send, after B made room: %q", got)
			}
			for _, want := range []string{"9 " + mpHex([]byte("last")), "2 01", "2 02", "2 03"} {
				if got := b.do(t, "mqrcv 64 0"); got != "ok "+want {
					t.Errorf("mqrcv: %q, want %q", got, "ok "+want)
				}
			}

			// One process at a time may be notified; a message arriving on
			// the empty queue signals it (during the sender's call, so before
			// A reads its next command) and unregisters it.
			a.ok(t, "mqnotify signal")
			b.fails(t, unix.EBUSY, "mqnotify none")
			b.ok(t, "mqsnd 0 -")
			if got := a.ok(t, "signals"); got != "1" {
				t.Errorf("A's SIGUSR1s after B's send to the empty queue: %s, want 1", got)
			}
			b.ok(t, "mqnotify none")
			b.ok(t, "mqnotify off")
			if got := a.do(t, "mqrcv 64"); got != "ok 0 -" {
				t.Errorf("the empty message: %q", got)
			}

			// Unlink removes the name; open descriptors go on working.
			a.ok(t, "mqunlink %s", name)
			a.fails(t, unix.ENOENT, "mqunlink %s", name)
			b.fails(t, unix.ENOENT, "mqopen %s %#o 0 0 0", name, rdwr)
			a.ok(t, "mqsnd 1 %s", mpHex([]byte("after")))
			if got, want := b.do(t, "mqrcv 64 0"), "ok 1 "+mpHex([]byte("after")); got != want {
				t.Errorf("after unlink: %q, want %q", got, want)
			}
			a.ok(t, "mqclose")
			a.fails(t, unix.EBADF, "mqclose")
		})
	}
}

// The script generator of testdata/msgpeer.c ("Scripts" in its header
// comment), in Go: the C peer's records must match it, and a Go half run
// against the C peer generates its messages and receive steps with it.

// mpRNG is the generator's state: next is xorshift64.
type mpRNG uint64

func (x *mpRNG) next() uint64 {
	v := uint64(*x)
	v ^= v << 13
	v ^= v >> 7
	v ^= v << 17
	*x = mpRNG(v)
	return v
}

// mpStart is the state for message or step i of seed.
func mpStart(seed, i uint64) mpRNG {
	x := seed + (i+1)*0x9E3779B97F4A7C15
	if x == 0 {
		x = 1
	}
	return mpRNG(x)
}

// mpMessage returns message i of script seed, at most max bytes long: its
// class (System V mtype class+1, POSIX priority class) and its bytes.
func mpMessage(seed, i uint64, max int) (class int, data []byte) {
	x := mpStart(seed, i)
	class = int(x.next() % 8)
	k := x.next() % 16
	var n int
	switch k {
	case 0:
	case 1:
		n = max
	default:
		n = int(x.next() % uint64(max+1))
	}
	data = make([]byte, n)
	for j := range data {
		data[j] = byte(x.next() >> 56)
	}
	return class, data
}

// mpStep returns System V receive step i of script seed: msgtyp and flags.
func mpStep(seed, i uint64) (msgtyp int64, flags int) {
	x := mpStart(^seed, i)
	kind := x.next() % 4
	t := 1 + int64(x.next()%8)
	flags = unix.IPC_NOWAIT
	switch kind {
	case 1:
		msgtyp = t
	case 2:
		msgtyp = -t
	case 3:
		msgtyp = t
		flags |= mpMsgExcept
	}
	return msgtyp, flags
}

// mpRecord is a message as a script record describes it: "TYPE LEN FNV"
// (TYPE is the POSIX priority for a POSIX script).
type mpRecord struct {
	typ int64
	n   int
	sum uint64
}

func (r mpRecord) String() string { return fmt.Sprintf("%d %d %016x", r.typ, r.n, r.sum) }

// mpRecordOf describes data sent or received with type (or priority) typ.
func mpRecordOf(typ int64, data []byte) mpRecord {
	h := fnv.New64a()
	h.Write(data)
	return mpRecord{typ, len(data), h.Sum64()}
}

// mpScript is a script's messages, generated once: what each side must send.
type mpScript struct {
	seed uint64
	max  int
	msgs []mpRecord // message i with its System V type (class+1)
}

func newMPScript(seed uint64, n, max int) *mpScript {
	s := &mpScript{seed: seed, max: max, msgs: make([]mpRecord, n)}
	for i := range s.msgs {
		class, data := mpMessage(seed, uint64(i), max)
		s.msgs[i] = mpRecordOf(int64(class)+1, data)
	}
	return s
}

// batches cuts the script into runs of at most most messages whose bytes
// fit in qbytes together, so that the sender never blocks on a batch.
func (s *mpScript) batches(qbytes, most int) [][2]int {
	var out [][2]int
	for from := 0; from < len(s.msgs); {
		to, size := from, 0
		for to < len(s.msgs) && to-from < most && size+s.msgs[to].n <= qbytes {
			size += s.msgs[to].n
			to++
		}
		if to == from {
			panic(fmt.Sprintf("message %d (%d bytes) does not fit in %d", from, s.msgs[from].n, qbytes))
		}
		out = append(out, [2]int{from, to})
		from = to
	}
	return out
}

// sysvRecords is what a System V run of the script in these batches must
// record, from the messages and the steps alone: sndscript's records, and
// rcvscript's, by msgrcv(2)'s rules (msgtyp 0: the first message; > 0: the
// first of that type, or with MSG_EXCEPT the first of another; < 0: the
// first of the lowest type not above -msgtyp; ENOMSG if there is none),
// each batch ending in a drain.
func (s *mpScript) sysvRecords(batches [][2]int) (sent, received string) {
	var snd, rcv strings.Builder
	for _, b := range batches {
		queue := slices.Clone(s.msgs[b[0]:b[1]])
		for _, m := range queue {
			fmt.Fprintf(&snd, "%v\n", m)
		}
		step := func(msgtyp int64, flags int) bool {
			at := -1
			for i, m := range queue {
				switch {
				case msgtyp == 0:
				case msgtyp > 0 && flags&mpMsgExcept == 0 && m.typ != msgtyp:
					continue
				case msgtyp > 0 && flags&mpMsgExcept != 0 && m.typ == msgtyp:
					continue
				case msgtyp < 0 && (m.typ > -msgtyp || at >= 0 && m.typ >= queue[at].typ):
					continue
				}
				at = i
				if msgtyp >= 0 {
					break
				}
			}
			if at < 0 {
				fmt.Fprintf(&rcv, "%d %#o err %d\n", msgtyp, flags, int(unix.ENOMSG))
				return false
			}
			fmt.Fprintf(&rcv, "%d %#o %v\n", msgtyp, flags, queue[at])
			queue = slices.Delete(queue, at, at+1)
			return true
		}
		for i := b[0]; i < b[1]; i++ {
			step(mpStep(s.seed, uint64(i)))
		}
		for step(0, unix.IPC_NOWAIT) {
		}
	}
	return snd.String(), rcv.String()
}

// posixRecords is what a POSIX run in these batches must record: the
// priority is the class, and a batch comes out highest priority first,
// first in first out within one, ending with the receive that finds the
// queue empty (ETIMEDOUT: the descriptor blocks, the timeout is past).
func (s *mpScript) posixRecords(batches [][2]int) (sent, received string) {
	var snd, rcv strings.Builder
	for _, b := range batches {
		queue := slices.Clone(s.msgs[b[0]:b[1]])
		for i := range queue {
			queue[i].typ-- // the class
			fmt.Fprintf(&snd, "%v\n", queue[i])
		}
		slices.SortStableFunc(queue, func(x, y mpRecord) int { return int(y.typ - x.typ) })
		for _, m := range queue {
			fmt.Fprintf(&rcv, "%v\n", m)
		}
		fmt.Fprintf(&rcv, "err %d\n", int(unix.ETIMEDOUT))
	}
	return snd.String(), rcv.String()
}

// mpScriptSide is one end of a script run over a queue it has open. Each
// batch appends to its records the text of msgpeer.c's sndscript,
// rcvscript, mqsndscript or mqrcvscript. The C peer is one; a Go half
// (the root package's Queue, posixmq) will be another, generating with
// mpMessage and mpStep.
type mpScriptSide interface {
	sendBatch(t *testing.T, from, to int)
	receiveBatch(t *testing.T, from, to int)
	records(t *testing.T) []byte
}

// mpCScript is a C peer's side of a script: its records go to a file, and
// each answer's digest is checked against what the command appended.
type mpCScript struct {
	peer  *mpPeer
	posix bool
	s     *mpScript
	file  string
	off   int64 // the records checked so far
}

func newMPCScript(t *testing.T, p *mpPeer, posix bool, s *mpScript) *mpCScript {
	return &mpCScript{peer: p, posix: posix, s: s, file: filepath.Join(t.TempDir(), p.name+".records")}
}

func (c *mpCScript) sendBatch(t *testing.T, from, to int) {
	t.Helper()
	cmd := map[bool]string{false: "sndscript", true: "mqsndscript"}[c.posix]
	got := c.peer.ok(t, "%s %d %d %d %d %s", cmd, c.s.seed, from, to-from, c.s.max, c.file)
	count, digest, _ := strings.Cut(got, " ")
	if count != strconv.Itoa(to-from) {
		t.Fatalf("%s of messages %d to %d: %q", cmd, from, to-1, got)
	}
	c.checkDigest(t, digest)
}

func (c *mpCScript) receiveBatch(t *testing.T, from, to int) {
	t.Helper()
	var got string
	if c.posix {
		got = c.peer.ok(t, "mqrcvscript %d %s", c.s.max, c.file)
	} else {
		got = c.peer.ok(t, "rcvscript %d %d %d %d %s", c.s.seed, from, to-from, c.s.max, c.file)
	}
	f := strings.Fields(got)
	c.checkDigest(t, f[len(f)-1])
}

// checkDigest holds a command's digest to the records it appended.
func (c *mpCScript) checkDigest(t *testing.T, digest string) {
	t.Helper()
	f, err := os.Open(c.file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := fnv.New64a()
	n, err := io.Copy(h, io.NewSectionReader(f, c.off, 1<<62))
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("%016x", h.Sum64()); digest != want {
		t.Fatalf("peer %s: %q answered digest %s; its %d new bytes of records hash to %s",
			c.peer.name, c.peer.last, digest, n, want)
	}
	c.off += n
}

func (c *mpCScript) records(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(c.file)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// mpRunScript runs the script's batches: the sender sends a batch, then
// the receiver receives it (rcvscript's steps and drain, or mqrcvscript),
// so each receive meets a queue the script alone decides.
func mpRunScript(t *testing.T, snd, rcv mpScriptSide, batches [][2]int) {
	t.Helper()
	for _, b := range batches {
		snd.sendBatch(t, b[0], b[1])
		rcv.receiveBatch(t, b[0], b[1])
	}
}

// mpSameRecords fails the test if got is not want, naming the first line
// that differs.
func mpSameRecords(t *testing.T, what string, want, got []byte) {
	t.Helper()
	if bytes.Equal(want, got) {
		return
	}
	w, g := bufio.NewScanner(bytes.NewReader(want)), bufio.NewScanner(bytes.NewReader(got))
	for line := 1; ; line++ {
		wok, gok := w.Scan(), g.Scan()
		if !wok || !gok || w.Text() != g.Text() {
			t.Errorf("%s: %d bytes, want %d; line %d is %q, want %q", what, len(got), len(want), line, g.Text(), w.Text())
			return
		}
	}
}

// mpSetSysctl sets /proc/sys/name in the test's namespace (after Isolate,
// from the test's goroutine) if it is below v, and returns its value.
// Where /proc/sys cannot be written it logs why and leaves it.
func mpSetSysctl(t *testing.T, name string, v int) int {
	t.Helper()
	if cur := mpSysctl(t, name); cur >= v {
		return cur
	}
	if err := os.WriteFile("/proc/sys/"+name, []byte(strconv.Itoa(v)), 0); err != nil {
		t.Logf("cannot raise %s to %d (%v): smaller batches", name, v, err)
	}
	return mpSysctl(t, name)
}

// mpScriptMessages is the length of the System V script: 10,000 messages
// of random types and sizes from 0 to msgmax, as the cross-language tests
// send.
const mpScriptMessages = 10000

// mpGoScript is a Go half of a System V script: the root package's Queue,
// through one implementation, sending with TrySend and receiving with
// ReceiveWith (NoWait, and Except for MSG_EXCEPT), generating with
// mpMessage and mpStep and recording as msgpeer.c's sndscript and
// rcvscript do.
type mpGoScript struct {
	q   *shmmap.Queue
	s   *mpScript
	buf []byte
	rec bytes.Buffer
}

func (g *mpGoScript) sendBatch(t *testing.T, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		class, data := mpMessage(g.s.seed, uint64(i), g.s.max)
		if err := g.q.TrySend(int64(class)+1, data); err != nil {
			t.Fatalf("Go TrySend of script message %d (%d bytes): %v", i, len(data), err)
		}
		fmt.Fprintf(&g.rec, "%v\n", mpRecordOf(int64(class)+1, data))
	}
}

func (g *mpGoScript) receiveBatch(t *testing.T, from, to int) {
	t.Helper()
	step := func(msgtyp int64, flags int) bool {
		opts := shmmap.ReceiveOpts{NoWait: flags&unix.IPC_NOWAIT != 0, Except: flags&mpMsgExcept != 0}
		typ, n, err := g.q.ReceiveWith(context.Background(), g.buf, msgtyp, opts)
		if errors.Is(err, shmmap.ErrWouldBlock) && errors.Is(err, unix.ENOMSG) {
			fmt.Fprintf(&g.rec, "%d %#o err %d\n", msgtyp, flags, int(unix.ENOMSG))
			return false
		}
		if err != nil {
			t.Fatalf("Go ReceiveWith(%d, %+v): %v", msgtyp, opts, err)
		}
		fmt.Fprintf(&g.rec, "%d %#o %v\n", msgtyp, flags, mpRecordOf(typ, g.buf[:n]))
		return true
	}
	for i := from; i < to; i++ {
		step(mpStep(g.s.seed, uint64(i)))
	}
	for step(0, unix.IPC_NOWAIT) {
	}
}

func (g *mpGoScript) records(*testing.T) []byte { return g.rec.Bytes() }

// mpSide names one end of a script row: a C peer (path) or the Go Queue
// through an implementation (sys).
type mpSide struct {
	name string
	path string
	sys  *shmmap.System
}

// mpScriptRows is every (sender, receiver) row of the script test: the C
// pairs of mpPairs, then C with Go and Go with C for each implementation
// built in, with the 32-bit C peer too where there is one.
func mpScriptRows(t *testing.T) [][2]mpSide {
	var rows [][2]mpSide
	for _, p := range mpPairs(t) {
		rows = append(rows, [2]mpSide{{name: p[0].name, path: p[0].path}, {name: p[1].name, path: p[1].path}})
	}
	for _, b := range mpBuilds(t) {
		for _, impl := range impls.All() {
			g := mpSide{name: "Go-" + impl.Name, sys: shmmap.Using(impl)}
			c := mpSide{name: b.name, path: b.path}
			rows = append(rows, [2]mpSide{c, g}, [2]mpSide{g, c})
		}
	}
	return rows
}

// TestMsgpeerScript runs the System V script between every row of
// mpScriptRows: C to C (whose records must be what mpMessage, mpStep and
// msgrcv's rules give), C to Go and Go to C through each implementation.
// Every row's receiver must record exactly what the first row's (C to C)
// did, and every sender what the model says.
func TestMsgpeerScript(t *testing.T) {
	const seed = 0x5eed1e55
	var script *mpScript
	var ref []byte
	for _, row := range mpScriptRows(t) {
		t.Run(row[0].name+"-"+row[1].name, func(t *testing.T) {
			shmtest.Isolate(t)
			shmtest.NoLeaks(t)
			msgmax := mpSysctl(t, "kernel/msgmax")
			// A queue holding 32 of the largest messages (as root in the
			// namespace: msgmnb is its default msg_qbytes).
			mpSetSysctl(t, "kernel/msgmnb", 32*msgmax)
			if script == nil || script.max != msgmax {
				script = newMPScript(seed, mpScriptMessages, msgmax)
			}
			// The first C side creates the queue; the other side finds it
			// by id.
			var owner *mpPeer
			var id string
			var sides [2]mpScriptSide
			for i, side := range row {
				if side.path == "" {
					continue
				}
				p := startMP(t, string(rune('A'+i)), side.path, false)
				if owner == nil {
					owner = p
					id = p.ok(t, "get 0 %#o", unix.IPC_CREAT|0o600) // IPC_PRIVATE
					mpRemoveAtEnd(t, id)
				} else {
					p.ok(t, "id %s", id)
				}
				sides[i] = newMPCScript(t, p, false, script)
			}
			for i, side := range row {
				if side.sys == nil {
					continue
				}
				n, err := strconv.Atoi(id)
				if err != nil {
					t.Fatal(err)
				}
				q, err := side.sys.OpenQueueID(n)
				if err != nil {
					t.Fatal(err)
				}
				sides[i] = &mpGoScript{q: q, s: script, buf: make([]byte, script.max)}
			}
			qbytes, err := strconv.Atoi(owner.fields(t, "stat")["qbytes"])
			if err != nil {
				t.Fatal(err)
			}
			batches := script.batches(qbytes, 32)
			t.Logf("%d messages in %d batches (msg_qbytes %d)", len(script.msgs), len(batches), qbytes)
			mpRunScript(t, sides[0], sides[1], batches)

			wantSent, wantReceived := script.sysvRecords(batches)
			mpSameRecords(t, "the sender's records", []byte(wantSent), sides[0].records(t))
			got := sides[1].records(t)
			mpSameRecords(t, "the receiver's records", []byte(wantReceived), got)
			// The script is worth running: it covers every selection,
			// empty and largest messages, and misses as well as hits.
			for _, want := range []string{" 04000 err 42\n", " 024000 ", "\n-", fmt.Sprintf(" %d ", msgmax), " 0 cbf29ce484222325\n"} {
				if !strings.Contains(wantReceived, want) {
					t.Errorf("no %q in the receiver's records: the script does not cover it", want)
				}
			}
			if ref == nil {
				if row[0].path == "" || row[1].path == "" {
					t.Fatal("the first row must be C to C: it is the reference")
				}
				ref = got
			} else {
				mpSameRecords(t, "the receiver's records against C to C's", ref, got)
			}
			owner.ok(t, "rmid")
		})
	}
}

// TestMsgpeerPOSIXScript runs a POSIX script from one C peer to another, in
// batches as large as the queue: priorities must come out as
// posixRecords orders them.
func TestMsgpeerPOSIXScript(t *testing.T) {
	const seed, n = 0x9051c, 2000
	for _, pair := range mpPairs(t) {
		t.Run(pair[0].name+"-"+pair[1].name, func(t *testing.T) {
			shmtest.Isolate(t)
			maxmsg := mpSetSysctl(t, "fs/mqueue/msg_max", 32)
			msgsize := mpSysctl(t, "fs/mqueue/msgsize_max")
			script := newMPScript(seed, n, msgsize)
			a := startMP(t, "A", pair[0].path, false)
			b := startMP(t, "B", pair[1].path, false)
			const name = "/msgpeer-script"
			a.ok(t, "mqopen %s %#o 0600 %d %d", name, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY, maxmsg, msgsize)
			mpUnlinkAtEnd(t, name)
			b.ok(t, "mqopen %s %#o 0 0 0", name, unix.O_RDONLY)
			batches := script.batches(maxmsg*msgsize, maxmsg)
			snd, rcv := newMPCScript(t, a, true, script), newMPCScript(t, b, true, script)
			mpRunScript(t, snd, rcv, batches)
			wantSent, wantReceived := script.posixRecords(batches)
			mpSameRecords(t, "the sender's records", []byte(wantSent), snd.records(t))
			mpSameRecords(t, "the receiver's records", []byte(wantReceived), rcv.records(t))
			a.ok(t, "mqunlink %s", name)
		})
	}
}

// mpGoAsleep waits until a thread of this process sleeps in one of the
// kernel functions named (its wchan), failing at once if done reports
// first: the Go half of waitAsleep.
func mpGoAsleep[T any](t *testing.T, done <-chan T, wchan ...string) {
	t.Helper()
	shmtest.WaitFor(t, "a Go thread asleep in "+strings.Join(wchan, " or "), mpTimeout, func() bool {
		select {
		case r := <-done:
			t.Fatalf("the Go call returned without blocking: %+v", r)
		default:
		}
		dirs, _ := os.ReadDir("/proc/self/task")
		for _, d := range dirs {
			w, err := os.ReadFile("/proc/self/task/" + d.Name() + "/wchan")
			if err == nil && slices.Contains(wchan, string(w)) {
				return true
			}
		}
		return false
	})
}

// TestMsgpeerSysVGo crosses the blocking cases between Go (Queue through
// each implementation) and C (each ABI): a full queue blocks the sender
// until the other language receives, and removing the queue wakes a
// receiver blocked in the other language with EIDRM.
func TestMsgpeerSysVGo(t *testing.T) {
	for _, b := range mpBuilds(t) {
		for _, impl := range impls.All() {
			t.Run(b.name+"-Go-"+impl.Name, func(t *testing.T) {
				ns := shmtest.Isolate(t)
				shmtest.NoLeaks(t)
				sys := shmmap.Using(impl)
				c := startMP(t, "C", b.path, false)
				q, err := sys.CreateQueue(0x5108, 0o600)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { q.Remove() })
				c.ok(t, "get %#x 0", 0x5108)
				if err := q.SetMaxBytes(10); err != nil {
					t.Fatal(err)
				}
				buf := make([]byte, 100)

				// Go sender blocked on the full queue until C receives.
				if err := q.TrySend(1, []byte("ten bytes!")); err != nil {
					t.Fatal(err)
				}
				sent := make(chan error, 1)
				ns.Go(t, func() { sent <- q.Send(2, []byte("ab")) })
				mpGoAsleep(t, sent, "do_msgsnd")
				if got, want := c.do(t, "rcv 100 0 0"), "ok 1 "+mpHex([]byte("ten bytes!")); got != want {
					t.Errorf("C's receive from the full queue: %q, want %q", got, want)
				}
				if err := <-sent; err != nil {
					t.Errorf("Go's blocked Send after C made room: %v", err)
				}
				if got, want := c.do(t, "rcv 100 0 0"), "ok 2 "+mpHex([]byte("ab")); got != want {
					t.Errorf("the message Go's blocked Send sent: %q, want %q", got, want)
				}

				// C sender blocked on the full queue until Go receives.
				c.ok(t, "snd 1 %s %#o", mpHex([]byte("0123456789")), unix.IPC_NOWAIT)
				n := c.lines()
				c.send(t, "snd 3 %s 0", mpHex([]byte("cd")))
				c.waitAsleep(t, "do_msgsnd")
				c.noAnswerYet(t, n)
				if typ, n, err := q.Receive(buf, 0); err != nil || typ != 1 || string(buf[:n]) != "0123456789" {
					t.Errorf("Go's receive from the full queue: %d %q %v", typ, buf[:max(n, 0)], err)
				}
				if got := c.answer(t); got != "ok" {
					t.Errorf("C's blocked send after Go made room: %q", got)
				}
				if typ, n, err := q.ReceiveContext(context.Background(), buf, 3); err != nil || string(buf[:n]) != "cd" {
					t.Errorf("the message C's blocked send sent: %d %q %v", typ, buf[:max(n, 0)], err)
				}

				// Go receiver blocked (with a context that could end) woken
				// with EIDRM when C removes the queue.
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				got := make(chan error, 1)
				ns.Go(t, func() {
					_, _, err := q.ReceiveContext(ctx, buf, 0)
					got <- err
				})
				mpGoAsleep(t, got, "do_msgrcv")
				c.ok(t, "rmid")
				if err := <-got; !errors.Is(err, unix.EIDRM) {
					t.Errorf("Go's receive blocked on the queue C removed: %v, want EIDRM", err)
				}

				// C receiver blocked woken with EIDRM when Go removes it.
				q2, err := sys.CreateQueue(0x5109, 0o600)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { q2.Remove() })
				c.ok(t, "get %#x 0", 0x5109)
				n = c.lines()
				c.send(t, "rcv 100 0 0")
				c.waitAsleep(t, "do_msgrcv")
				c.noAnswerYet(t, n)
				if err := q2.Remove(); err != nil {
					t.Fatal(err)
				}
				if got := c.answer(t); got != mpErr(unix.EIDRM) {
					t.Errorf("C's receive blocked on the queue Go removed: %q, want %q", got, mpErr(unix.EIDRM))
				}
			})
		}
	}
}
