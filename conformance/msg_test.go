package conformance

import (
	"fmt"
	"hash/fnv"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	"github.com/shmmap/shmmap/shmtest"
	"github.com/shmmap/shmmap/sysapi"
	"golang.org/x/sys/unix"
)

// long32 reports whether a C long has 32 bits in this test binary (386).
const long32 = unsafe.Sizeof(int(0)) == 4

// TestMsgCalls: msgget, msgsnd, msgrcv and msgctl behave as the man pages
// say, identically through libc and through system calls.
func TestMsgCalls(t *testing.T) {
	got := each(t, func(t *testing.T, sys sysapi.Impl) map[string]string {
		o := map[string]string{}
		res := func(name string, v int, err error) {
			if err != nil {
				o[name] = errString(err)
				return
			}
			o[name] = "ok " + itoa(v)
		}
		_, err := sys.Msgget(key, 0)
		res("lookup missing", 0, err)
		id, err := sys.Msgget(key, unix.IPC_CREAT|unix.IPC_EXCL|0o640)
		if err != nil {
			t.Fatal(err)
		}
		_, err = sys.Msgget(key, unix.IPC_CREAT|unix.IPC_EXCL|0o640)
		res("create existing exclusively", 0, err)
		id2, err := sys.Msgget(key, 0)
		res("lookup same id", boolInt(id2 == id), err)
		id2, err = sys.Msgget(key, unix.IPC_CREAT|0o600)
		res("create existing without IPC_EXCL", boolInt(id2 == id), err)

		var info sysapi.Msginfo
		_, err = sys.MsgctlInfo(sysapi.IPC_INFO, &info)
		res("IPC_INFO", 0, err)
		msgmax, msgmnb := int(info.Msgmax), int(info.Msgmnb)
		o["IPC_INFO limits are the namespace's sysctls"] = cmp.Diff(
			[]string{readSysctl(t, "kernel/msgmax"), readSysctl(t, "kernel/msgmnb"), readSysctl(t, "kernel/msgmni")},
			[]string{itoa(msgmax), itoa(msgmnb), itoa(int(info.Msgmni))})

		err = sys.Msgsnd(id, 7, []byte("hello"), 0)
		res("send", 0, err)
		err = sys.Msgsnd(id, 0, []byte("x"), 0)
		res("send type 0", 0, err)
		err = sys.Msgsnd(id, -3, []byte("x"), 0)
		res("send negative type", 0, err)
		err = sys.Msgsnd(id, 1, make([]byte, msgmax+1), unix.IPC_NOWAIT)
		res("send more than msgmax", 0, err)
		err = sys.Msgsnd(id, 1, nil, 0)
		res("send empty", 0, err)
		err = sys.Msgsnd(-1, 1, []byte("x"), 0)
		res("send to id -1", 0, err)

		var ds sysapi.MsqidDS
		_, err = sys.Msgctl(id, unix.IPC_STAT, &ds)
		res("stat", 0, err)
		o["stat fields"] = cmp.Diff(sysapi.MsqidDS{Key: key, Uid: uint32(os.Geteuid()), Gid: uint32(os.Getegid()),
			Cuid: uint32(os.Geteuid()), Cgid: uint32(os.Getegid()), Mode: 0o640,
			Cbytes: 5, Qnum: 2, Qbytes: uint64(msgmnb), Lspid: int32(os.Getpid())},
			ds, cmp.FilterPath(func(p cmp.Path) bool {
				n := p.Last().String()
				return n == ".Seq" || n == ".Stime" || n == ".Ctime"
			}, cmp.Ignore()))
		now := time.Now().Unix()
		o["times"] = outs(ds.Stime >= now-60 && ds.Stime <= now, ds.Ctime >= now-60 && ds.Ctime <= now, ds.Rtime)

		buf := make([]byte, 16)
		mtype, n, err := sys.Msgrcv(id, buf[:3], 0, unix.IPC_NOWAIT)
		o["receive into a short buffer"] = outs(mtype, n, errString(err))
		mtype, n, err = sys.Msgrcv(id, buf[:3], 0, unix.IPC_NOWAIT|sysapi.MSG_NOERROR)
		o["receive truncated"] = fmt.Sprintf("%d %d %q %s", mtype, n, buf[:max(n, 0)], errString(err))
		mtype, n, err = sys.Msgrcv(id, buf, 7, unix.IPC_NOWAIT)
		o["receive type 7 from a queue of type 1"] = outs(mtype, n, errString(err))
		mtype, n, err = sys.Msgrcv(id, buf, 1, unix.IPC_NOWAIT)
		o["receive empty message"] = outs(mtype, n, errString(err))
		mtype, n, err = sys.Msgrcv(id, buf, 0, unix.IPC_NOWAIT)
		o["receive from an empty queue"] = outs(mtype, n, errString(err))
		_, _, err = sys.Msgrcv(-1, buf, 0, unix.IPC_NOWAIT)
		res("receive from id -1", 0, err)
		_, _, err = sys.Msgrcv(id, buf, 0, sysapi.MSG_COPY)
		res("MSG_COPY without IPC_NOWAIT", 0, err)

		// The largest type a C long holds, and one it does not hold on
		// 32-bit architectures.
		err = sys.Msgsnd(id, math.MaxInt32, []byte("max"), 0)
		res("send type MaxInt32", 0, err)
		mtype, n, err = sys.Msgrcv(id, buf, -math.MaxInt32, unix.IPC_NOWAIT)
		o["receive type MaxInt32 by -MaxInt32"] = outs(mtype, n, errString(err))
		err = sys.Msgsnd(id, 1<<40, []byte("wide"), 0)
		res("send type 1<<40", 0, err)
		mtype, n, err = sys.Msgrcv(id, buf, 1<<40, unix.IPC_NOWAIT)
		o["receive type 1<<40"] = outs(mtype, n, errString(err))

		// A full queue: msg_qbytes bytes of text.
		full := make([]byte, msgmax)
		for i := 0; i < msgmnb/msgmax; i++ {
			if err := sys.Msgsnd(id, 1, full, unix.IPC_NOWAIT); err != nil {
				t.Fatalf("filling the queue: %v", err)
			}
		}
		err = sys.Msgsnd(id, 1, []byte("x"), unix.IPC_NOWAIT)
		res("send to a full queue", 0, err)
		for i := 0; i < msgmnb/msgmax; i++ {
			if _, _, err := sys.Msgrcv(id, full, 0, unix.IPC_NOWAIT); err != nil {
				t.Fatalf("draining the queue: %v", err)
			}
		}

		// IPC_SET: mode and a smaller msg_qbytes.
		set := ds
		set.Mode, set.Qbytes = 0o600, 10
		_, err = sys.Msgctl(id, unix.IPC_SET, &set)
		res("IPC_SET", 0, err)
		_, err = sys.Msgctl(id, unix.IPC_STAT, &ds)
		o["after IPC_SET"] = fmt.Sprintf("%o %d %s", ds.Mode, ds.Qbytes, errString(err))
		err = sys.Msgsnd(id, 1, make([]byte, 11), unix.IPC_NOWAIT)
		res("send more than msg_qbytes", 0, err)
		_, err = sys.Msgctl(id, unix.IPC_SET, nil)
		res("IPC_SET without a descriptor", 0, err)
		_, err = sys.Msgctl(id, 999, &ds)
		res("unknown command", 0, err)

		if os.Geteuid() == 0 {
			shmtest.DoUnprivileged(t, func() {
				_, err := sys.Msgget(key, 0o200)
				res("nobody lookup asking write", 0, err)
				id2, err := sys.Msgget(key, 0)
				res("nobody lookup asking nothing", boolInt(id2 == id), err)
				err = sys.Msgsnd(id, 1, []byte("x"), unix.IPC_NOWAIT)
				res("nobody send", 0, err)
				_, _, err = sys.Msgrcv(id, buf, 0, unix.IPC_NOWAIT)
				res("nobody receive", 0, err)
				var ds sysapi.MsqidDS
				_, err = sys.Msgctl(id, unix.IPC_STAT, &ds)
				res("nobody stat", 0, err)
				_, err = sys.Msgctl(id, unix.IPC_RMID, nil)
				res("nobody remove", 0, err)
			})
		}
		_, err = sys.Msgctl(id, unix.IPC_RMID, nil)
		res("remove", 0, err)
		_, err = sys.Msgctl(id, unix.IPC_STAT, &ds)
		res("stat after remove", 0, err)
		err = sys.Msgsnd(id, 1, []byte("x"), unix.IPC_NOWAIT)
		res("send after remove", 0, err)
		return o
	})
	want := map[string]string{
		"lookup missing":                              errString(unix.ENOENT),
		"create existing exclusively":                 errString(unix.EEXIST),
		"lookup same id":                              "ok 1",
		"create existing without IPC_EXCL":            "ok 1",
		"IPC_INFO":                                    "ok 0",
		"IPC_INFO limits are the namespace's sysctls": "",
		"send":                                  "ok 0",
		"send type 0":                           errString(unix.EINVAL),
		"send negative type":                    errString(unix.EINVAL),
		"send more than msgmax":                 errString(unix.EINVAL),
		"send empty":                            "ok 0",
		"send to id -1":                         errString(unix.EINVAL),
		"stat":                                  "ok 0",
		"stat fields":                           "",
		"times":                                 "true true 0",
		"receive into a short buffer":           outs(0, -1, errString(unix.E2BIG)),
		"receive truncated":                     fmt.Sprintf("7 3 %q ", "hel"),
		"receive type 7 from a queue of type 1": outs(0, -1, errString(unix.ENOMSG)),
		"receive empty message":                 outs(1, 0, ""),
		"receive from an empty queue":           outs(0, -1, errString(unix.ENOMSG)),
		"receive from id -1":                    errString(unix.EINVAL),
		"MSG_COPY without IPC_NOWAIT":           errString(unix.EINVAL),
		"send type MaxInt32":                    "ok 0",
		"receive type MaxInt32 by -MaxInt32":    outs(math.MaxInt32, 3, ""),
		"send type 1<<40":                       "ok 0",
		"receive type 1<<40":                    outs(int64(1<<40), 4, ""),
		"send to a full queue":                  errString(unix.EAGAIN),
		"IPC_SET":                               "ok 0",
		"after IPC_SET":                         "600 10 ",
		"send more than msg_qbytes":             errString(unix.EAGAIN),
		"IPC_SET without a descriptor":          errString(unix.EFAULT),
		"unknown command":                       errString(unix.EINVAL),
		"nobody lookup asking write":            errString(unix.EACCES),
		"nobody lookup asking nothing":          "ok 1",
		"nobody send":                           errString(unix.EACCES),
		"nobody receive":                        errString(unix.EACCES),
		"nobody stat":                           errString(unix.EACCES),
		"nobody remove":                         errString(unix.EPERM),
		"remove":                                "ok 0",
		"stat after remove":                     errString(unix.EINVAL),
		"send after remove":                     errString(unix.EINVAL),
	}
	if long32 {
		// A C long cannot hold 1<<40: the contract refuses it.
		want["send type 1<<40"] = errString(unix.EINVAL)
		want["receive type 1<<40"] = outs(0, -1, errString(unix.EINVAL))
	}
	if os.Geteuid() != 0 {
		for k := range want {
			if strings.HasPrefix(k, "nobody ") {
				delete(want, k)
			}
		}
	}
	for name, o := range got {
		if d := cmp.Diff(want, o); d != "" {
			t.Errorf("%s: message queue calls differ from the man pages (-want +got):\n%s", name, d)
		}
	}
}

