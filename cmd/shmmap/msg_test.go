package main

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shmmap/shmmap"
	"github.com/shmmap/shmmap/purego"
	"github.com/shmmap/shmmap/shmtest"
	"github.com/shmmap/shmmap/sysapi"
	"golang.org/x/sys/unix"
)

// msgPeers are testdata/msgpeer.c, and the same built -m32 where this
// machine runs 32-bit programs (whose blocked msgrcv shows as ipc(2) or
// the direct i386 call in /proc).
func msgPeers(t *testing.T) []semWaiterBuild {
	bs := []semWaiterBuild{{"C", shmtest.BuildC(t, "../../testdata/msgpeer.c", "-lrt")}}
	if ok, why := shmtest.CanRun32(); ok {
		bs = append(bs, semWaiterBuild{"C-m32", shmtest.BuildC(t, "../../testdata/msgpeer.c", "-m32", "-lrt")})
	} else {
		t.Logf("no 32-bit C peer: %s", why)
	}
	return bs
}

// mustAsk is ask that fails the test unless the answer starts with "ok".
func mustAsk(t *testing.T, p *shmtest.Process, line string) string {
	t.Helper()
	got := ask(t, p, line)
	if !strings.HasPrefix(got, "ok") {
		t.Fatalf("peer: %q answered %q", line, got)
	}
	return strings.TrimSpace(strings.TrimPrefix(got, "ok"))
}

// ipcsMsgRow is what ipcs -q prints of a queue.
type ipcsMsgRow struct {
	Key       string
	Msqid     int
	Owner     string
	Perms     uint32
	UsedBytes int64
	Messages  int64
}

// runIpcsMsg runs ipcs -q in the test's namespace and returns its rows,
// sorted by msqid.
func runIpcsMsg(t *testing.T) []ipcsMsgRow {
	t.Helper()
	path, err := exec.LookPath("ipcs")
	if err != nil {
		t.Skip("ipcs (util-linux) is not installed; the comparison needs it")
	}
	res := runProg(t, runOpts{}, path, "-q")
	if res.Status != 0 {
		t.Fatalf("ipcs -q: %+v", res)
	}
	var rows []ipcsMsgRow
	for _, line := range strings.Split(res.Stdout, "\n") {
		f := strings.Fields(line)
		if len(f) != 6 || !strings.HasPrefix(f[0], "0x") {
			continue
		}
		perms, err := strconv.ParseUint(f[3], 8, 32)
		if err != nil {
			t.Fatalf("ipcs perms in %q: %v", line, err)
		}
		rows = append(rows, ipcsMsgRow{Key: f[0], Msqid: atoi(t, f[1]), Owner: f[2], Perms: uint32(perms),
			UsedBytes: int64(atoi(t, f[4])), Messages: int64(atoi(t, f[5]))})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Msqid < rows[j].Msqid })
	return rows
}

// queueJSONFields are the documented field names of a queue in msg ls
// --json and msg stat --json.
var queueJSONFields = []string{"key", "msqid", "owner", "group", "uid", "gid", "cuid", "cgid", "mode", "cbytes", "qnum",
	"qbytes", "lspid", "lrpid", "stime", "rtime", "ctime", "waiters"}

// queueJSONObj is a queue as msg ls --json prints it.
type queueJSONObj struct {
	Key     string       `json:"key"`
	Msqid   int          `json:"msqid"`
	Owner   string       `json:"owner"`
	Group   string       `json:"group"`
	UID     int          `json:"uid"`
	GID     int          `json:"gid"`
	CUID    int          `json:"cuid"`
	CGID    int          `json:"cgid"`
	Mode    string       `json:"mode"`
	Cbytes  int64        `json:"cbytes"`
	Qnum    int64        `json:"qnum"`
	Qbytes  *int64       `json:"qbytes"`
	Lspid   int          `json:"lspid"`
	Lrpid   int          `json:"lrpid"`
	Stime   *string      `json:"stime"`
	Rtime   *string      `json:"rtime"`
	Ctime   *string      `json:"ctime"`
	Waiters []jsonWaiter `json:"waiters"`
}

