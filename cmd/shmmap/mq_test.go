package main

import (
	"encoding/hex"
	"encoding/json"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shmmap/shmmap/purego"
	"github.com/shmmap/shmmap/shmtest"
	"golang.org/x/sys/unix"
)

// mqJSONFields are the documented field names of a queue in posix mq ls
// --json.
var mqJSONFields = []string{"name", "path", "mode", "owner", "group", "uid", "gid", "messages", "maxmsg", "msgsize",
	"qsize", "notify_pid", "mtime"}

// mqJSONObj is a queue as posix mq ls --json prints it.
type mqJSONObj struct {
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

// cAttr parses msgpeer's mqattr answer into its fields.
func cAttr(t *testing.T, s string) map[string]int64 {
	t.Helper()
	m := map[string]int64{}
	for _, f := range strings.Fields(s) {
		k, v, _ := strings.Cut(f, "=")
		n, err := strconv.ParseInt(v, 0, 64)
		if err != nil {
			t.Fatalf("mqattr field %q in %q", f, s)
		}
		m[k] = n
	}
	return m
}

// TestMqSendRecv: messages go both ways between shmmap and the C peer
// (64- and 32-bit) on a POSIX queue, highest priority first; --nowait on
// an empty queue fails with "no message"; a message above mq_msgsize is
// refused; mq rm removes the queue (and says so of a missing one).
func TestMqSendRecv(t *testing.T) {
	for _, b := range msgPeers(t) {
		t.Run(b.name, func(t *testing.T) {
			shmtest.Isolate(t)
			shmtest.NoLeaks(t)
			peer := shmtest.Start(t, exec.Command(b.path))
			mustAsk(t, peer, "mqopen /shmmap-test 0102 0600 8 64") // O_RDWR|O_CREAT
			t.Cleanup(func() { purego.Impl.MqUnlink("/shmmap-test") })

			for _, m := range []struct{ prio, text string }{{"1", "low"}, {"9", "high\x00"}, {"5", "mid"}} {
				if res := runShmmap(t, runOpts{stdin: []byte(m.text)}, "posix", "mq", "send", "--prio", m.prio, "shmmap-test"); res.Status != 0 || res.Stderr != "" {
					t.Fatalf("posix mq send: %+v", res)
				}
			}
			if a := cAttr(t, mustAsk(t, peer, "mqattr")); a["curmsgs"] != 3 {
				t.Errorf("C's mq_getattr after three sends: %v", a)
			}
			for _, want := range []string{"9 " + hex.EncodeToString([]byte("high\x00")), "5 " + hex.EncodeToString([]byte("mid")), "1 " + hex.EncodeToString([]byte("low"))} {
				if got := mustAsk(t, peer, "mqrcv 64"); got != want {
					t.Errorf("C received %q, want %q", got, want)
				}
			}
			mustAsk(t, peer, "mqsnd 3 616263")
			mustAsk(t, peer, "mqsnd 7 78797a")
			if res := runShmmap(t, runOpts{}, "posix", "mq", "recv", "/shmmap-test"); res.Status != 0 || res.Stdout != "xyz" {
				t.Errorf("posix mq recv: %+v; want xyz, the higher priority", res)
			}
			out := mustShmmap(t, "posix", "mq", "recv", "--json", "shmmap-test")
			var got map[string]any
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(map[string]any{"prio": 3.0, "size": 3.0, "hex": "616263"}, got); d != "" {
				t.Errorf("posix mq recv --json (-want +got):\n%s", d)
			}
			res := runShmmap(t, runOpts{}, "posix", "mq", "recv", "--nowait", "shmmap-test")
			if res.Status != 1 || !strings.Contains(res.Stderr, "posix mq recv shmmap-test: no message") {
				t.Errorf("posix mq recv --nowait on an empty queue: %+v", res)
			}
			res = runShmmap(t, runOpts{stdin: make([]byte, 65)}, "posix", "mq", "send", "shmmap-test")
			if res.Status != 1 || !strings.Contains(res.Stderr, "message too long: 65 bytes, mq_msgsize is 64") {
				t.Errorf("posix mq send of 65 bytes: %+v", res)
			}
			if res := runShmmap(t, runOpts{}, "posix", "mq", "rm", "/shmmap-test", "/missing"); res.Status != 1 || res.Stderr != "shmmap: posix mq rm /missing: no such queue\n" {
				t.Errorf("posix mq rm: %+v", res)
			}
			if got := ask(t, peer, "mqunlink /shmmap-test"); got != "err 2" {
				t.Errorf("after posix mq rm, C's mq_unlink: %q, want err 2 (ENOENT)", got)
			}
		})
	}
}

// TestMqLs: with an mqueue file system mounted (in the test's own mount
// namespace), posix mq ls shows each queue C made with the counts and
// limits C's mq_getattr gives; without one it fails and says how to mount
// it.
func TestMqLs(t *testing.T) {
	ns := shmtest.Isolate(t)
	shmtest.NoLeaks(t)
	res := runShmmap(t, runOpts{}, "posix", "mq", "ls", "--dir", t.TempDir())
	if res.Status != 1 || !strings.Contains(res.Stderr, "no mqueue file system is mounted on") || !strings.Contains(res.Stderr, "mount -t mqueue none") {
		t.Errorf("posix mq ls without a mount: %+v", res)
	}
	if !ns.PrivateDevShm() {
		t.Skip("no private mount namespace here, so no mqueue file system can be mounted for the test alone")
	}
	dir := t.TempDir()
	if err := unix.Mount("none", dir, "mqueue", 0, ""); err != nil {
		t.Skipf("mount -t mqueue: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(dir, 0) })

	peer := shmtest.Start(t, exec.Command(msgPeers(t)[0].path))
	want := map[string]map[string]int64{}
	for _, q := range []struct {
		name, mode string
		maxmsg     int
		sends      []string
	}{{"/a-queue", "0600", 4, []string{"0102", "03"}}, {"/b", "0644", 10, nil}} {
		mustAsk(t, peer, "mqopen "+q.name+" 0102 "+q.mode+" "+strconv.Itoa(q.maxmsg)+" 128")
		name := q.name
		t.Cleanup(func() { purego.Impl.MqUnlink(name) })
		for _, s := range q.sends {
			mustAsk(t, peer, "mqsnd 0 "+s)
		}
		a := cAttr(t, mustAsk(t, peer, "mqattr"))
		mode, _ := strconv.ParseInt(q.mode, 8, 32)
		a["mode"] = mode
		qsize := int64(0)
		for _, s := range q.sends {
			qsize += int64(len(s) / 2)
		}
		a["qsize"] = qsize
		want[q.name] = a
	}
	var objs []json.RawMessage
	out := mustShmmap(t, "posix", "mq", "ls", "--json", "--dir", dir)
	if err := json.Unmarshal([]byte(out), &objs); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	got := map[string]map[string]int64{}
	for _, raw := range objs {
		var q mqJSONObj
		decodeStrict(t, raw, mqJSONFields, &q)
		if q.Messages == nil || q.Maxmsg == nil || q.Msgsize == nil {
			t.Fatalf("%s: no mq_getattr counts: %s", q.Name, raw)
		}
		mode, _ := strconv.ParseInt(q.Mode, 8, 32)
		got[q.Name] = map[string]int64{"flags": 0, "curmsgs": *q.Messages, "maxmsg": *q.Maxmsg, "msgsize": *q.Msgsize, "mode": mode, "qsize": q.Qsize}
		if q.Path != dir+q.Name || q.Owner != "root" {
			t.Errorf("%s: path %q, owner %q", q.Name, q.Path, q.Owner)
		}
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("posix mq ls --json differs from C's mq_getattr (-C +shmmap):\n%s", d)
	}
	table := parseTable(t, mustShmmap(t, "posix", "mq", "ls", "--dir", dir))
	if len(table) != 2 || table[0]["NAME"] != "/a-queue" || table[0]["MESSAGES"] != "2" || table[0]["MAXMSG"] != "4" || table[0]["QSIZE"] != "3" || table[1]["MODE"] != "0644" {
		t.Errorf("posix mq ls table: %+v", table)
	}
}

// TestIPCUsageErrors: malformed sem, msg and posix mq command lines exit
// with status 2 and name the command.
func TestIPCUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"sem"}, "shmmap sem: missing ls, stat, rm"},
		{[]string{"sem", "bogus"}, `shmmap sem: unknown command "bogus"`},
		{[]string{"sem", "stat"}, "shmmap sem stat: missing SET"},
		{[]string{"sem", "rm", "id:x"}, `shmmap sem rm: bad SET "id:x": id:N needs a semid`},
		{[]string{"sem", "ls", "extra"}, "shmmap sem ls: too many arguments: extra"},
		{[]string{"msg", "stat", "ftok:nocolon"}, `shmmap msg stat: bad Q "ftok:nocolon"`},
		{[]string{"msg", "ls", "--bogus"}, "shmmap msg ls: flag provided but not defined"},
		{[]string{"msg", "recv", "--except", "0x1"}, "shmmap msg recv: --except needs --type N with N > 0"},
		{[]string{"msg", "send", "--type", "x", "0x1"}, "shmmap msg send: invalid value"},
		{[]string{"msg", "send", "--type", "0", "0x1"}, "shmmap msg send: --type 0: a message's type must be at least 1"},
		{[]string{"posix", "mq"}, "shmmap posix mq: missing ls, rm, send, recv"},
		{[]string{"posix", "mq", "rm"}, "shmmap posix mq rm: missing NAME"},
		{[]string{"posix", "mq", "send", "--prio", "40000", "q"}, "shmmap posix mq send: --prio 40000"},
		{[]string{"posix", "bogus"}, `shmmap posix: unknown command "bogus": want ls, rm or mq`},
	} {
		res := runShmmap(t, runOpts{}, c.args...)
		if res.Status != 2 || res.Stdout != "" || !strings.HasPrefix(res.Stderr, c.msg) {
			t.Errorf("shmmap %s: status %d, stderr %q; want 2 and %q", strings.Join(c.args, " "), res.Status, res.Stderr, c.msg)
		}
	}
	// A set or queue that is not there: status 1.
	shmtest.Isolate(t)
	for _, args := range [][]string{{"sem", "stat", "0x42"}, {"msg", "stat", "id:7"}, {"msg", "send", "0x42"}, {"sem", "rm", "0"}} {
		res := runShmmap(t, runOpts{}, args...)
		if res.Status != 1 || !strings.Contains(res.Stderr, "no such") {
			t.Errorf("shmmap %s: %+v; want status 1 and no such", strings.Join(args, " "), res)
		}
	}
	for _, args := range [][]string{{"sem", "-h"}, {"help", "msg", "recv"}, {"posix", "mq", "ls", "-h"}} {
		if res := runShmmap(t, runOpts{}, args...); res.Status != 0 || !strings.HasPrefix(res.Stdout, "usage: shmmap ") {
			t.Errorf("shmmap %s: %+v", strings.Join(args, " "), res)
		}
	}
}