// readSysctl reads /proc/sys/NAME as the calling thread sees it (the IPC
// limits belong to its IPC namespace).
func readSysctl(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("/proc/sys/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// TestMsgListing: IPC_INFO and MSG_INFO report the namespace's limits and
// usage, and MSG_STAT and MSG_STAT_ANY list the queues by index.
func TestMsgListing(t *testing.T) {
	each(t, func(t *testing.T, sys sysapi.Impl) map[string]string {
		o := map[string]string{}
		var info sysapi.Msginfo
		r, err := sys.MsgctlInfo(sysapi.MSG_INFO, &info)
		o["MSG_INFO of no queues"] = outs(r, info.Msgpool, info.Msgmap, info.Msgtql, errString(err))
		a, err := sys.Msgget(key, unix.IPC_CREAT|0o600)
		if err != nil {
			t.Fatal(err)
		}
		b, err := sys.Msgget(unix.IPC_PRIVATE, unix.IPC_CREAT|0o644)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range []string{"one", "three"} {
			if err := sys.Msgsnd(b, 1, []byte(m), 0); err != nil {
				t.Fatal(err)
			}
		}
		r, err = sys.MsgctlInfo(sysapi.MSG_INFO, &info)
		o["MSG_INFO of two queues"] = outs(r, info.Msgpool, info.Msgmap, info.Msgtql, errString(err))
		r, err = sys.MsgctlInfo(sysapi.IPC_INFO, &info)
		o["IPC_INFO of two queues"] = outs(r, info.Msgmap > 0, info.Msgmax, info.Msgmnb, info.Msgssz, errString(err))
		_, err = sys.MsgctlInfo(unix.IPC_STAT, &info)
		o["MsgctlInfo with IPC_STAT"] = errString(err)
		_, err = sys.MsgctlInfo(sysapi.IPC_INFO, nil)
		o["MsgctlInfo without a msginfo"] = errString(err)
		for _, cmd := range []struct {
			name string
			cmd  int
		}{{"MSG_STAT", sysapi.MSG_STAT}, {"MSG_STAT_ANY", sysapi.MSG_STAT_ANY}} {
			for i := range 3 {
				var ds sysapi.MsqidDS
				id, err := sys.Msgctl(i, cmd.cmd, &ds)
				o[fmt.Sprintf("%s %d", cmd.name, i)] = fmt.Sprintf("a=%v b=%v key=%#x mode=%o qnum=%d %s", id == a, id == b, ds.Key, ds.Mode, ds.Qnum, errString(err))
			}
		}
		if os.Geteuid() == 0 {
			shmtest.DoUnprivileged(t, func() {
				var ds sysapi.MsqidDS
				_, err := sys.Msgctl(0, sysapi.MSG_STAT, &ds)
				o["nobody MSG_STAT of a 0600 queue"] = errString(err)
				id, err := sys.Msgctl(0, sysapi.MSG_STAT_ANY, &ds)
				o["nobody MSG_STAT_ANY of a 0600 queue"] = outs(id == a, errString(err))
			})
		}
		for _, id := range []int{a, b} {
			if _, err := sys.Msgctl(id, unix.IPC_RMID, nil); err != nil {
				t.Error(err)
			}
		}
		want := map[string]string{
			"MSG_INFO of no queues":               outs(0, 0, 0, 0, ""),
			"MSG_INFO of two queues":              outs(1, 2, 2, 8, ""),
			"IPC_INFO of two queues":              outs(1, true, 8192, 16384, 16, ""),
			"MsgctlInfo with IPC_STAT":            errString(unix.EINVAL),
			"MsgctlInfo without a msginfo":        errString(unix.EFAULT),
			"MSG_STAT 0":                          "a=true b=false key=0x1234 mode=600 qnum=0 ",
			"MSG_STAT 1":                          "a=false b=true key=0x0 mode=644 qnum=2 ",
			"MSG_STAT 2":                          "a=false b=false key=0x0 mode=0 qnum=0 " + errString(unix.EINVAL),
			"MSG_STAT_ANY 0":                      "a=true b=false key=0x1234 mode=600 qnum=0 ",
			"MSG_STAT_ANY 1":                      "a=false b=true key=0x0 mode=644 qnum=2 ",
			"MSG_STAT_ANY 2":                      "a=false b=false key=0x0 mode=0 qnum=0 " + errString(unix.EINVAL),
			"nobody MSG_STAT of a 0600 queue":     errString(unix.EACCES),
			"nobody MSG_STAT_ANY of a 0600 queue": outs(true, ""),
		}
		if os.Geteuid() != 0 {
			delete(want, "nobody MSG_STAT of a 0600 queue")
			delete(want, "nobody MSG_STAT_ANY of a 0600 queue")
		}
		if d := cmp.Diff(want, o); d != "" {
			t.Errorf("%s (-want +got):\n%s", sys.Name, d)
		}
		return o
	})
}

// TestMsgBlockedRemoved: removing a queue wakes a receiver blocked on it
// (empty queue) and a sender blocked on it (full queue) with EIDRM.
func TestMsgBlockedRemoved(t *testing.T) {
	each(t, func(t *testing.T, sys sysapi.Impl) map[string]string {
		// each isolated this subtest already; a second namespace of its
		// own gives the handle that ns.Go needs to join it.
		ns := shmtest.Isolate(t)
		o := map[string]string{}
		for _, side := range []string{"receiver", "sender"} {
			id, err := sys.Msgget(unix.IPC_PRIVATE, unix.IPC_CREAT|0o600)
			if err != nil {
				t.Fatal(err)
			}
			var call uintptr = unix.SYS_MSGRCV
			if side == "sender" {
				call = unix.SYS_MSGSND
				var ds sysapi.MsqidDS
				if _, err := sys.Msgctl(id, unix.IPC_STAT, &ds); err != nil {
					t.Fatal(err)
				}
				ds.Qbytes = 4
				if _, err := sys.Msgctl(id, unix.IPC_SET, &ds); err != nil {
					t.Fatal(err)
				}
				if err := sys.Msgsnd(id, 1, []byte("full"), unix.IPC_NOWAIT); err != nil {
					t.Fatal(err)
				}
			}
			tid := make(chan int, 1)
			var result string
			done := ns.Go(t, func() {
				tid <- unix.Gettid()
				var err error
				if side == "sender" {
					err = sys.Msgsnd(id, 1, []byte("more"), 0)
				} else {
					_, _, err = sys.Msgrcv(id, make([]byte, 8), 0, 0)
				}
				result = errString(err)
			})
			waitInSyscall(t, <-tid, call, id, done)
			if _, err := sys.Msgctl(id, unix.IPC_RMID, nil); err != nil {
				t.Fatal(err)
			}
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatalf("the blocked %s did not return within 10s of IPC_RMID", side)
			}
			o["blocked "+side] = result
		}
		want := map[string]string{"blocked receiver": errString(unix.EIDRM), "blocked sender": errString(unix.EIDRM)}
		if d := cmp.Diff(want, o); d != "" {
			t.Errorf("%s (-want +got):\n%s", sys.Name, d)
		}
		return o
	})
}

// waitInSyscall waits until thread tid of this process is asleep in system
// call nr (SYS_MSGSND or SYS_MSGRCV) on queue id, as
// /proc/self/task/TID/syscall shows it ("NR ARG1 ..."; "running" while it
// runs), failing the test if done closes first or after 10 seconds. On
// i386, 32-bit glibc makes the call through the ipc(2) multiplexer (system
// call 117, with MSGSND 11 or MSGRCV 12 first and the id second), which is
// accepted too.
func waitInSyscall(t *testing.T, tid int, nr uintptr, id int, done <-chan struct{}) {
	t.Helper()
	file := fmt.Sprintf("/proc/self/task/%d/syscall", tid)
	want := []string{fmt.Sprintf("%d %#x ", nr, id)}
	if runtime.GOARCH == "386" {
		ipcCall := map[uintptr]int{unix.SYS_MSGSND: 11, unix.SYS_MSGRCV: 12}[nr]
		want = append(want, fmt.Sprintf("117 %#x %#x ", ipcCall, id))
	}
	last, returned := "", false
	shmtest.WaitFor(t, fmt.Sprintf("thread %d asleep in system call %d on queue %d (%s starting %q)", tid, nr, id, file, want), 10*time.Second, func() bool {
		select {
		case <-done:
			returned = true
			return true
		default:
		}
		b, err := os.ReadFile(file)
		if err != nil {
			last = err.Error()
			return false
		}
		last = string(b)
		for _, w := range want {
			if strings.HasPrefix(last, w) {
				return true
			}
		}
		return false
	})
	if returned {
		t.Fatalf("the goroutine returned before it blocked (%s last said %q)", file, last)
	}
}

// TestMsgAgainstGlibc runs one script of msgsnd and msgrcv calls (every
// msgtyp form, every flag, every error) through each implementation and
// through a C program calling glibc (64-bit, and 32-bit where -m32 works),
// and compares what each received line by line; then it compares IPC_STAT,
// IPC_INFO and MSG_INFO of the same queue, at the same moment, as Go and C
// see them.
func TestMsgAgainstGlibc(t *testing.T) {
	progs := glibcPrograms(t)
	script := []string{
		"s,5,3,-", "s,1,0,-", "s,3,10,-", "s,5,7,-", "s,2,1,-", "s,4,4,-", "s,1,2,-", "s,7,5,-", "s,2147483647,1,-",
		"r,64,3,x",               // the first message not of type 3
		"r,64,5,-",               // the first of type 5
		"r,64,-3,-", "r,64,-3,-", // the lowest type up to 3, oldest first
		"r,64,0,cn", "r,64,1,cn", "r,64,99,cn", // MSG_COPY: the message at an index, left in place
		"r,64,0,c", "r,64,0,cxn", // MSG_COPY needs IPC_NOWAIT and excludes MSG_EXCEPT
		"r,5,3,n", "r,5,3,en", // too long: E2BIG, or truncated with MSG_NOERROR
		"r,64,6,n", "r,64,-1,n", // nothing matches: ENOMSG
		"r,64,4,xn",          // the first not of type 4
		"r,64,-2147483648,-", // LONG_MIN on 32-bit C: any type
		"r,64,0,-", "r,0,0,n", "r,0,0,en", "r,64,0,n",
		"s,0,1,-", "s,-1,1,-", "s,1,8193,n", // bad type, too long: EINVAL
		"s,1,8192,n", "s,2,8192,n", "s,3,1,n", // full: EAGAIN
		"r,8192,-2,n", "s,3,1,n", "r,64,3,n",
	}
	each(t, func(t *testing.T, sys sysapi.Impl) []string {
		id, err := sys.Msgget(unix.IPC_PRIVATE, unix.IPC_CREAT|0o600)
		if err != nil {
			t.Fatal(err)
		}
		got := msgScript(t, sys, id, script)
		for _, p := range progs {
			cid, err := sys.Msgget(unix.IPC_PRIVATE, unix.IPC_CREAT|0o600)
			if err != nil {
				t.Fatal(err)
			}
			want := p.run(t, append([]string{"msgops", itoa(cid)}, script...)...)
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("%s and %s receive differently (-%s +%s):\n%s", p.name, sys.Name, p.name, sys.Name, d)
			}
			// The queue C used and the one Go used, as each sees them.
			for _, q := range []int{cid, id} {
				var ds sysapi.MsqidDS
				_, err := sys.Msgctl(q, unix.IPC_STAT, &ds)
				gostat := []string{formatMsqid(&ds, err)}
				if d := cmp.Diff(p.run(t, "msgstat", itoa(q)), gostat); d != "" {
					t.Errorf("IPC_STAT of queue %d: %s and %s differ (-%s +%s):\n%s", q, p.name, sys.Name, p.name, sys.Name, d)
				}
			}
			for _, cmd := range []string{"ipc", "msg"} {
				c := map[string]int{"ipc": sysapi.IPC_INFO, "msg": sysapi.MSG_INFO}[cmd]
				var info sysapi.Msginfo
				r, err := sys.MsgctlInfo(c, &info)
				if d := cmp.Diff(p.run(t, "msginfo", cmd), []string{formatMsginfo(r, &info, err)}); d != "" {
					t.Errorf("msgctl(%s_INFO): %s and %s differ (-%s +%s):\n%s", strings.ToUpper(cmd), p.name, sys.Name, p.name, sys.Name, d)
				}
			}
			if _, err := sys.Msgctl(cid, unix.IPC_RMID, nil); err != nil {
				t.Error(err)
			}
		}
		if _, err := sys.Msgctl(id, unix.IPC_RMID, nil); err != nil {
			t.Error(err)
		}
		return got
	})
}