// msgFixture is queues made by C and by Go, with a C process blocked in
// msgrcv on one.
type msgFixture struct {
	cQueue, cPrivate, goQueue, nobodyQueue int
	peer, waiter                           *shmtest.Process
}

// makeMsgFixture makes, in the test's namespace: with the C peer, key
// 0x500 (0600) holding two messages, and a private queue (0644) holding
// one; with Go through the contract, 0x600 (0640) holding one message, and
// 0x700 (0604) created by the unprivileged user; and a second C peer
// blocked in msgrcv on 0x600 for type 99, which never comes. Every queue is removed at the end of the test.
func makeMsgFixture(t *testing.T, peerPath string) msgFixture {
	t.Helper()
	var f msgFixture
	rm := func(id int) { t.Cleanup(func() { purego.Impl.Msgctl(id, unix.IPC_RMID, nil) }) }
	f.peer = shmtest.Start(t, exec.Command(peerPath))
	f.cPrivate = atoi(t, mustAsk(t, f.peer, "get 0 01644"))
	rm(f.cPrivate)
	mustAsk(t, f.peer, "snd 3 "+hex.EncodeToString([]byte("private"))+" 0")
	f.cQueue = atoi(t, mustAsk(t, f.peer, "get 0x500 03600"))
	rm(f.cQueue)
	mustAsk(t, f.peer, "snd 1 "+hex.EncodeToString([]byte("hello"))+" 0")
	mustAsk(t, f.peer, "snd 2 "+hex.EncodeToString([]byte("from C, longer"))+" 0")
	impl := shmmap.Default.Impl()
	id, err := impl.Msgget(0x600, unix.IPC_CREAT|unix.IPC_EXCL|0o640)
	if err != nil {
		t.Fatal(err)
	}
	f.goQueue = id
	rm(id)
	if err := impl.Msgsnd(id, 5, []byte("from Go"), 0); err != nil {
		t.Fatal(err)
	}
	var nerr error
	shmtest.DoUnprivileged(t, func() { f.nobodyQueue, nerr = impl.Msgget(0x700, unix.IPC_CREAT|0o604) })
	if nerr != nil {
		t.Fatal(nerr)
	}
	rm(f.nobodyQueue)
	f.waiter = shmtest.Start(t, exec.Command(peerPath))
	mustAsk(t, f.waiter, "id "+strconv.Itoa(f.goQueue))
	f.waiter.Send(t, "rcv 100 99 0")
	waitInMsgCall(t, f.waiter)
	return f
}

// waitInMsgCall waits until p is asleep in msgrcv or msgsnd: its wchan is
// do_msgrcv or do_msgsnd (msgpeer.c's header).
func waitInMsgCall(t *testing.T, p *shmtest.Process) {
	t.Helper()
	shmtest.WaitFor(t, "the C peer asleep in a System V message call", waitTimeout, func() bool {
		b, _ := os.ReadFile("/proc/" + strconv.Itoa(p.Pid()) + "/wchan")
		return strings.HasPrefix(string(b), "do_msg")
	}, p)
}

