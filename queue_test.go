package shmmap

// Tests of ListQueues and Queue: in a fresh IPC namespace each, so fixed
// keys never collide and NoLeaks sees only this test's queues.

import (
	"errors"
	"io/fs"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shmmap/shmmap/shmtest"
	"github.com/shmmap/shmmap/sysapi"
	"golang.org/x/sys/unix"
)

// rawQueue creates a queue through the contract alone (not through Queue),
// so ListQueues is checked against something it does not share code with,
// and removes it at the end of the test.
func rawQueue(t *testing.T, key Key, flag int) int {
	t.Helper()
	impl := Default.Impl()
	id, err := impl.Msgget(int(key), unix.IPC_CREAT|unix.IPC_EXCL|flag)
	if err != nil {
		t.Fatalf("msgget(%v): %v", key, err)
	}
	t.Cleanup(func() { impl.Msgctl(id, unix.IPC_RMID, nil) })
	return id
}

// rawStat is msgctl(IPC_STAT) through the contract.
func rawStat(t *testing.T, id int) sysapi.MsqidDS {
	t.Helper()
	var ds sysapi.MsqidDS
	if _, err := Default.Impl().Msgctl(id, unix.IPC_STAT, &ds); err != nil {
		t.Fatalf("msgctl(%d, IPC_STAT): %v", id, err)
	}
	return ds
}

// TestListQueuesMatchesStat lists queues in several states (empty, with
// messages sent and some received, a changed msg_qbytes, a private key, a
// negative key, one owned by the unprivileged user) and compares each with
// msgctl(IPC_STAT) through the contract, field by field, for root and for
// the unprivileged user (who may not IPC_STAT root's 0600 queues but lists
// them, Qbytes included, through MSG_STAT_ANY).
func TestListQueuesMatchesStat(t *testing.T) {
	shmtest.Isolate(t)
	shmtest.NoLeaks(t)
	if qs, err := ListQueues(); err != nil || len(qs) != 0 {
		t.Fatalf("a fresh IPC namespace lists queues: %+v, %v", qs, err)
	}
	impl := Default.Impl()
	ids := []int{
		rawQueue(t, 0x1234, 0o600),
		rawQueue(t, -5, 0o644),
		rawQueue(t, IPCPrivate, 0o666),
		rawQueue(t, 0x2222, 0o640),
	}
	for i, m := range []string{"one", "three", "seventeen bytes.."} {
		if err := impl.Msgsnd(ids[0], int64(i+1), []byte(m), 0); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := impl.Msgrcv(ids[0], make([]byte, 64), 0, unix.IPC_NOWAIT); err != nil {
		t.Fatal(err)
	}
	ds := rawStat(t, ids[3])
	ds.Qbytes = 777
	if _, err := impl.Msgctl(ids[3], unix.IPC_SET, &ds); err != nil {
		t.Fatal(err)
	}
	var nobodyID int
	var nobodyErr error
	shmtest.DoUnprivileged(t, func() { nobodyID, nobodyErr = impl.Msgget(0x5555, unix.IPC_CREAT|0o604) })
	if nobodyErr != nil {
		t.Fatalf("msgget as uid %d: %v", shmtest.Nobody, nobodyErr)
	}
	t.Cleanup(func() { impl.Msgctl(nobodyID, unix.IPC_RMID, nil) })
	ids = append(ids, nobodyID)

	var want []QueueInfo
	for _, id := range ids {
		ds := rawStat(t, id)
		want = append(want, QueueInfo{
			Key: Key(ds.Key), ID: id, Mode: fs.FileMode(ds.Mode & 0o777),
			UID: int(ds.Uid), GID: int(ds.Gid), CUID: int(ds.Cuid), CGID: int(ds.Cgid),
			Qnum: int64(ds.Qnum), Cbytes: int64(ds.Cbytes), Qbytes: int64(ds.Qbytes),
			Lspid: int(ds.Lspid), Lrpid: int(ds.Lrpid),
			Stime: timeOrZero(ds.Stime), Rtime: timeOrZero(ds.Rtime), Ctime: timeOrZero(ds.Ctime),
		})
	}
	sort.Slice(want, func(i, j int) bool { return want[i].ID < want[j].ID })
	got, err := ListQueues()
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("ListQueues differs from IPC_STAT (-IPC_STAT +ListQueues):\n%s", d)
	}
	// What was done to the queues shows (so the comparison is not of two
	// empty tables).
	byKey := map[Key]QueueInfo{}
	for _, q := range got {
		byKey[q.Key] = q
	}
	if q := byKey[0x1234]; q.Qnum != 2 || q.Cbytes != 5+17 || q.Lspid != unix.Getpid() || q.Lrpid != unix.Getpid() || q.Stime.IsZero() || q.Rtime.IsZero() {
		t.Errorf("0x1234 after 3 sends and a receive: %+v", q)
	}
	if q := byKey[0x2222]; q.Qbytes != 777 {
		t.Errorf("0x2222 after IPC_SET of msg_qbytes 777: %+v", q)
	}
	if q := byKey[0x5555]; q.UID != shmtest.Nobody || q.Mode != 0o604 {
		t.Errorf("0x5555 created by uid %d: %+v", shmtest.Nobody, q)
	}

	// The unprivileged user lists the same, Qbytes of queues it may not
	// IPC_STAT included.
	var asNobody []QueueInfo
	var listErr error
	shmtest.DoUnprivileged(t, func() { asNobody, listErr = ListQueues() })
	if listErr != nil {
		t.Fatal(listErr)
	}
	if d := cmp.Diff(got, asNobody); d != "" {
		t.Errorf("ListQueues as uid %d differs from root's (-root +nobody):\n%s", shmtest.Nobody, d)
	}
}