// TestMsgStatAgainstGlibc: IPC_STAT and IPC_SET agree with glibc's
// struct msqid_ds (64-bit, and 32-bit where -m32 works) field by field, on
// a queue whose fields take distinct values: created, after a Go send,
// after IPC_SET of every settable field, and after a C receive (the last
// sender and receiver are then different processes).
func TestMsgStatAgainstGlibc(t *testing.T) {
	progs := glibcPrograms(t)
	each(t, func(t *testing.T, sys sysapi.Impl) []string {
		var out []string
		for _, p := range progs {
			q, err := sys.Msgget(key, unix.IPC_CREAT|unix.IPC_EXCL|0o640)
			if err != nil {
				t.Fatal(err)
			}
			stat := func(step string) {
				t.Helper()
				var ds sysapi.MsqidDS
				_, err := sys.Msgctl(q, unix.IPC_STAT, &ds)
				if d := cmp.Diff(p.run(t, "msgstat", itoa(q)), []string{formatMsqid(&ds, err)}); d != "" {
					t.Errorf("IPC_STAT %s: %s and %s differ (-%s +%s):\n%s", step, p.name, sys.Name, p.name, sys.Name, d)
				}
				// What does not depend on the moment or the pids, for
				// the comparison between implementations.
				out = append(out, fmt.Sprintf("%s %s: key=%#x uid=%d gid=%d mode=%o cbytes=%d qnum=%d qbytes=%d times=%v,%v,%v pids=%v,%v",
					p.name, step, ds.Key, ds.Uid, ds.Gid, ds.Mode, ds.Cbytes, ds.Qnum, ds.Qbytes,
					ds.Stime != 0, ds.Rtime != 0, ds.Ctime != 0, ds.Lspid == int32(os.Getpid()), ds.Lrpid == int32(os.Getpid())))
			}
			stat("created")
			msgScript(t, sys, q, []string{"s,3,2,-", "s,9,5,-"})
			stat("after a Go send")
			set := sysapi.MsqidDS{Uid: 1, Gid: 2, Mode: 0o604, Qbytes: 1000}
			if _, err := sys.Msgctl(q, unix.IPC_SET, &set); err != nil {
				t.Fatalf("IPC_SET: %v", err)
			}
			stat("after IPC_SET")
			if got := p.run(t, "msgops", itoa(q), "r,64,0,-"); got[0] != "r,64,0,-: type=3 n=2 text=1516" {
				t.Errorf("%s received %q", p.name, got)
			}
			stat("after a C receive")
			if _, err := sys.Msgctl(q, unix.IPC_RMID, nil); err != nil {
				t.Fatal(err)
			}
		}
		var want []string
		for _, p := range progs {
			u, g := os.Geteuid(), os.Getegid()
			want = append(want,
				fmt.Sprintf("%s created: key=0x1234 uid=%d gid=%d mode=640 cbytes=0 qnum=0 qbytes=16384 times=false,false,true pids=false,false", p.name, u, g),
				fmt.Sprintf("%s after a Go send: key=0x1234 uid=%d gid=%d mode=640 cbytes=7 qnum=2 qbytes=16384 times=true,false,true pids=true,false", p.name, u, g),
				p.name+" after IPC_SET: key=0x1234 uid=1 gid=2 mode=604 cbytes=7 qnum=2 qbytes=1000 times=true,false,true pids=true,false",
				p.name+" after a C receive: key=0x1234 uid=1 gid=2 mode=604 cbytes=5 qnum=1 qbytes=1000 times=true,true,true pids=true,false")
		}
		if d := cmp.Diff(want, out); d != "" {
			t.Errorf("%s: (-want +got):\n%s", sys.Name, d)
		}
		return out
	})
}

