package pthreadqueue_test

// The queue's C programs and their Go ports, tested with nothing but the
// kit a user has: shmtest (namespaces, builds, runs, handshakes, diffs,
// leaks), layout (the struct against the header, on both ABIs) and go-cmp
// (inside shmtest.Diff). Every pair's output must be the C pair's, byte for
// byte, in a normal run and when the producer dies holding the lock.

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shmmap/shmmap/examples/pthreadqueue/queue"
	"github.com/shmmap/shmmap/layout"
	"github.com/shmmap/shmmap/layout/layouttest"
	"github.com/shmmap/shmmap/shmtest"
	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) { shmtest.Main(m) }

// TestLayout holds the Go type to c/queue.h, here and (where the machine
// runs 32-bit programs) again as a GOARCH=386 binary against gcc -m32:
// pthread_mutex_t and pthread_cond_t as byte arrays of their sizes.
func TestLayout(t *testing.T) {
	layouttest.Also386(t)
	if err := layout.Check(queue.Queue{}, "c/queue.h", "struct queue", layouttest.CFlags(t)...); err != nil {
		t.Error(err)
	}
}

// prog is one program of the queue, in one language.
type prog struct {
	lang string
	path string
}

// programs builds the producer and the consumer in C and in Go for this
// test binary's ABI: a 386 test run pairs its 32-bit Go ports with C built
// with -m32, since a 64-bit queue is not a 32-bit one.
func programs(t *testing.T) (producers, consumers []prog) {
	t.Helper()
	if runtime.GOARCH == "386" {
		shmtest.Require32(t)
	}
	cflags := append(layouttest.CFlags(t), "-pthread")
	producers = []prog{{"C", shmtest.BuildC(t, "c/producer.c", cflags...)}, {"Go", shmtest.BuildGo(t, "./producer")}}
	consumers = []prog{{"C", shmtest.BuildC(t, "c/consumer.c", cflags...)}, {"Go", shmtest.BuildGo(t, "./consumer")}}
	return producers, consumers
}

// isolate gives the test an IPC namespace of its own and fails it if the
// programs leave a segment there. Whatever happens (a consumer that
// crashed, a failed handshake), the segments are then removed.
func isolate(t *testing.T) {
	shmtest.Isolate(t)
	t.Cleanup(func() { removeSegments(t) }) // runs after NoLeaks' check
	shmtest.NoLeaks(t)
}

// removeSegments removes every segment of the test's namespace, which only
// the test's programs use.
func removeSegments(t *testing.T) {
	list, err := os.ReadFile("/proc/sysvipc/shm")
	if err != nil {
		t.Error(err)
		return
	}
	lines := strings.Split(strings.TrimSpace(string(list)), "\n")
	for _, line := range lines[1:] { // after the header
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		if id, err := strconv.Atoi(fields[1]); err == nil {
			if _, err := unix.SysvShmCtl(id, unix.IPC_RMID, nil); err != nil {
				t.Errorf("removing segment %d: %v", id, err)
			}
		}
	}
}

const timeout = 30 * time.Second

// session runs what a user of the queue does, through one ftok path: a
// consumer started too early (no queue: an error), then the producer with
// args (in which "PATH" stands for the path) and, once it says the queue
// is ready, the consumer. It returns the Results of the early consumer,
// the producer and the consumer.
func session(t *testing.T, producer, consumer prog, args ...string) []shmtest.Result {
	t.Helper()
	path := filepath.Join(t.TempDir(), "queue.key")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	early := shmtest.Run(t, exec.Command(consumer.path, path))
	args = append([]string(nil), args...)
	for i := range args {
		if args[i] == "PATH" {
			args[i] = path
		}
	}
	p := shmtest.Start(t, exec.Command(producer.path, args...))
	p.WaitLine(t, "queue ready", timeout)
	c := shmtest.Start(t, exec.Command(consumer.path, path))
	cres := c.Wait(t, timeout)
	return []shmtest.Result{early, p.Wait(t, timeout), cres}
}

// A scenario is the producer's arguments, and a check of the
// C pair's own results (early consumer, producer, consumer).
type scenario struct {
	name  string
	args  []string
	check func(t *testing.T, res []shmtest.Result)
}

// lastField returns the last word of the last line of s.
func lastField(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	f := strings.Fields(lines[len(lines)-1])
	if len(f) == 0 {
		return ""
	}
	return f[len(f)-1]
}

// itemLines counts the lines of the consumer's output that print an item.
func itemLines(s string) int { return strings.Count("\n"+s, "\nitem ") }

// finished checks a C pair's normal run of n items: the consumer took
// them all and its checksum is the producer's.
func finished(n int) func(*testing.T, []shmtest.Result) {
	return func(t *testing.T, res []shmtest.Result) {
		p, c := res[1], res[2]
		if p.Status != 0 || c.Status != 0 || itemLines(c.Stdout) != n ||
			!strings.HasSuffix(c.Stdout, "the producer finished\n") {
			t.Fatalf("the C pair itself misbehaves: producer %+v, consumer %+v", p, c)
		}
		// "producer: queued N items, checksum X" and "consumer: N taken, checksum X; ..."
		_, want, _ := strings.Cut(p.Stdout, "checksum ")
		_, got, _ := strings.Cut(c.Stdout, "checksum ")
		if want, got = strings.TrimSpace(want), strings.Fields(strings.TrimSuffix(got, "\n"))[0]; want+";" != got {
			t.Fatalf("the C consumer's checksum %q is not the C producer's %q", got, want)
		}
	}
}

