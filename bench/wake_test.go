package bench

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shmmap/shmmap/internal/futexwait"
	"github.com/shmmap/shmmap/ring"
	"golang.org/x/sys/unix"
)

// BenchmarkWakeLatency: the wake-up of a blocked Go reader — a 64-byte
// message written to a ring whose consumer sleeps on its futex, until that
// consumer has returned it — while 1, 100 or 10,000 other readers are
// idle, each blocked in Consumer.Read on a ring of its own (all rings in one
// memfd mapping). The hot pair is this process and a child (streamer
// ringwake, in Go): this process writes a message on ring 0 and reads the
// child's echo on ring 1, both sides with spinning off, so that every
// message wakes a futex sleeper (a peer in the same process would be
// woken through the lot, a Go channel, instead); ns/op is half a round
// trip, one wake-up (sleeps/wake: how often this process's read slept per
// round trip). The hot loop's thread and the child share one CPU
// (startOnOneCPU's reasons); cpu-ns/op is this process's CPU time per
// wake-up, the idle readers' included, and idle-wakes/s their wake-ups.
// The child also holds the producer role of every idle ring, so each idle
// reader has a live peer process whose death it must
// notice: with the peer watches (package ring, "Noticing a dead peer")
// that costs no wake-up; with periodic checks (SHMMAP_RING_PEERWATCH=off)
// each idle reader wakes every 50 ms and checks the child with
// pidfd_open, poll and close. With the multiplexer (internal/futexwait)
// the idle readers hold no threads and the hot pair waits directly in its
// threads; with the thread per waiter (forced with SHMMAP_FUTEXWAIT=thread)
// idle=10000 is skipped: it would need 10,000 threads.
func BenchmarkWakeLatency(b *testing.B) {
	for _, idle := range []int{1, 100, 10000} {
		b.Run(fmt.Sprintf("idle=%d", idle), func(b *testing.B) {
			if idle > 1000 && !futexwait.Multiplexed() {
				_, why := futexwait.Mechanism()
				b.Skipf("waits are not multiplexed (%s): %d idle readers would hold %d threads", why, idle, idle)
			}
			wakeLatency(b, idle)
		})
	}
}

func wakeLatency(b *testing.B, idle int) {
	size := ring.Size(256) // room for a 64-byte message
	n := idle + 2
	fd, err := unix.MemfdCreate("bench-wake", unix.MFD_CLOEXEC)
	mustf(b, err, "memfd")
	f := os.NewFile(uintptr(fd), "bench-wake")
	defer f.Close()
	mustf(b, unix.Ftruncate(fd, int64(n*size)), "ftruncate")
	mem, err := unix.Mmap(fd, 0, n*size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	mustf(b, err, "mmap")
	defer unix.Munmap(mem)
	rings := make([]*ring.Ring, n)
	for i := range rings {
		rings[i], err = ring.Init(mem[i*size : (i+1)*size])
		mustf(b, err, "ring.Init")
	}

	// The echo side, and the idle rings' producer: a child process.
	echo := exec.Command(goProgram(b, "streamer"), "ringwake", "3", strconv.Itoa(size), strconv.Itoa(idle))
	echo.ExtraFiles = []*os.File{f}
	var stderr strings.Builder
	echo.Stderr = &stderr
	out, err := echo.StdoutPipe()
	mustf(b, err, "pipe")
	startOnOneCPU(b, echo)
	var (
		pingP    *ring.Producer
		pingC    *ring.Consumer
		idlers   []*ring.Consumer
		idleDone sync.WaitGroup
	)
	defer func() {
		// Closing ring 0 ends the echo side, which closes the idle rings
		// (their readers return io.EOF); without it, killing the child
		// ends them (ErrPeerDead). Then the memory may go.
		if pingP != nil {
			pingP.Close()
		} else {
			echo.Process.Kill()
		}
		if err := echo.Wait(); err != nil && pingP != nil {
			b.Errorf("echo side: %v; stderr: %s", err, stderr.String())
		}
		idleDone.Wait()
		for _, c := range idlers {
			c.Close()
		}
		if pingC != nil {
			pingC.Close()
		}
	}()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "ready\n" {
		b.Fatalf("echo side: %q, %v; stderr: %s", line, err, stderr.String())
	}
	pingC, err = rings[1].Consumer()
	mustf(b, err, "Consumer")
	pingC.SetSpin(0, 0)

	// The idle readers: blocked until the child closes their ring.
	before := futexwait.InFlight()
	for i := range idle {
		c, err := rings[2+i].Consumer()
		mustf(b, err, "Consumer")
		c.SetSpin(0, 0)
		idlers = append(idlers, c)
		idleDone.Add(1)
		go func() {
			defer idleDone.Done()
			buf := make([]byte, 64)
			c.Read(buf)
		}()
	}
	pingP, err = rings[0].Producer()
	mustf(b, err, "Producer")
	deadline := time.Now().Add(time.Minute)
	for {
		asleep := 0
		for _, c := range idlers {
			if c.Stats().Sleeps > 0 {
				asleep++
			}
		}
		armed := futexwait.InFlight() - before
		if asleep == idle && (!futexwait.Multiplexed() || armed >= int64(idle-futexwait.DefaultDirect)) {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d idle readers asleep after a minute (%d armed)", asleep, idle, armed)
		}
		time.Sleep(time.Millisecond)
	}
	// Past DirectFor, so direct waits among them have moved on.
	time.Sleep(5 * futexwait.DirectFor)
	idleSleeps := func() (s uint64) {
		for _, c := range idlers {
			s += c.Stats().Sleeps
		}
		return s
	}

	// The hot loop runs on the child's CPU (see startOnOneCPU: on a small
	// virtual machine, waking the other process on another, idle CPU
	// costs tens of microseconds and varies from run to run, and idle
	// readers that wake often would keep that CPU out of idle); the idle
	// readers' goroutines run where the scheduler puts them.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var all, one unix.CPUSet
	mustf(b, unix.SchedGetaffinity(0, &all), "sched_getaffinity")
	mustf(b, unix.SchedGetaffinity(echo.Process.Pid, &one), "sched_getaffinity (echo side)")
	mustf(b, unix.SchedSetaffinity(0, &one), "sched_setaffinity")
	defer unix.SchedSetaffinity(0, &all)

	msg := make([]byte, 64)
	buf := make([]byte, 64)
	idle0 := idleSleeps()
	var cpu0, cpu1 unix.Timespec
	unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &cpu0)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if err := pingP.Write(1, msg); err != nil {
			b.Fatal(err)
		}
		if _, _, err := pingC.Read(buf); err != nil {
			b.Fatal(err)
		}
	}
	el := time.Since(start)
	b.StopTimer()
	unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &cpu1)
	b.ReportMetric(float64(cpu1.Nano()-cpu0.Nano())/float64(2*b.N), "cpu-ns/op")
	b.ReportMetric(float64(el.Nanoseconds())/float64(2*b.N), "ns/op")
	b.ReportMetric(float64(pingC.Stats().Sleeps)/float64(b.N), "sleeps/wake")
	b.ReportMetric(float64(idleSleeps()-idle0)/el.Seconds(), "idle-wakes/s")
}