// msgScript runs the script the C program's msgops runs, on queue id,
// printing each outcome as it does.
func msgScript(t *testing.T, sys sysapi.Impl, id int, script []string) []string {
	t.Helper()
	var out []string
	for _, op := range script {
		f := strings.Split(op, ",")
		if len(f) != 4 {
			t.Fatalf("bad op %q", op)
		}
		a, b := atoi64(t, f[1]), atoi64(t, f[2])
		flag := 0
		for _, c := range f[3] {
			flag |= map[rune]int{'n': unix.IPC_NOWAIT, 'e': sysapi.MSG_NOERROR, 'x': sysapi.MSG_EXCEPT, 'c': sysapi.MSG_COPY, '-': 0}[c]
		}
		switch f[0] {
		case "s":
			err := sys.Msgsnd(id, a, text(a, int(b)), flag)
			out = append(out, op+": "+outcome(err))
		case "r":
			buf := make([]byte, a)
			mtype, n, err := sys.Msgrcv(id, buf, b, flag)
			if err != nil {
				out = append(out, op+": "+outcome(err))
				continue
			}
			out = append(out, fmt.Sprintf("%s: type=%d n=%d text=%s", op, mtype, n, hexText(buf[:n])))
		}
	}
	return out
}

// text is the content of a message the scripts send: n bytes from seed.
func text(seed int64, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(seed*7 + int64(i))
	}
	return b
}