// died checks a C pair's run in which the producer killed itself holding
// the lock after k items: SIGKILL, and a consumer that recovered and took
// the k items and the one half queued.
func died(k int) func(*testing.T, []shmtest.Result) {
	return func(t *testing.T, res []shmtest.Result) {
		p, c := res[1], res[2]
		if p.Status != 128+int(unix.SIGKILL) || c.Status != 0 || itemLines(c.Stdout) != k+1 ||
			!strings.Contains(c.Stdout, "(EOWNERDEAD)") || !strings.Contains(c.Stdout, "repaired count from 0 to 1") ||
			!strings.HasSuffix(c.Stdout, "the producer died\n") || lastField(p.Stdout) != strconv.Itoa(k+1) {
			t.Fatalf("the C pair itself misbehaves: producer %+v, consumer %+v", p, c)
		}
	}
}

var scenarios = []scenario{
	{"40-items", []string{"PATH", "40"}, finished(40)},
	{"no-items", []string{"PATH", "0"}, finished(0)},
	{"1000-items", []string{"PATH", "1000"}, finished(1000)},
	// The producer dies while the consumer waits on not_empty (nobody
	// signals it: the consumer's timed wait retakes the lock and gets
	// EOWNERDEAD) or on the lock (the kernel wakes it).
	{"producer-killed-after-20", []string{"-die-after", "20", "PATH", "40"}, died(20)},
	// The producer dies before or as the consumer attaches: its first lock
	// gets EOWNERDEAD.
	{"producer-killed-at-once", []string{"-die-after", "0", "PATH", "40"}, died(0)},
}

// TestPairs runs every scenario for every producer with every consumer,
// each in a private IPC namespace, and holds every result to the C pair's.
func TestPairs(t *testing.T) {
	producers, consumers := programs(t)
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			var want []shmtest.Result
			t.Run("reference", func(t *testing.T) {
				isolate(t)
				want = session(t, producers[0], consumers[0], sc.args...)
				if want[0].Status != 1 || !strings.HasPrefix(want[0].Stderr, "shmget: ") {
					t.Fatalf("the early C consumer did not fail on the missing queue: %+v", want[0])
				}
				sc.check(t, want)
			})
			if t.Failed() || len(want) == 0 {
				t.Fatal("no reference from the C pair")
			}
			for _, p := range producers {
				for _, c := range consumers {
					t.Run(p.lang+"-"+c.lang, func(t *testing.T) {
						isolate(t)
						got := session(t, p, c, sc.args...)
						for i, what := range []string{"early consumer", "producer", "consumer"} {
							if d := shmtest.Diff(want[i], got[i]); d != "" {
								t.Errorf("the %s differs from the C pair's:\n%s", what, d)
							}
						}
					})
				}
			}
		})
	}
}

// TestUsage: bad arguments are refused alike, before anything is made.
func TestUsage(t *testing.T) {
	producers, consumers := programs(t)
	isolate(t)
	path := filepath.Join(t.TempDir(), "queue.key")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{},
		{path},
		{path, "x"},
		{path, "-1"},
		{path, "1000001"},
		{path, "12abc"},
		{"-die-after", "-3", path, "5"},
		{"-die-after", "3", path},
		{"-die-later", "3", path, "5"},
	} {
		want := shmtest.Run(t, exec.Command(producers[0].path, args...))
		got := shmtest.Run(t, exec.Command(producers[1].path, args...))
		if want.Status != 2 || want.Stderr == "" {
			t.Errorf("C producer %q: %+v, want status 2 and a message", args, want)
		}
		if d := shmtest.Diff(want, got); d != "" {
			t.Errorf("Go producer %q differs from C:\n%s", args, d)
		}
	}
	for _, args := range [][]string{{}, {path, path}, {filepath.Join(path, "missing")}} {
		want := shmtest.Run(t, exec.Command(consumers[0].path, args...))
		got := shmtest.Run(t, exec.Command(consumers[1].path, args...))
		if want.Status == 0 || want.Stderr == "" {
			t.Errorf("C consumer %q: %+v, want a failure", args, want)
		}
		if d := shmtest.Diff(want, got); d != "" {
			t.Errorf("Go consumer %q differs from C:\n%s", args, d)
		}
	}
}

// TestOtherABI: a queue made by a 32-bit C producer is refused alike by
// the 64-bit C consumer and its Go port (its size is not their struct
// queue's) rather than used.
func TestOtherABI(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("a 64-bit test: the consumers must be 64-bit and the producer 32-bit")
	}
	shmtest.Require32(t)
	producer32 := shmtest.BuildC(t, "c/producer.c", "-m32", "-pthread")
	consumer32 := shmtest.BuildC(t, "c/consumer.c", "-m32", "-pthread")
	_, consumers := programs(t)
	isolate(t)
	path := filepath.Join(t.TempDir(), "queue.key")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	p := shmtest.Start(t, exec.Command(producer32, path, "3"))
	p.WaitLine(t, "queue ready", timeout)
	c := shmtest.Run(t, exec.Command(consumers[0].path, path))
	g := shmtest.Run(t, exec.Command(consumers[1].path, path))
	if c.Status == 0 || !strings.Contains(c.Stderr, "another ABI") {
		t.Fatalf("the 64-bit C consumer accepted a 32-bit queue: %+v", c)
	}
	shmtest.Compare(t, c, g)
	// The 32-bit consumer takes the items and removes the queue.
	if r := shmtest.Run(t, exec.Command(consumer32, path)); r.Status != 0 || itemLines(r.Stdout) != 3 {
		t.Fatalf("32-bit consumer: %+v", r)
	}
	if r := p.Wait(t, timeout); r.Status != 0 {
		t.Fatalf("32-bit producer: %+v", r)
	}
}
