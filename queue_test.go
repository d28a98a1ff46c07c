package shmmap

// Tests of ListQueues and Queue: in a fresh IPC namespace each, so fixed
// keys never collide and NoLeaks sees only this test's queues.

import (
	"context"
	"errors"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shmmap/shmmap/impls"
	"github.com/shmmap/shmmap/shmtest"
	"github.com/shmmap/shmmap/sysapi"
	"golang.org/x/sys/unix"
	"unsafe"
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

// forEachImpl runs f as a subtest per implementation built in (purego, and
// cshim with cgo), each in a fresh IPC namespace checked for leaks.
//
// Goroutines that make IPC calls for the test must be started with the
// namespace's Go, to be in it.
func forEachImpl(t *testing.T, f func(t *testing.T, s *System, ns *shmtest.Namespace)) {
	for _, impl := range impls.All() {
		t.Run(impl.Name, func(t *testing.T) {
			ns := shmtest.Isolate(t)
			shmtest.NoLeaks(t)
			f(t, Using(impl), ns)
		})
	}
}

// newQueue creates a queue through s and removes it at the end of the test.
func newQueue(t *testing.T, s *System, key Key, perm fs.FileMode) *Queue {
	t.Helper()
	q, err := s.CreateQueue(key, perm)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Remove() })
	return q
}

// TestQueueOpen covers the ways to get a Queue and their errors.
func TestQueueOpen(t *testing.T) {
	forEachImpl(t, func(t *testing.T, s *System, ns *shmtest.Namespace) {
		q := newQueue(t, s, 0x1234, 0o640)
		if _, err := s.CreateQueue(0x1234, 0o600); !errors.Is(err, fs.ErrExist) || !errors.Is(err, unix.EEXIST) {
			t.Errorf("CreateQueue of a taken key: %v, want EEXIST", err)
		}
		var qe *QueueError
		if _, err := s.OpenQueue(0x4321); !errors.Is(err, fs.ErrNotExist) || !errors.As(err, &qe) || qe.Op != "msgget" || qe.Key != 0x4321 || qe.ID != -1 {
			t.Errorf("OpenQueue of a free key: %#v", err)
		}
		if _, err := s.OpenQueue(IPCPrivate); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("OpenQueue(IPCPrivate): %v, want ENOENT", err)
		}
		o, err := s.OpenQueue(0x1234)
		if err != nil || o.ID() != q.ID() || o.Key() != 0x1234 {
			t.Errorf("OpenQueue: %+v, %v; want id %d", o, err, q.ID())
		}
		o, created, err := s.OpenOrCreateQueue(0x1234, 0o600)
		if err != nil || created || o.ID() != q.ID() {
			t.Errorf("OpenOrCreateQueue of an existing queue: %+v, %v, %v", o, created, err)
		}
		o, created, err = s.OpenOrCreateQueue(0x5678, 0o600)
		if err != nil || !created {
			t.Fatalf("OpenOrCreateQueue of a free key: %+v, %v, %v", o, created, err)
		}
		t.Cleanup(func(o *Queue) func() { return func() { o.Remove() } }(o))
		if o.ID() == q.ID() || rawStat(t, o.ID()).Key != 0x5678 {
			t.Errorf("OpenOrCreateQueue created %+v", o)
		}
		o, err = s.OpenQueueID(q.ID())
		if err != nil || o.Key() != 0x1234 {
			t.Errorf("OpenQueueID: %+v, %v", o, err)
		}
		ids := []int{-1, q.ID() + 123456}
		if big := int64(math.MaxInt32) + 1; int64(int(big)) == big {
			ids = append(ids, int(big))
		}
		for _, id := range ids {
			if _, err := s.OpenQueueID(id); !errors.Is(err, unix.EINVAL) {
				t.Errorf("OpenQueueID(%d): %v, want EINVAL", id, err)
			}
		}
		var asNobody error
		shmtest.DoUnprivileged(t, func() { _, asNobody = s.OpenQueueID(q.ID()) })
		if !errors.Is(asNobody, fs.ErrPermission) {
			t.Errorf("OpenQueueID of root's 0640 queue as uid %d: %v, want EACCES", shmtest.Nobody, asNobody)
		}
		if err := q.Remove(); err != nil {
			t.Fatal(err)
		}
		if err := q.Remove(); !errors.Is(err, unix.EINVAL) {
			t.Errorf("a second Remove: %v, want EINVAL", err)
		}
		if _, err := s.OpenQueue(0x1234); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("OpenQueue after Remove: %v", err)
		}
	})
}