// TestMsgLsMatchesIpcs: msg ls and msg ls --json show the rows ipcs -q
// shows (key, msqid, owner, perms, used-bytes, messages) for queues C and
// Go made, and name the C process blocked in msgrcv, 64-bit and 32-bit.
func TestMsgLsMatchesIpcs(t *testing.T) {
	for _, b := range msgPeers(t) {
		t.Run(b.name, func(t *testing.T) {
			shmtest.Isolate(t)
			shmtest.NoLeaks(t)
			f := makeMsgFixture(t, b.path)
			want := runIpcsMsg(t)
			if len(want) != 4 {
				t.Fatalf("ipcs -q lists %d queues, want 4: %+v", len(want), want)
			}
			comm := progComm(b.path)
			wantWaiters := map[int]string{f.goQueue: strconv.Itoa(f.waiter.Pid()) + " " + comm + " msgrcv"}
			var got []ipcsMsgRow
			waiters := map[int]string{}
			for _, r := range parseTable(t, mustShmmap(t, "msg", "ls")) {
				perms, err := strconv.ParseUint(r["MODE"], 8, 32)
				if err != nil {
					t.Fatalf("MODE %q: %v", r["MODE"], err)
				}
				row := ipcsMsgRow{Key: r["KEY"], Msqid: atoi(t, r["MSQID"]), Owner: r["OWNER"], Perms: uint32(perms),
					UsedBytes: int64(atoi(t, r["BYTES"])), Messages: int64(atoi(t, r["MESSAGES"]))}
				got = append(got, row)
				if r["WAITERS"] != "-" {
					waiters[row.Msqid] = r["WAITERS"]
				}
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("shmmap msg ls differs from ipcs -q (-ipcs +shmmap):\n%s", d)
			}
			if d := cmp.Diff(wantWaiters, waiters); d != "" {
				t.Errorf("msg ls WAITERS by msqid (-want +got):\n%s", d)
			}

			var raws []json.RawMessage
			out := mustShmmap(t, "msg", "ls", "--json")
			if err := json.Unmarshal([]byte(out), &raws); err != nil {
				t.Fatalf("msg ls --json: %v\n%s", err, out)
			}
			got = nil
			for _, raw := range raws {
				var q queueJSONObj
				decodeStrict(t, raw, queueJSONFields, &q)
				perms, _ := strconv.ParseUint(q.Mode, 8, 32)
				got = append(got, ipcsMsgRow{Key: q.Key, Msqid: q.Msqid, Owner: q.Owner, Perms: uint32(perms), UsedBytes: q.Cbytes, Messages: q.Qnum})
				if q.Msqid == f.goQueue {
					if len(q.Waiters) != 1 || q.Waiters[0].PID != f.waiter.Pid() || q.Waiters[0].Call != "msgrcv" || q.Waiters[0].Command != comm {
						t.Errorf("queue %d's waiters: %+v; want pid %d in msgrcv", q.Msqid, q.Waiters, f.waiter.Pid())
					}
				} else if len(q.Waiters) != 0 {
					t.Errorf("queue %d's waiters: %+v; want none", q.Msqid, q.Waiters)
				}
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("shmmap msg ls --json differs from ipcs -q (-ipcs +shmmap):\n%s", d)
			}
		})
	}
}

// TestMsgStatMatchesIPCStat: msg stat --json, with the queue named by key,
// id and ftok, shows what msgctl(IPC_STAT) through the contract shows.
func TestMsgStatMatchesIPCStat(t *testing.T) {
	shmtest.Isolate(t)
	shmtest.NoLeaks(t)
	f := makeMsgFixture(t, msgPeers(t)[0].path)
	file := t.TempDir() + "/ftok file"
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	key, err := shmmap.Ftok(file, 'Q')
	if err != nil {
		t.Fatal(err)
	}
	ftokID := atoi(t, mustAsk(t, f.peer, "get "+strconv.Itoa(int(key))+" 03600"))
	t.Cleanup(func() { purego.Impl.Msgctl(ftokID, unix.IPC_RMID, nil) })
	mustAsk(t, f.peer, "setqbytes 1000")
	type named struct {
		id  int
		ref string
	}
	cases := []named{{f.cQueue, "0x500"}, {f.cQueue, "1280"}, {ftokID, "ftok:" + file + ":Q"}, {ftokID, "ftok:" + file + ":0x51"}}
	for _, id := range []int{f.cQueue, f.cPrivate, f.goQueue, f.nobodyQueue, ftokID} {
		cases = append(cases, named{id, "id:" + strconv.Itoa(id)})
	}
	for _, c := range cases {
		var got queueJSONObj
		decodeStrict(t, json.RawMessage(mustShmmap(t, "msg", "stat", c.ref, "--json")), queueJSONFields, &got)
		var ds sysapi.MsqidDS
		if _, err := purego.Impl.Msgctl(c.id, unix.IPC_STAT, &ds); err != nil {
			t.Fatal(err)
		}
		qb := int64(ds.Qbytes)
		want := queueJSONObj{
			Key: shmmap.Key(ds.Key).String(), Msqid: c.id, Owner: got.Owner, Group: got.Group,
			UID: int(ds.Uid), GID: int(ds.Gid), CUID: int(ds.Cuid), CGID: int(ds.Cgid),
			Mode: "0" + strconv.FormatUint(uint64(ds.Mode&0o777), 8), Cbytes: int64(ds.Cbytes), Qnum: int64(ds.Qnum), Qbytes: &qb,
			Lspid: int(ds.Lspid), Lrpid: int(ds.Lrpid), Stime: rfcSeconds(ds.Stime), Rtime: rfcSeconds(ds.Rtime), Ctime: rfcSeconds(ds.Ctime),
			Waiters: got.Waiters,
		}
		for len(want.Mode) < 4 {
			want.Mode = "0" + want.Mode
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("shmmap msg stat --json %s differs from IPC_STAT (-IPC_STAT +shmmap):\n%s", c.ref, d)
		}
		text := map[string]string{}
		for _, line := range strings.Split(strings.TrimSpace(mustShmmap(t, "msg", "stat", c.ref)), "\n") {
			name, value, _ := strings.Cut(line, "  ")
			text[strings.TrimSpace(name)] = strings.TrimSpace(value)
		}
		for name, value := range map[string]string{"key": want.Key, "msqid": strconv.Itoa(c.id), "mode": want.Mode,
			"messages": strconv.FormatUint(ds.Qnum, 10), "bytes": strconv.FormatUint(ds.Cbytes, 10), "qbytes": strconv.FormatUint(ds.Qbytes, 10),
			"lspid": strconv.Itoa(int(ds.Lspid)), "lrpid": strconv.Itoa(int(ds.Lrpid))} {
			if text[name] != value {
				t.Errorf("shmmap msg stat %s: %s is %q, want %q", c.ref, name, text[name], value)
			}
		}
	}
}