// hexText prints a text as the C program does: in hexadecimal up to 64
// bytes; beyond, its first 16 bytes, "..." and its 32-bit FNV-1a hash.
func hexText(b []byte) string {
	if len(b) <= 64 {
		return fmt.Sprintf("%x", b)
	}
	h := fnv.New32a()
	h.Write(b)
	return fmt.Sprintf("%x...%08x", b[:16], h.Sum32())
}

// outcome prints an error as the C program does: "ok" or "errno N".
func outcome(err error) string {
	if err == nil {
		return "ok"
	}
	if e, ok := err.(syscall.Errno); ok {
		return fmt.Sprintf("errno %d", int(e))
	}
	return err.Error()
}

func formatMsqid(ds *sysapi.MsqidDS, err error) string {
	if err != nil {
		return outcome(err)
	}
	return fmt.Sprintf("key=%d uid=%d gid=%d cuid=%d cgid=%d mode=%o seq=%d stime=%d rtime=%d ctime=%d cbytes=%d qnum=%d qbytes=%d lspid=%d lrpid=%d",
		ds.Key, ds.Uid, ds.Gid, ds.Cuid, ds.Cgid, ds.Mode, ds.Seq, ds.Stime, ds.Rtime, ds.Ctime, ds.Cbytes, ds.Qnum, ds.Qbytes, ds.Lspid, ds.Lrpid)
}