// TestQueueSendReceive sends messages and receives them with each
// selection, checking each against the message sent and the queue's
// counts against IPC_STAT through the contract.
func TestQueueSendReceive(t *testing.T) {
	forEachImpl(t, func(t *testing.T, s *System, ns *shmtest.Namespace) {
		q := newQueue(t, s, IPCPrivate, 0o600)
		msgs := []struct {
			typ  int64
			text string
		}{{3, "three"}, {1, "one"}, {2, ""}, {5, "five"}, {1, "one again"}, {4, "four"}}
		for _, m := range msgs {
			if err := q.Send(m.typ, []byte(m.text)); err != nil {
				t.Fatal(err)
			}
		}
		info, err := q.Stat()
		if err != nil {
			t.Fatal(err)
		}
		ds := rawStat(t, q.ID())
		if info.Qnum != int64(ds.Qnum) || info.Cbytes != int64(ds.Cbytes) || info.Qnum != 6 || info.Lspid != unix.Getpid() || info.Qbytes != int64(ds.Qbytes) {
			t.Errorf("Stat %+v, IPC_STAT %+v", info, ds)
		}
		buf := make([]byte, 64)
		steps := []struct {
			typ      int64
			opts     ReceiveOpts
			wantType int64
			want     string
		}{
			{2, ReceiveOpts{}, 2, ""},
			{-2, ReceiveOpts{}, 1, "one"},
			{3, ReceiveOpts{Except: true}, 5, "five"},
			{-10, ReceiveOpts{NoWait: true}, 1, "one again"},
			{0, ReceiveOpts{}, 3, "three"},
			{0, ReceiveOpts{}, 4, "four"},
		}
		for _, st := range steps {
			typ, n, err := q.ReceiveWith(context.Background(), buf, st.typ, st.opts)
			if err != nil || typ != st.wantType || string(buf[:n]) != st.want {
				t.Errorf("ReceiveWith(%d, %+v): %d %q %v; want %d %q", st.typ, st.opts, typ, buf[:max(n, 0)], err, st.wantType, st.want)
			}
		}
		// Empty: TryReceive would block, with ENOMSG as msgrcv says.
		if _, _, err := q.TryReceive(buf, 0); !errors.Is(err, ErrWouldBlock) || !errors.Is(err, unix.ENOMSG) {
			t.Errorf("TryReceive of an empty queue: %v", err)
		}
		// Too long: E2BIG, kept; Truncate takes it cut.
		if err := q.Send(7, []byte("0123456789")); err != nil {
			t.Fatal(err)
		}
		if _, _, err := q.Receive(buf[:4], 0); !errors.Is(err, unix.E2BIG) {
			t.Errorf("Receive into a short buffer: %v, want E2BIG", err)
		}
		typ, n, err := q.ReceiveWith(context.Background(), buf[:4], 7, ReceiveOpts{Truncate: true})
		if err != nil || typ != 7 || string(buf[:n]) != "0123" {
			t.Errorf("Truncate: %d %q %v", typ, buf[:max(n, 0)], err)
		}
		// Bad input is EINVAL from the kernel, never a panic.
		msgmax := Default.Impl()
		var mi sysapi.Msginfo
		if _, err := msgmax.MsgctlInfo(sysapi.IPC_INFO, &mi); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			typ int64
			n   int
		}{{0, 1}, {-1, 1}, {1, int(mi.Msgmax) + 1}, {math.MaxInt64, 1}} {
			if c.typ == math.MaxInt64 && unsafe.Sizeof(0) == 8 {
				continue // a valid long here
			}
			if err := q.TrySend(c.typ, make([]byte, c.n)); !errors.Is(err, unix.EINVAL) {
				t.Errorf("TrySend(%d, %d bytes): %v, want EINVAL", c.typ, c.n, err)
			}
		}
		if info, err := q.Stat(); err != nil || info.Qnum != 0 || info.Lrpid != unix.Getpid() || info.Rtime.IsZero() {
			t.Errorf("Stat after the receives: %+v, %v", info, err)
		}
	})
}