// TestMsgRm: msg rm refuses the queue a C process is blocked in msgrcv
// on, naming it, and keeps the queue and its message; msg rm --force
// removes it and the receiver's msgrcv fails with EIDRM; a queue nobody
// waits on is removed without --force.
func TestMsgRm(t *testing.T) {
	for _, b := range msgPeers(t) {
		t.Run(b.name, func(t *testing.T) {
			shmtest.Isolate(t)
			shmtest.NoLeaks(t)
			f := makeMsgFixture(t, b.path)
			pid := strconv.Itoa(f.waiter.Pid())
			res := runShmmap(t, runOpts{}, "msg", "rm", "0x600")
			if res.Status != 1 || res.Stdout != "" {
				t.Errorf("msg rm of a waited-on queue: %+v; want status 1", res)
			}
			for _, s := range []string{"shmmap: msg rm key 0x00000600: ", "pid " + pid + " (" + progComm(b.path) + ", in msgrcv)", "--force"} {
				if !strings.Contains(res.Stderr, s) {
					t.Errorf("msg rm says %q; want it to contain %q", res.Stderr, s)
				}
			}
			var ds sysapi.MsqidDS
			if _, err := purego.Impl.Msgctl(f.goQueue, unix.IPC_STAT, &ds); err != nil || ds.Qnum != 1 {
				t.Errorf("after a refused rm: %+v, %v; want the queue with its message", ds, err)
			}
			res = runShmmap(t, runOpts{}, "msg", "rm", "--force", "0x600")
			if res.Status != 0 || res.Stdout != "" || !strings.Contains(res.Stderr, "removed while processes waited") || !strings.Contains(res.Stderr, "pid "+pid) {
				t.Errorf("msg rm --force: %+v", res)
			}
			if got := f.waiter.WaitLine(t, "", waitTimeout); got != "err 43" {
				t.Errorf("the receiver's msgrcv after rm --force: %q, want err 43 (EIDRM)", got)
			}
			for _, ref := range []string{"0x500", "id:" + strconv.Itoa(f.cPrivate), "1792"} {
				if res := runShmmap(t, runOpts{}, "msg", "rm", ref); res.Status != 0 || res.Stdout != "" || res.Stderr != "" {
					t.Errorf("msg rm %s of a free queue: %+v", ref, res)
				}
			}
			if qs, err := shmmap.ListQueues(); err != nil || len(qs) != 0 {
				t.Errorf("after removing every queue: %+v, %v", qs, err)
			}
			res = runShmmap(t, runOpts{}, "msg", "rm", "0x600")
			if res.Status != 1 || !strings.Contains(res.Stderr, "msg rm key 0x00000600: no such queue") {
				t.Errorf("msg rm of a missing queue: %+v", res)
			}
		})
	}
}

