package ring_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shmmap/shmmap"
	"github.com/shmmap/shmmap/ring"
	"github.com/shmmap/shmmap/ring/internal/ringmsg"
	"github.com/shmmap/shmmap/shmtest"
)

// The cross-process tests run these programs, built with shmtest on first
// use (once per test binary; TestMain removes them):
//
//	C       cring/testdata/producer.c, consumer.c (ring.h)
//	C-m32   the same two as 32-bit programs (-m32), where the machine
//	        builds and runs them (shmtest.CanRun32)
//	Go      ring/internal/ringtest, the same two in Go (built without
//	        -race: it is a separate program)
//	and the article's writer and reader on the ring: cring/examples (C)
//	and ring/examples (Go).

func TestMain(m *testing.M) { shmtest.Main(m) }

// side names the program for one end of a ring: "C", "C-m32" or "Go" and
// the role.
func side(t *testing.T, lang, role string, args ...string) (string, []string) {
	t.Helper()
	switch lang {
	case "C":
		return shmtest.BuildC(t, filepath.Join("..", "cring", "testdata", role+".c")), args
	case "C-m32":
		return shmtest.BuildC(t, filepath.Join("..", "cring", "testdata", role+".c"), "-m32"), args
	}
	return shmtest.BuildGo(t, "./internal/ringtest"), append([]string{"-role", role}, args...)
}

// example is the article's writer or reader on the ring in lang ("c" or
// "go").
func example(t *testing.T, lang, role string) string {
	t.Helper()
	if lang == "c" {
		return shmtest.BuildC(t, filepath.Join("..", "cring", "examples", role+".c"))
	}
	return shmtest.BuildGo(t, "./examples/"+role)
}

// medium is shared memory for a ring, mapped in this process, and the flags
// that make the test programs map the same memory.
type medium struct {
	name string
	mem  []byte
	args []string
}

const ringKey = 0x52494e47 // "RING"

// pair is a producer and a consumer language.
type pair struct{ prod, cons string }

// m32Pairs are the pairs with a 32-bit C end, against 64-bit C and this
// binary's Go (386 in a 386 test run): none, saying why in the log, where
// the machine cannot build or run 32-bit C.
func m32Pairs(t *testing.T) []pair {
	if ok, reason := shmtest.CanRun32(); !ok {
		t.Logf("no C-m32 pairs: %s", reason)
		return nil
	}
	return []pair{{"Go", "C-m32"}, {"C-m32", "Go"}, {"C-m32", "C"}, {"C", "C-m32"}}
}

// m32Lang is C-m32 where the machine runs 32-bit C, and nothing (saying
// why in the log) elsewhere.
func m32Lang(t *testing.T) []string {
	if ok, reason := shmtest.CanRun32(); !ok {
		t.Logf("no C-m32 runs: %s", reason)
		return nil
	}
	return []string{"C-m32"}
}

// newMedium makes size zeroed bytes of shared memory: a System V segment
// (the caller must be in a private IPC namespace), a file, or a POSIX shm
// object. Cleanups remove each.
func newMedium(t *testing.T, kind string, size int) medium {
	t.Helper()
	switch kind {
	case "sysv":
		seg, err := shmmap.CreateSegment(ringKey, int64(size), 0o600)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { seg.Remove() })
		shm, err := seg.Attach(shmmap.AttachReadWrite)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { shm.Detach() })
		return medium{kind, shm.Bytes(), []string{"-k", fmt.Sprintf("%x", ringKey)}}
	case "file":
		path := filepath.Join(t.TempDir(), "ring")
		if err := os.WriteFile(path, make([]byte, size), 0o600); err != nil {
			t.Fatal(err)
		}
		m, err := shmmap.MapFile(path, shmmap.MapShared)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		return medium{kind, m.Bytes(), []string{"-f", path}}
	case "posix":
		name := fmt.Sprintf("shmmap-ring-test-%d-%d", os.Getpid(), time.Now().UnixNano())
		f, err := shmmap.ShmOpen(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { shmmap.ShmUnlink(name) })
		defer f.Close()
		if err := f.Truncate(int64(size)); err != nil {
			t.Fatal(err)
		}
		m, err := shmmap.Map(f, 0, 0, shmmap.MapShared)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		return medium{kind, m.Bytes(), []string{"-f", "/dev/shm/" + name}}
	}
	t.Fatalf("unknown medium %q", kind)
	return medium{}
}