// TestQueueFullAndMaxBytes fills a queue whose msg_qbytes SetMaxBytes
// made small: TrySend would block (EAGAIN), and SendContext gives up with
// the context's error without sending.
func TestQueueFullAndMaxBytes(t *testing.T) {
	forEachImpl(t, func(t *testing.T, s *System, ns *shmtest.Namespace) {
		q := newQueue(t, s, 0x99, 0o600)
		if err := q.SetMaxBytes(10); err != nil {
			t.Fatal(err)
		}
		if ds := rawStat(t, q.ID()); ds.Qbytes != 10 {
			t.Fatalf("IPC_STAT after SetMaxBytes(10): qbytes %d", ds.Qbytes)
		}
		if err := q.SetMaxBytes(-1); !errors.Is(err, unix.EINVAL) {
			t.Errorf("SetMaxBytes(-1): %v", err)
		}
		if err := q.TrySend(1, []byte("0123456789")); err != nil {
			t.Fatal(err)
		}
		if err := q.TrySend(1, []byte("x")); !errors.Is(err, ErrWouldBlock) || !errors.Is(err, unix.EAGAIN) {
			t.Errorf("TrySend to a full queue: %v", err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		start := time.Now()
		if err := q.SendContext(ctx, 1, []byte("x")); err != context.DeadlineExceeded {
			t.Errorf("SendContext to a full queue: %v, want DeadlineExceeded", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("SendContext returned %v after its deadline", d)
		}
		if ds := rawStat(t, q.ID()); ds.Qnum != 1 {
			t.Errorf("the cancelled send was sent: qnum %d", ds.Qnum)
		}
		var asNobody error
		shmtest.DoUnprivileged(t, func() { asNobody = q.SetMaxBytes(100) })
		if !errors.Is(asNobody, fs.ErrPermission) {
			t.Errorf("SetMaxBytes as uid %d: %v", shmtest.Nobody, asNobody)
		}
	})
}

// TestQueueBlockingWakes: a blocked Receive is woken by a Send from
// another goroutine, and a blocked ReceiveContext and Send are woken by
// Remove with EIDRM. Each step waits until the waiter is asleep in the
// kernel (its thread's wchan), not for a while.
func TestQueueBlockingWakes(t *testing.T) {
	forEachImpl(t, func(t *testing.T, s *System, ns *shmtest.Namespace) {
		q := newQueue(t, s, IPCPrivate, 0o600)
		type result struct {
			typ int64
			n   int
			err error
		}
		got := make(chan result, 1)
		buf := make([]byte, 16)
		ns.Go(t, func() {
			typ, n, err := q.Receive(buf, 9)
			got <- result{typ, n, err}
		})
		waitReceivers(t, q, got)
		if err := q.Send(9, []byte("wake")); err != nil {
			t.Fatal(err)
		}
		if r := <-got; r.err != nil || r.typ != 9 || string(buf[:r.n]) != "wake" {
			t.Errorf("woken Receive: %+v %q", r, buf)
		}

		ns.Go(t, func() {
			typ, n, err := q.ReceiveContext(context.Background(), buf, 0)
			got <- result{typ, n, err}
		})
		waitReceivers(t, q, got)
		if err := q.Remove(); err != nil {
			t.Fatal(err)
		}
		if r := <-got; !errors.Is(r.err, unix.EIDRM) {
			t.Errorf("Receive when the queue is removed: %+v, want EIDRM", r)
		}
	})
}

// waitReceivers waits until a goroutine is blocked in msgrcv on q: the
// kernel does not count receivers, so it watches for a thread of this
// process whose wchan is do_msgrcv, failing at once if the goroutine
// reports first.
func waitReceivers[T any](t *testing.T, q *Queue, done <-chan T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case r := <-done:
			t.Fatalf("the receiver returned without blocking: %+v", r)
		default:
		}
		if threadsIn("do_msgrcv", "msgrcv") > 0 {
			return
		}
		time.Sleep(time.Millisecond) // polling a condition with a deadline
	}
	t.Fatal("no thread blocked in msgrcv within 10s")
}

// threadsIn counts this process's threads whose wchan is one of names.
func threadsIn(names ...string) int {
	dirs, _ := os.ReadDir("/proc/self/task")
	n := 0
	for _, d := range dirs {
		b, err := os.ReadFile("/proc/self/task/" + d.Name() + "/wchan")
		if err == nil && slices.Contains(names, strings.TrimSpace(string(b))) {
			n++
		}
	}
	return n
}

// TestQueueContextNeverLoses cancels a ReceiveContext at the moment a
// message is sent, many times, with both orders possible: each message
// must be received exactly once, either by the cancelled call (which then
// returns it, not an error) or by the TryReceive after it, and the call
// must return promptly. The same for SendContext on a full queue.
func TestQueueContextNeverLoses(t *testing.T) {
	forEachImpl(t, func(t *testing.T, s *System, ns *shmtest.Namespace) {
		q := newQueue(t, s, IPCPrivate, 0o600)
		const rounds = 300
		buf := make([]byte, 8)
		returnedByCall, leftInQueue := 0, 0
		for i := range rounds {
			ctx, cancel := context.WithCancel(context.Background())
			msg := []byte(strconv.Itoa(i))
			sent := make(chan error, 1)
			ns.Go(t, func() {
				if i%3 != 0 {
					runtime.Gosched()
				}
				cancel()
				sent <- q.Send(int64(i+1), msg)
			})
			if i%2 == 0 {
				runtime.Gosched()
			}
			start := time.Now()
			typ, n, err := q.ReceiveContext(ctx, buf, 0)
			if d := time.Since(start); d > 5*time.Second {
				t.Fatalf("round %d: ReceiveContext returned %v after the cancel", i, d)
			}
			if err := <-sent; err != nil {
				t.Fatal(err)
			}
			switch {
			case err == nil:
				returnedByCall++
			case err == context.Canceled:
				typ, n, err = q.TryReceive(buf, 0)
				if err != nil {
					t.Fatalf("round %d: cancelled, and message %d is not in the queue: %v", i, i, err)
				}
				leftInQueue++
			default:
				t.Fatalf("round %d: %v", i, err)
			}
			if typ != int64(i+1) || string(buf[:n]) != string(msg) {
				t.Fatalf("round %d: got type %d %q, want %d %q", i, typ, buf[:n], i+1, msg)
			}
			if _, _, err := q.TryReceive(buf, 0); !errors.Is(err, ErrWouldBlock) {
				t.Fatalf("round %d: a message too many (duplicated?): %v", i, err)
			}
		}
		t.Logf("%d rounds: %d messages returned by the cancelled call, %d left in the queue", rounds, returnedByCall, leftInQueue)

		// SendContext on a full queue, cancelled as a receiver makes room.
		if err := q.SetMaxBytes(4); err != nil {
			t.Fatal(err)
		}
		sentByCall, notSent := 0, 0
		for i := range rounds {
			if err := q.TrySend(1, []byte("full")); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			ns.Go(t, func() {
				if i%3 != 0 {
					runtime.Gosched()
				}
				cancel()
				_, _, err := q.Receive(make([]byte, 8), 1)
				done <- err
			})
			err := q.SendContext(ctx, 2, []byte("next"))
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			info, serr := q.Stat()
			if serr != nil {
				t.Fatal(serr)
			}
			switch {
			case err == nil && info.Qnum == 1:
				sentByCall++
			case err == context.Canceled && info.Qnum == 0:
				notSent++
			default:
				t.Fatalf("round %d: SendContext %v with %d messages in the queue", i, err, info.Qnum)
			}
			if info.Qnum == 1 {
				if typ, _, err := q.TryReceive(buf, 0); err != nil || typ != 2 {
					t.Fatalf("round %d: %d %v", i, typ, err)
				}
			}
		}
		t.Logf("%d rounds: %d sent by the cancelled call, %d not sent", rounds, sentByCall, notSent)
	})
}

// TestQueueContextInterruptsBlockedCall checks that a ReceiveContext
// asleep in msgrcv (not in its IPC_NOWAIT try) returns promptly when its
// context ends, leaves no thread in msgrcv, and takes nothing.
func TestQueueContextInterruptsBlockedCall(t *testing.T) {
	forEachImpl(t, func(t *testing.T, s *System, ns *shmtest.Namespace) {
		q := newQueue(t, s, IPCPrivate, 0o600)
		for range 20 {
			ctx, cancel := context.WithCancel(context.Background())
			got := make(chan error, 1)
			ns.Go(t, func() {
				_, _, err := q.ReceiveContext(ctx, make([]byte, 8), 0)
				got <- err
			})
			waitReceivers(t, q, got)
			cancel()
			select {
			case err := <-got:
				if err != context.Canceled {
					t.Fatalf("cancelled ReceiveContext: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("a cancelled ReceiveContext still blocked after 10s")
			}
			if n := threadsIn("do_msgrcv", "msgrcv"); n != 0 {
				t.Fatalf("%d threads still in msgrcv after the cancel", n)
			}
		}
		if err := q.Send(1, []byte("kept")); err != nil {
			t.Fatal(err)
		}
		if info, _ := q.Stat(); info.Qnum != 1 {
			t.Errorf("qnum %d", info.Qnum)
		}
	})
}