func formatMsginfo(r int, mi *sysapi.Msginfo, err error) string {
	if err != nil {
		return outcome(err)
	}
	return fmt.Sprintf("ret=%d msgpool=%d msgmap=%d msgmax=%d msgmnb=%d msgmni=%d msgssz=%d msgtql=%d msgseg=%d",
		r, mi.Msgpool, mi.Msgmap, mi.Msgmax, mi.Msgmnb, mi.Msgmni, mi.Msgssz, mi.Msgtql, mi.Msgseg)
}

// glibcSource is a C program that makes the calls of a script through
// glibc and prints one line per outcome, in the format msgScript,
// formatMsqid, formatMsginfo and mqScript print:
//
//	msgops ID OP...   OP: s,TYPE,LEN,FLAGS (msgsnd) | r,BUFLEN,MSGTYP,FLAGS (msgrcv)
//	msgstat ID        msgctl(IPC_STAT)
//	msginfo ipc|msg   msgctl(IPC_INFO or MSG_INFO)
//	mqops NAME OP...  OP: s,PRIO,LEN,T (mq_timedsend) | r,BUFLEN,T (mq_timedreceive)
//	                      | a,FLAGS (mq_setattr) | g (mq_getattr)
//
// FLAGS are letters: n is IPC_NOWAIT (O_NONBLOCK for mq_setattr), e
// MSG_NOERROR, x MSG_EXCEPT, c MSG_COPY, - nothing. T is the deadline: -
// none (mq_send, mq_receive), p one in the past, i an invalid one.
const glibcSource = `#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <time.h>

static struct { long mtype; unsigned char mtext[1 << 17]; } m;
static unsigned char buf[1 << 17];

static void fill(unsigned char *p, long seed, long n) {
	for (long i = 0; i < n; i++) p[i] = (unsigned char)(seed * 7 + i);
}

// hex prints a text: in hexadecimal up to 64 bytes; beyond, its first 16
// bytes, "..." and its 32-bit FNV-1a hash.
static void hex(const unsigned char *p, long n) {
	if (n <= 64) {
		for (long i = 0; i < n; i++) printf("%02x", p[i]);
		return;
	}
	unsigned int h = 2166136261u;
	for (long i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
	for (long i = 0; i < 16; i++) printf("%02x", p[i]);
	printf("...%08x", h);
}

static int flags(const char *s) {
	int f = 0;
	for (; *s; s++) {
		switch (*s) {
		case 'n': f |= IPC_NOWAIT; break;
		case 'e': f |= MSG_NOERROR; break;
		case 'x': f |= MSG_EXCEPT; break;
		case 'c': f |= MSG_COPY; break;
		}
	}
	return f;
}

static struct timespec *deadline(char t, struct timespec *ts) {
	switch (t) {
	case 'p': ts->tv_sec = 1; ts->tv_nsec = 0; return ts;
	case 'i': ts->tv_sec = 0; ts->tv_nsec = 1000000000; return ts;
	}
	return NULL;
}

static void attr(const struct mq_attr *a) {
	printf("flags=%ld maxmsg=%ld msgsize=%ld curmsgs=%ld\n", (long)a->mq_flags, (long)a->mq_maxmsg, (long)a->mq_msgsize, (long)a->mq_curmsgs);
}

int main(int argc, char **argv) {
	if (argc < 3) return 2;
	const char *cmd = argv[1];
	if (strcmp(cmd, "msgops") == 0) {
		int id = atoi(argv[2]);
		for (int i = 3; i < argc; i++) {
			char op, fl[8];
			long a, b;
			if (sscanf(argv[i], "%c,%ld,%ld,%7s", &op, &a, &b, fl) != 4) return 2;
			printf("%s: ", argv[i]);
			if (op == 's') {
				m.mtype = a;
				fill(m.mtext, a, b);
				if (msgsnd(id, &m, (size_t)b, flags(fl)) == -1) printf("errno %d\n", errno);
				else printf("ok\n");
			} else {
				ssize_t n = msgrcv(id, &m, (size_t)a, b, flags(fl));
				if (n == -1) { printf("errno %d\n", errno); continue; }
				printf("type=%ld n=%zd text=", m.mtype, n);
				hex(m.mtext, n);
				printf("\n");
			}
		}
	} else if (strcmp(cmd, "msgstat") == 0) {
		struct msqid_ds ds;
		if (msgctl(atoi(argv[2]), IPC_STAT, &ds) == -1) { printf("errno %d\n", errno); return 0; }
		printf("key=%d uid=%u gid=%u cuid=%u cgid=%u mode=%o seq=%u stime=%lld rtime=%lld ctime=%lld cbytes=%llu qnum=%llu qbytes=%llu lspid=%d lrpid=%d\n",
			(int)ds.msg_perm.__key, (unsigned)ds.msg_perm.uid, (unsigned)ds.msg_perm.gid, (unsigned)ds.msg_perm.cuid, (unsigned)ds.msg_perm.cgid,
			(unsigned)ds.msg_perm.mode, (unsigned)ds.msg_perm.__seq, (long long)ds.msg_stime, (long long)ds.msg_rtime, (long long)ds.msg_ctime,
			(unsigned long long)ds.__msg_cbytes, (unsigned long long)ds.msg_qnum, (unsigned long long)ds.msg_qbytes, (int)ds.msg_lspid, (int)ds.msg_lrpid);
	} else if (strcmp(cmd, "msginfo") == 0) {
		struct msginfo mi;
		int r = msgctl(0, strcmp(argv[2], "msg") == 0 ? MSG_INFO : IPC_INFO, (struct msqid_ds *)&mi);
		if (r == -1) { printf("errno %d\n", errno); return 0; }
		printf("ret=%d msgpool=%d msgmap=%d msgmax=%d msgmnb=%d msgmni=%d msgssz=%d msgtql=%d msgseg=%u\n",
			r, mi.msgpool, mi.msgmap, mi.msgmax, mi.msgmnb, mi.msgmni, mi.msgssz, mi.msgtql, (unsigned)mi.msgseg);
	} else if (strcmp(cmd, "mqops") == 0) {
		mqd_t q = mq_open(argv[2], O_RDWR);
		if (q == (mqd_t)-1) { printf("open: errno %d\n", errno); return 0; }
		for (int i = 3; i < argc; i++) {
			char op = argv[i][0], t = '-', fl[8] = "";
			long a = 0, b = 0;
			struct timespec ts;
			struct mq_attr at, old;
			printf("%s: ", argv[i]);
			switch (op) {
			case 's':
				if (sscanf(argv[i], "s,%ld,%ld,%c", &a, &b, &t) != 3) return 2;
				fill(buf, a, b);
				if (mq_timedsend(q, (const char *)buf, (size_t)b, (unsigned)a, deadline(t, &ts)) == -1) printf("errno %d\n", errno);
				else printf("ok\n");
				break;
			case 'r': {
				unsigned prio = 0;
				if (sscanf(argv[i], "r,%ld,%c", &a, &t) != 2) return 2;
				ssize_t n = mq_timedreceive(q, (char *)buf, (size_t)a, &prio, deadline(t, &ts));
				if (n == -1) { printf("errno %d\n", errno); break; }
				printf("prio=%u n=%zd text=", prio, n);
				hex(buf, n);
				printf("\n");
				break;
			}
			case 'a':
				if (sscanf(argv[i], "a,%7s", fl) != 1) return 2;
				memset(&at, 0, sizeof at);
				at.mq_flags = strchr(fl, 'n') ? O_NONBLOCK : 0;
				if (mq_setattr(q, &at, &old) == -1) printf("errno %d\n", errno);
				else attr(&old);
				break;
			case 'g':
				if (mq_getattr(q, &at) == -1) printf("errno %d\n", errno);
				else attr(&at);
				break;
			default:
				return 2;
			}
		}
		mq_close(q);
	} else {
		return 2;
	}
	return 0;
}
`