// proc is a running test program (a shmtest.Process): its stdout is read
// line by line, its stdin stays open until the test closes it (the stall
// modes wait on it), and every wait ends at the guard's deadline, so a
// hang fails the test instead of wedging it. shmtest kills and reaps it
// when the test ends.
type proc struct {
	*shmtest.Process
	t    *testing.T
	ctx  context.Context
	name string
	read int // the stdout lines expect has returned
}

// start runs path with args, until the guard ctx's deadline.
func start(t *testing.T, ctx context.Context, name, path string, args ...string) *proc {
	t.Helper()
	return &proc{Process: shmtest.Start(t, exec.Command(path, args...)), t: t, ctx: ctx, name: name}
}

// expect returns the next line, failing unless it starts with prefix.
func (p *proc) expect(prefix string) string {
	p.t.Helper()
	line := p.WaitLine(p.t, "", untilGuard(p.ctx))
	p.read++
	if !strings.HasPrefix(line, prefix) {
		p.t.Fatalf("%s: %q, want %q...", p.name, line, prefix)
	}
	return line
}

// wait closes stdin, waits for the exit and returns the remaining output
// lines and the exit status (128+N if killed by signal N).
func (p *proc) wait() ([]string, int) {
	p.t.Helper()
	res := p.Wait(p.t, untilGuard(p.ctx))
	var lines []string
	if res.Stdout != "" {
		lines = strings.Split(strings.TrimSuffix(res.Stdout, "\n"), "\n")
	}
	return lines[min(p.read, len(lines)):], res.Status
}

// finish waits for a clean exit and returns the "count ..." line.
func (p *proc) finish() string {
	p.t.Helper()
	rest, status := p.wait()
	if status != 0 || len(rest) == 0 || !strings.HasPrefix(rest[0], "count ") {
		p.t.Fatalf("%s: exit %d, output %q, stderr %q", p.name, status, rest, p.Stderr())
	}
	return rest[0]
}

// victim is a test program the test SIGKILLs, and which then stays a
// zombie — dead, not yet reaped — until the test waits for it: the state in
// which its peer must already see it dead (the ring's peer check polls a
// pidfd, where kill(pid, 0) would still find a zombie alive). shmtest.Start
// reaps its processes as soon as they exit, which would hide that case, so
// victims are started here; a candidate for shmtest: a Start option that
// leaves reaping to Wait. Its stdout lines arrive on a channel; its stdin
// stays open (the stall modes wait on it); the guard ctx kills it if it
// hangs.
type victim struct {
	t      *testing.T
	ctx    context.Context
	name   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string
	stderr strings.Builder // read once the process has been waited for
	waited bool
}

// startVictim runs path with args; ctx bounds its life (it is killed when
// ctx is done).
func startVictim(t *testing.T, ctx context.Context, name, path string, args ...string) *victim {
	t.Helper()
	p := &victim{t: t, ctx: ctx, name: name, cmd: exec.CommandContext(ctx, path, args...), lines: make(chan string, 64)}
	p.cmd.Stderr = &p.stderr
	var err error
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
	}()
	t.Cleanup(func() {
		p.stdin.Close()
		if !p.waited {
			p.cmd.Process.Kill()
			p.cmd.Wait()
		}
	})
	return p
}

// expect returns the next line, failing unless it starts with prefix.
func (p *victim) expect(prefix string) string {
	p.t.Helper()
	select {
	case line, ok := <-p.lines:
		if !ok {
			rest, status := p.wait()
			p.t.Fatalf("%s: exited with status %d before %q (output %q, stderr %q)", p.name, status, prefix, rest, p.stderr.String())
		}
		if !strings.HasPrefix(line, prefix) {
			p.t.Fatalf("%s: %q, want %q...", p.name, line, prefix)
		}
		return line
	case <-p.ctx.Done():
		p.t.Fatalf("%s: no %q before the guard timeout: hung", p.name, prefix)
	}
	return ""
}

// kill sends SIGKILL and leaves the process unreaped (a zombie) until
// wait.
func (p *victim) kill() { p.cmd.Process.Kill() }

// wait reaps the process and returns the remaining output lines and the
// exit status (128+N if killed by signal N).
func (p *victim) wait() ([]string, int) {
	p.t.Helper()
	var rest []string
	for line := range p.lines {
		rest = append(rest, line)
	}
	err := p.cmd.Wait()
	p.waited = true
	if p.ctx.Err() != nil {
		p.t.Fatalf("%s: killed by the guard timeout: hung (output %q)", p.name, rest)
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		p.t.Fatalf("%s: %v", p.name, err)
	}
	return rest, shmtest.ExitStatus(p.cmd.ProcessState)
}