func timeOrZero(sec int64) time.Time {
	if sec == 0 {
		return time.Time{}
	}
	return time.Unix(sec, 0)
}

// TestListQueuesMatchesIpcs compares ListQueues with `ipcs -q` run at the
// same moment: key, id, permissions, used bytes and message count.
func TestListQueuesMatchesIpcs(t *testing.T) {
	shmtest.Isolate(t)
	shmtest.NoLeaks(t)
	if _, err := exec.LookPath("ipcs"); err != nil {
		t.Skip("no ipcs here (util-linux)")
	}
	impl := Default.Impl()
	a := rawQueue(t, 0x1234, 0o600)
	rawQueue(t, 0x7fffffff, 0o444)
	rawQueue(t, IPCPrivate, 0o666)
	for i := range 5 {
		if err := impl.Msgsnd(a, int64(i+1), make([]byte, 10*i), 0); err != nil {
			t.Fatal(err)
		}
	}
	got, err := ListQueues()
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ipcs", "-q").Output()
	if err != nil {
		t.Fatalf("ipcs -q: %v", err)
	}
	// key msqid owner perms used-bytes messages
	var want []string
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) != 6 || !strings.HasPrefix(f[0], "0x") {
			continue
		}
		key, err := strconv.ParseUint(f[0][2:], 16, 32)
		if err != nil {
			t.Fatalf("ipcs key %q: %v", f[0], err)
		}
		want = append(want, strings.Join([]string{strconv.Itoa(int(int32(uint32(key)))), f[1], f[3], f[4], f[5]}, " "))
	}
	var have []string
	for _, q := range got {
		have = append(have, strings.Join([]string{strconv.Itoa(int(q.Key)), strconv.Itoa(q.ID),
			strconv.FormatUint(uint64(q.Mode), 8), strconv.FormatInt(q.Cbytes, 10), strconv.FormatInt(q.Qnum, 10)}, " "))
	}
	sort.Strings(want)
	sort.Strings(have)
	if len(want) != 3 {
		t.Fatalf("ipcs -q lists %d queues, want 3:\n%s", len(want), out)
	}
	if d := cmp.Diff(want, have); d != "" {
		t.Errorf("ListQueues differs from ipcs -q (-ipcs +ListQueues):\n%s\nipcs -q:\n%s", d, out)
	}
}

// TestParseSysvipcMsg parses the kernel's layout and a reordered one, and
// rejects broken tables with errors naming the problem.
func TestParseSysvipcMsg(t *testing.T) {
	const header = "       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid      stime      rtime      ctime\n"
	want := []QueueInfo{
		{Key: 0x1234, ID: 0, Mode: 0o600, Cbytes: 22, Qnum: 2, Qbytes: -1, Lspid: 10, Lrpid: 11, UID: 1, GID: 2, CUID: 3, CGID: 4,
			Stime: time.Unix(1700000001, 0), Ctime: time.Unix(1700000000, 0)},
		{Key: -5, ID: 32769, Mode: 0o644, Qbytes: -1, UID: 65534, GID: 65534, Ctime: time.Unix(1700000004, 0)},
	}
	kernel := header +
		"-5      32769   644           0          0     0     0 65534 65534     0     0          0          0 1700000004\n" +
		"      4660          0   600          22          2    10    11     1     2     3     4 1700000001          0 1700000000\n"
	reordered := "msqid ctime extra key perms qnum cbytes uid gid cuid cgid lspid lrpid stime rtime\n" +
		"0 1700000000 y 4660 600 2 22 1 2 3 4 10 11 1700000001 0\n\n" +
		"32769 1700000004 x -5 644 0 0 65534 65534 0 0 0 0 0 0\n"
	for name, table := range map[string]string{"kernel": kernel, "reordered": reordered} {
		got, err := parseSysvipcMsg(strings.NewReader(table), "test")
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s (-want +got):\n%s", name, d)
		}
	}
	for name, c := range map[string]struct{ table, errHas string }{
		"empty":          {"", "no header"},
		"missing column": {"key msqid perms\n", `no "cbytes" column`},
		"short line":     {header + "1 2 3\n", "3 fields for 14 columns"},
		"bad number":     {header + "x 0 600 0 0 0 0 0 0 0 0 0 0 0\n", "column key"},
		"bad perms":      {header + "1 0 999 0 0 0 0 0 0 0 0 0 0 0\n", "octal"},
	} {
		_, err := parseSysvipcMsg(strings.NewReader(c.table), "test")
		if err == nil || !strings.Contains(err.Error(), c.errHas) {
			t.Errorf("%s: got %v, want an error containing %q", name, err, c.errHas)
		}
	}
	if _, err := parseSysvipcMsg(errReader{}, "test"); !errors.Is(err, unix.EIO) {
		t.Errorf("a failing reader: got %v, want EIO", err)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, unix.EIO }