// TestMsgSendRecv: messages go both ways between shmmap and the C peer,
// with types and selections as msgrcv makes them; --nowait on an empty
// queue fails with "no message", --json shows type, size and bytes.
func TestMsgSendRecv(t *testing.T) {
	for _, b := range msgPeers(t) {
		t.Run(b.name, func(t *testing.T) {
			shmtest.Isolate(t)
			shmtest.NoLeaks(t)
			peer := shmtest.Start(t, exec.Command(b.path))
			id := atoi(t, mustAsk(t, peer, "get 0x900 03600"))
			t.Cleanup(func() { purego.Impl.Msgctl(id, unix.IPC_RMID, nil) })

			// shmmap -> C.
			msg := []byte("hello\x00from shmmap\n")
			if res := runShmmap(t, runOpts{stdin: msg}, "msg", "send", "--type", "7", "0x900"); res.Status != 0 || res.Stderr != "" {
				t.Fatalf("msg send: %+v", res)
			}
			if res := runShmmap(t, runOpts{}, "msg", "send", "0x900"); res.Status != 0 {
				t.Fatalf("msg send of an empty message: %+v", res)
			}
			if got := mustAsk(t, peer, "rcv 100 7 0"); got != "7 "+hex.EncodeToString(msg) {
				t.Errorf("C received %q, want type 7 and %x", got, msg)
			}
			if got := mustAsk(t, peer, "rcv 100 0 0"); got != "1 -" {
				t.Errorf("C received %q, want type 1 and no bytes", got)
			}

			// C -> shmmap, with selections.
			for _, m := range []struct{ typ, text string }{{"3", "three"}, {"1", "one"}, {"9", "nine"}} {
				mustAsk(t, peer, "snd "+m.typ+" "+hex.EncodeToString([]byte(m.text))+" 0")
			}
			for _, c := range []struct {
				args []string
				want string
			}{
				{[]string{"--type", "-2"}, "one"},
				{[]string{"--type", "3", "--except"}, "nine"},
				{[]string{}, "three"},
			} {
				res := runShmmap(t, runOpts{}, append(append([]string{"msg", "recv"}, c.args...), "id:"+strconv.Itoa(id))...)
				if res.Status != 0 || res.Stdout != c.want || res.Stderr != "" {
					t.Errorf("msg recv %v: %+v; want %q", c.args, res, c.want)
				}
			}
			mustAsk(t, peer, "snd 12 00ff 0")
			out := mustShmmap(t, "msg", "recv", "--json", "0x900")
			var got map[string]any
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(map[string]any{"type": 12.0, "size": 2.0, "hex": "00ff"}, got); d != "" {
				t.Errorf("msg recv --json (-want +got):\n%s", d)
			}
			res := runShmmap(t, runOpts{}, "msg", "recv", "--nowait", "0x900")
			if res.Status != 1 || res.Stdout != "" || !strings.Contains(res.Stderr, "msg recv key 0x00000900: no message") {
				t.Errorf("msg recv --nowait on an empty queue: %+v", res)
			}
			// A full queue: --nowait fails, and the message is not sent.
			mustAsk(t, peer, "setqbytes 4")
			mustAsk(t, peer, "snd 1 01020304 0")
			res = runShmmap(t, runOpts{stdin: []byte("x")}, "msg", "send", "--nowait", "0x900")
			if res.Status != 1 || !strings.Contains(res.Stderr, "queue is full") {
				t.Errorf("msg send --nowait to a full queue: %+v", res)
			}
			if got := mustAsk(t, peer, "stat"); !strings.Contains(got, "qnum=1 ") {
				t.Errorf("after the refused send: %s", got)
			}
		})
	}
}