// cProgram is the C program of glibcSource built for one ABI.
type cProgram struct{ name, path string }

// run runs the program in the calling thread's IPC namespace and returns
// its output lines, failing the test if it fails.
func (p cProgram) run(t *testing.T, args ...string) []string {
	t.Helper()
	res := shmtest.Run(t, exec.Command(p.path, args...))
	if res.Status != 0 || res.Stderr != "" {
		t.Fatalf("%s %s: %+v", p.name, strings.Join(args, " "), res)
	}
	return strings.Split(strings.TrimSuffix(res.Stdout, "\n"), "\n")
}

// glibcSrc is glibcSource written to a file once per test binary (BuildC
// caches by the source's path), removed by TestMain.
var glibcSrc struct {
	once sync.Once
	dir  string
	err  error
}

// glibcPrograms builds glibcSource as a 64-bit program and, where 32-bit
// C programs build and run, as a 32-bit one. It skips the test if there is
// no C compiler.
func glibcPrograms(t *testing.T) []cProgram {
	t.Helper()
	out, err := exec.Command("go", "env", "CC").Output()
	cc := strings.Fields(string(out))
	if err != nil || len(cc) == 0 {
		t.Skipf("no C compiler to compare with glibc: go env CC: %v", err)
	}
	if _, err := exec.LookPath(cc[0]); err != nil {
		t.Skipf("no C compiler to compare with glibc: %v", err)
	}
	glibcSrc.once.Do(func() {
		glibcSrc.dir, glibcSrc.err = os.MkdirTemp("", "conformance-glibc-")
		if glibcSrc.err == nil {
			glibcSrc.err = os.WriteFile(filepath.Join(glibcSrc.dir, "glibcref.c"), []byte(glibcSource), 0o644)
		}
	})
	if glibcSrc.err != nil {
		t.Fatal(glibcSrc.err)
	}
	src := filepath.Join(glibcSrc.dir, "glibcref.c")
	progs := []cProgram{{"C", shmtest.BuildC(t, src, "-lrt")}}
	if ok, reason := shmtest.CanRun32(); ok {
		progs = append(progs, cProgram{"C-m32", shmtest.BuildC(t, src, "-m32", "-lrt")})
	} else {
		t.Logf("no 32-bit C program to compare with: %s", reason)
	}
	return progs
}

// TestMain removes the C programs and their source when the tests end.
func TestMain(m *testing.M) {
	code := m.Run()
	if glibcSrc.dir != "" {
		os.RemoveAll(glibcSrc.dir)
	}
	shmtest.RemoveBuilds()
	os.Exit(code)
}

func atoi64(t *testing.T, s string) int64 {
	t.Helper()
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// outs prints values separated by spaces, as fmt.Sprintln does (an empty
// error string too), without the newline.
func outs(v ...any) string { return strings.TrimSuffix(fmt.Sprintln(v...), "\n") }