// totals is the "count N sum S" part of a result line.
func totals(line string) string {
	f := strings.Fields(line)
	if len(f) < 4 {
		return line
	}
	return strings.Join(f[:4], " ")
}

// guard bounds a test's run: the processes' waits and this process's
// ring calls end at its deadline.
func guard(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// untilGuard is the time left before ctx's deadline, at least a
// millisecond (shmtest takes zero or less as its default timeout, which
// is also what a ctx without a deadline gets).
func untilGuard(ctx context.Context) time.Duration {
	dl, ok := ctx.Deadline()
	if !ok {
		return 0
	}
	return max(time.Until(dl), time.Millisecond)
}

const streamCapacity = 1 << 16

// TestStream streams messages of mixed sizes (12 bytes to 8 KiB, each with
// a sequence number and a checksum the consumer verifies) between separate
// processes, every producer language with every consumer language: a
// million messages over a System V segment, 200,000 over a file mapping
// and over a POSIX shm object. Who formats the ring varies (the
// producer, the consumer, this test), so each language attaches to rings
// the other made. The end-to-end check: both sides' message count and
// checksum total agree, and equal N.
func TestStream(t *testing.T) {
	pairs := append([]pair{{"Go", "C"}, {"C", "Go"}, {"Go", "Go"}, {"C", "C"}}, m32Pairs(t)...)
	for _, kind := range []string{"sysv", "file", "posix"} {
		for _, pair := range pairs {
			t.Run(fmt.Sprintf("%s/%s-to-%s", kind, pair.prod, pair.cons), func(t *testing.T) {
				n := 200000
				if kind == "sysv" {
					n = 1000000
					shmtest.Isolate(t)
				}
				med := newMedium(t, kind, ring.Size(streamCapacity))
				common := append([]string{"-n", fmt.Sprint(n), "-s", "7"}, med.args...)
				pargs, cargs := common, common
				switch kind {
				case "sysv":
					pargs = append(pargs, "-i")
				case "file":
					cargs = append(cargs, "-i")
				case "posix":
					if _, err := ring.Init(med.mem); err != nil {
						t.Fatal(err)
					}
				}
				ctx := guard(t, 60*time.Second)
				begin := time.Now()
				// Both start at once: the one that formats the ring may come
				// second; the other waits for it (AttachContext).
				cp, ca := side(t, pair.cons, "consumer", cargs...)
				cons := start(t, ctx, pair.cons+" consumer", cp, ca...)
				pp, pa := side(t, pair.prod, "producer", pargs...)
				prod := start(t, ctx, pair.prod+" producer", pp, pa...)
				cons.expect("ready")
				prod.expect("ready")
				sent, got := prod.finish(), cons.finish()
				if totals(sent) != totals(got) || !strings.HasPrefix(got, fmt.Sprintf("count %d ", n)) {
					t.Fatalf("producer: %s\nconsumer: %s", sent, got)
				}
				t.Logf("%d messages in %v\nproducer: %s\nconsumer: %s", n, time.Since(begin).Round(time.Millisecond), sent, got)
			})
		}
	}
}

// TestStreamInTest puts this test process (race-instrumented under -race)
// on one end and a C program on the other, in both directions.
func TestStreamInTest(t *testing.T) {
	n := uint64(1000000)
	if raceEnabled {
		n = 100000
	}
	const seed, max = 9, 8192
	for _, dir := range []string{"C-to-test", "test-to-C"} {
		t.Run(dir, func(t *testing.T) {
			shmtest.Isolate(t)
			med := newMedium(t, "sysv", ring.Size(streamCapacity))
			r, err := ring.Init(med.mem)
			if err != nil {
				t.Fatal(err)
			}
			ctx := guard(t, 60*time.Second)
			args := append([]string{"-n", fmt.Sprint(n), "-s", fmt.Sprint(seed)}, med.args...)
			begin := time.Now()
			var tot ringmsg.Totals
			var line string
			if dir == "C-to-test" {
				c, err := r.Consumer()
				if err != nil {
					t.Fatal(err)
				}
				pp, _ := side(t, "C", "producer")
				prod := start(t, ctx, "C producer", pp, args...)
				prod.expect("ready")
				if err := readAll(ctx, c, seed, max, &tot, 0); err != io.EOF {
					t.Fatalf("after %d messages: %v", tot.Count, err)
				}
				line = prod.finish()
				t.Logf("consumer %+v", c.Stats())
			} else {
				p, err := r.Producer()
				if err != nil {
					t.Fatal(err)
				}
				cp, _ := side(t, "C", "consumer")
				cons := start(t, ctx, "C consumer", cp, args...)
				cons.expect("ready")
				for i := range n {
					typ, size, x := ringmsg.Spec(seed, i, max)
					b, err := p.ClaimContext(ctx, typ, size)
					if err != nil {
						t.Fatalf("message %d: %v", i, err)
					}
					tot.Add(ringmsg.Fill(b, i, x))
					p.Commit()
				}
				p.Close()
				line = cons.finish()
				t.Logf("producer %+v", p.Stats())
			}
			if totals(line) != tot.String() || tot.Count != n {
				t.Fatalf("this process: %v; C: %s", tot, line)
			}
			t.Logf("%d messages in %v; C: %s", n, time.Since(begin).Round(time.Millisecond), line)
		})
	}
}

// TestProducerKilledMidWrite: the producer writes K messages, claims the
// next one, fills half of it and stops; the test SIGKILLs it there and does
// not reap it yet (a zombie). The consumer — another process, C or Go, or
// this test — gets exactly the K committed messages, intact, then
// ErrPeerDead (exit status 3 for the programs) instead of waiting forever.
func TestProducerKilledMidWrite(t *testing.T) {
	const k = 3000
	want := ringmsg.Expect(5, k, 8192).String()
	for _, prodLang := range []string{"C", "Go"} {
		for _, consLang := range []string{"C", "Go", "test"} {
			t.Run(prodLang+"-to-"+consLang, func(t *testing.T) {
				shmtest.Isolate(t)
				med := newMedium(t, "sysv", ring.Size(streamCapacity))
				r, err := ring.Init(med.mem)
				if err != nil {
					t.Fatal(err)
				}
				ctx := guard(t, 30*time.Second)
				args := append([]string{"-s", "5", "-p", "20"}, med.args...)
				var cons *proc
				var c *ring.Consumer
				if consLang == "test" {
					if c, err = r.Consumer(); err != nil {
						t.Fatal(err)
					}
					c.SetPeerCheck(20 * time.Millisecond)
				} else {
					cp, ca := side(t, consLang, "consumer", args...)
					cons = start(t, ctx, consLang+" consumer", cp, ca...)
					cons.expect("ready")
				}
				pp, pa := side(t, prodLang, "producer", append(args, "-S", fmt.Sprint(k))...)
				prod := startVictim(t, ctx, prodLang+" producer", pp, pa...)
				prod.expect("ready")
				if consLang == "test" {
					// Read while the producer fills the ring; it stalls after k.
					var tot ringmsg.Totals
					if err := readAll(ctx, c, 5, 8192, &tot, k); err != nil {
						t.Fatal(err)
					}
					prod.expect("stalled")
					prod.kill()
					err := readAll(ctx, c, 5, 8192, &tot, 0)
					if !errors.Is(err, ring.ErrPeerDead) || tot.String() != want {
						t.Fatalf("got %v then %v; want %s then ErrPeerDead", tot, err, want)
					}
					t.Logf("%v, then: %v", tot, err)
				} else {
					prod.expect("stalled")
					prod.kill()
					rest, status := cons.wait()
					if status != 3 || len(rest) != 2 || totals(rest[0]) != want || !strings.Contains(rest[1], "died") {
						t.Fatalf("consumer: exit %d, %q; want exit 3 after %q and a peer-death error", status, rest, want)
					}
					t.Logf("consumer: %q", rest)
				}
				if _, status := prod.wait(); status != 128+int(syscall.SIGKILL) {
					t.Fatalf("producer exit %d", status)
				}
			})
		}
	}
}

// readAll reads and checks messages into tot (whose count is the next
// sequence number) until tot.Count reaches until (0: no limit) or an error.
func readAll(ctx context.Context, c *ring.Consumer, seed uint64, max int, tot *ringmsg.Totals, until uint64) error {
	for until == 0 || tot.Count < until {
		err := c.ReadFunc(ctx, func(typ uint32, msg []byte) error {
			sum, err := ringmsg.Check(seed, tot.Count, max, typ, msg)
			if err == nil {
				tot.Add(sum)
			}
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// TestProducerKilledStreaming: the producer streams without end and is
// SIGKILLed at whatever point it has reached — mid-copy, between records,
// or asleep on a full ring. This test, the consumer, receives only whole,
// valid messages and then ErrPeerDead, learnt from its peer watch.
func TestProducerKilledStreaming(t *testing.T) {
	for _, lang := range append([]string{"C", "Go"}, m32Lang(t)...) {
		t.Run(lang, func(t *testing.T) {
			shmtest.Isolate(t)
			med := newMedium(t, "sysv", ring.Size(4096))
			ctx := guard(t, 30*time.Second)
			pp, pa := side(t, lang, "producer", append([]string{"-i", "-n", "0", "-s", "3", "-m", "1000"}, med.args...)...)
			prod := startVictim(t, ctx, lang+" producer", pp, pa...)
			prod.expect("ready")
			r, err := ring.Attach(med.mem)
			if err != nil {
				t.Fatal(err)
			}
			c, err := r.Consumer()
			if err != nil {
				t.Fatal(err)
			}
			// The default peer check: the death is an event (the pidfd
			// watch), with C, Go and 32-bit C producers.
			var tot ringmsg.Totals
			if err := readAll(ctx, c, 3, 1000, &tot, 20000); err != nil {
				t.Fatal(err)
			}
			prod.kill()
			err = readAll(ctx, c, 3, 1000, &tot, 0)
			if !errors.Is(err, ring.ErrPeerDead) {
				t.Fatalf("after %v: %v, want ErrPeerDead", tot, err)
			}
			if want := ringmsg.Expect(3, tot.Count, 1000); tot != want {
				t.Fatalf("got %v, the stream's first %d messages are %v", tot, tot.Count, want)
			}
			t.Logf("%v, then: %v", tot, err)
			prod.wait()
		})
	}
}

// TestConsumerKilled: the consumer reads K messages and stops; the test
// SIGKILLs it. The producer — this test, or a C or Go program — keeps
// writing until the ring is full and then gets ErrPeerDead (exit status 3).
func TestConsumerKilled(t *testing.T) {
	for _, consLang := range append([]string{"C", "Go"}, m32Lang(t)...) {
		for _, prodLang := range []string{"C", "Go", "test"} {
			t.Run(prodLang+"-to-"+consLang, func(t *testing.T) {
				shmtest.Isolate(t)
				med := newMedium(t, "sysv", ring.Size(4096))
				r, err := ring.Init(med.mem)
				if err != nil {
					t.Fatal(err)
				}
				ctx := guard(t, 30*time.Second)
				args := append([]string{"-n", "0", "-s", "4", "-m", "1000", "-p", "20"}, med.args...)
				cp, ca := side(t, consLang, "consumer", append(args, "-S", "2000")...)
				cons := startVictim(t, ctx, consLang+" consumer", cp, ca...)
				cons.expect("ready")
				if prodLang == "test" {
					p, err := r.Producer()
					if err != nil {
						t.Fatal(err)
					}
					p.SetPeerCheck(20 * time.Millisecond)
					// The consumer stops after 2000 messages; kill it then,
					// while this goroutine keeps writing.
					stalled := make(chan string, 1)
					go func() {
						line := <-cons.lines
						if line == "stalled" {
							cons.kill()
						}
						stalled <- line
					}()
					var i uint64
					for ; ; i++ {
						typ, size, x := ringmsg.Spec(4, i, 1000)
						b, err := p.ClaimContext(ctx, typ, size)
						if err != nil {
							if !errors.Is(err, ring.ErrPeerDead) {
								t.Fatalf("message %d: %v, want ErrPeerDead", i, err)
							}
							t.Logf("message %d: %v", i, err)
							break
						}
						ringmsg.Fill(b, i, x)
						p.Commit()
					}
					if line := <-stalled; line != "stalled" {
						t.Fatalf("consumer said %q, want stalled", line)
					}
				} else {
					pp, pa := side(t, prodLang, "producer", args...)
					prod := start(t, ctx, prodLang+" producer", pp, pa...)
					prod.expect("ready")
					cons.expect("stalled")
					cons.kill()
					rest, status := prod.wait()
					if status != 3 || len(rest) == 0 || !strings.Contains(rest[len(rest)-1], "died") {
						t.Fatalf("producer: exit %d, %q; want exit 3 and a peer-death error", status, rest)
					}
					t.Logf("producer: %q", rest)
				}
				cons.wait()
			})
		}
	}
}

// TestLostWakeupStressCrossProcess: 50,000 messages through a 64-byte ring
// (one or two records fit) between two processes that never spin, so
// almost every message goes through a futex sleep and a wake, with the peer
// check set to an hour: a lost wake-up would hang until the 60-second
// guard kills the run and fails the test. Every pair of languages.
func TestLostWakeupStressCrossProcess(t *testing.T) {
	const n = 50000
	for _, pair := range append([]pair{{"C", "C"}, {"Go", "Go"}, {"Go", "C"}, {"C", "Go"}}, m32Pairs(t)...) {
		t.Run(pair.prod+"-to-"+pair.cons, func(t *testing.T) {
			shmtest.Isolate(t)
			med := newMedium(t, "sysv", ring.Size(64))
			if _, err := ring.Init(med.mem); err != nil {
				t.Fatal(err)
			}
			ctx := guard(t, 60*time.Second)
			args := append([]string{"-n", fmt.Sprint(n), "-s", "11", "-m", "40", "-z", "-p", "3600000"}, med.args...)
			begin := time.Now()
			cp, ca := side(t, pair.cons, "consumer", args...)
			cons := start(t, ctx, pair.cons+" consumer", cp, ca...)
			cons.expect("ready")
			pp, pa := side(t, pair.prod, "producer", args...)
			prod := start(t, ctx, pair.prod+" producer", pp, pa...)
			prod.expect("ready")
			sent, got := prod.finish(), cons.finish()
			if totals(sent) != totals(got) || !strings.HasPrefix(got, fmt.Sprintf("count %d ", n)) {
				t.Fatalf("producer: %s\nconsumer: %s", sent, got)
			}
			var sleeps uint64
			for _, line := range []string{sent, got} {
				var c, s, sl, w, to uint64
				if _, err := fmt.Sscanf(line, "count %d sum %d sleeps %d wakes %d timeouts %d", &c, &s, &sl, &w, &to); err != nil {
					t.Fatalf("%q: %v", line, err)
				}
				if to != 0 {
					t.Errorf("%q: a sleep ended by timeout with an hour's peer check: a lost wake-up", line)
				}
				sleeps += sl
			}
			if sleeps < n/10 {
				t.Errorf("only %d sleeps for %d messages: the futex path was not exercised", sleeps, n)
			}
			t.Logf("%v, 0 hangs\nproducer: %s\nconsumer: %s", time.Since(begin).Round(time.Millisecond), sent, got)
		})
	}
}

// TestExamples: the article's writer and reader on the ring
// (cring/examples, ring/examples), every language pair: the writer run to
// completion before the reader starts, and the two started together (either
// may create the segment); no sleeps anywhere, and the reader removes the
// segment.
func TestExamples(t *testing.T) {
	for _, w := range []string{"c", "go"} {
		for _, rd := range []string{"c", "go"} {
			for _, order := range []string{"writer-first", "together"} {
				t.Run(fmt.Sprintf("%s-writer/%s-reader/%s", w, rd, order), func(t *testing.T) {
					shmtest.Isolate(t)
					ctx := guard(t, 30*time.Second)
					msgs := []string{"shared memory here!", "from the " + w + " writer", "third"}
					var out string
					if order == "writer-first" {
						wp := start(t, ctx, "writer", example(t, w, "writer"), msgs...)
						if rest, status := wp.wait(); status != 0 {
							t.Fatalf("writer: exit %d %q %s", status, rest, wp.Stderr())
						}
						rp := start(t, ctx, "reader", example(t, rd, "reader"))
						rest, status := rp.wait()
						if status != 0 {
							t.Fatalf("reader: exit %d %q %s", status, rest, rp.Stderr())
						}
						out = strings.Join(rest, "\n")
					} else {
						// Started together: either may create the segment and
						// format the ring while the other waits for it.
						rp := start(t, ctx, "reader", example(t, rd, "reader"))
						wp := start(t, ctx, "writer", example(t, w, "writer"), msgs...)
						if rest, status := wp.wait(); status != 0 {
							t.Fatalf("writer: exit %d %q %s", status, rest, wp.Stderr())
						}
						rest, status := rp.wait()
						if status != 0 {
							t.Fatalf("reader: exit %d %q %s", status, rest, rp.Stderr())
						}
						out = strings.Join(rest, "\n")
					}
					if want := strings.Join(msgs, "\n"); out != want {
						t.Fatalf("reader printed %q, want %q", out, want)
					}
					if _, err := shmmap.OpenSegment(0x1234); err == nil {
						t.Fatal("the segment is still there")
					}
				})
			}
		}
	}
}
