package bench

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/shmmap/shmmap"
	"github.com/shmmap/shmmap/ring"
	"golang.org/x/sys/unix"
)

// messageSizes are the streaming benchmarks' message sizes.
var messageSizes = []struct {
	Name string
	Size int
}{{"64B", 64}, {"4KiB", 4096}, {"64KiB", 65536}}

// directions are the writer and reader languages of a stream.
var directions = [][2]string{{"Go", "Go"}, {"Go", "C"}, {"C", "Go"}, {"C", "C"}}

// endpoint returns the command for one end of a stream in lang ("Go" or
// "C") with the given arguments.
func endpoint(b *testing.B, lang string, args ...string) *exec.Cmd {
	if lang == "C" {
		return exec.Command(cProgram(b, "stream"), args...)
	}
	return exec.Command(goProgram(b, "streamer"), args...)
}

// streamRingCapacity is the data area of the streaming benchmarks' ring:
// room for sixteen of the largest messages.
const streamRingCapacity = 1 << 20

// BenchmarkStream: messages from one process to another through our ring
// (in a memfd both map), a pipe and a Unix-domain socket pair. ns/op is per
// message. The ring rows run the writer and the reader on CPUs of their
// own (see runStream).
func BenchmarkStream(b *testing.B) {
	for _, transport := range []string{"ring", "pipe", "socket"} {
		for _, d := range directions {
			for _, ms := range messageSizes {
				b.Run(fmt.Sprintf("%s-%s-%s/%s", transport, d[0], d[1], ms.Name), func(b *testing.B) {
					if transport == "ring" {
						mem := ringMemory(b, streamRingCapacity, 1)
						args := []string{"3", strconv.Itoa(ms.Size), strconv.Itoa(b.N)}
						send := endpoint(b, d[0], append([]string{"ringsend"}, args...)...)
						recv := endpoint(b, d[1], append([]string{"ringrecv"}, args...)...)
						send.ExtraFiles, recv.ExtraFiles = []*os.File{mem}, []*os.File{mem}
						reportStream(b, runStream(b, recv, send), ms.Size)
						return
					}
					r, w := fdPair(b, transport)
					send := endpoint(b, d[0], "send", "3", strconv.Itoa(ms.Size), strconv.Itoa(b.N))
					send.ExtraFiles = []*os.File{w}
					recv := endpoint(b, d[1], "recv", "3", strconv.Itoa(ms.Size), strconv.Itoa(b.N))
					recv.ExtraFiles = []*os.File{r}
					ns := runPair(b, recv, send)
					reportStream(b, ns, ms.Size)
				})
			}
		}
	}
}

// streamBatch is the batch of BenchmarkStreamBatch: the writer's
// WriteBatch takes this many messages, the reader's ReadBatch at most this
// many.
const streamBatch = 32

// BenchmarkStreamBatch: BenchmarkStream's ring rows with the batch calls —
// WriteBatch / shmring_write_batch of streamBatch messages, ReadBatch /
// shmring_read_batch of up to streamBatch — one store of the position per
// batch on each side. ns/op is per message.
func BenchmarkStreamBatch(b *testing.B) {
	for _, d := range directions {
		for _, ms := range messageSizes[:2] {
			b.Run(fmt.Sprintf("ring-%s-%s/%s", d[0], d[1], ms.Name), func(b *testing.B) {
				mem := ringMemory(b, streamRingCapacity, 1)
				args := []string{"3", strconv.Itoa(ms.Size), strconv.Itoa(b.N), strconv.Itoa(streamBatch)}
				send := endpoint(b, d[0], append([]string{"ringbsend"}, args...)...)
				recv := endpoint(b, d[1], append([]string{"ringbrecv"}, args...)...)
				send.ExtraFiles, recv.ExtraFiles = []*os.File{mem}, []*os.File{mem}
				reportStream(b, runStream(b, recv, send), ms.Size)
			})
		}
	}
}

// BenchmarkRoundTrip: a 64-byte message there and back, per round trip:
// over two rings (one each way) whose ends sleep on the futex when there is
// nothing to read ("ring-blocking", the default), over two rings whose ends
// spin ("ring-spin"), and over two pipes.
//
// "ring-blocking-thread" is ring-blocking with the Go ends forced to the
// old wait, a futex system call in the goroutine's thread
// (SHMMAP_FUTEXWAIT=thread, internal/futexwait): the same run measures what
// the multiplexed wait costs the hot path.
func BenchmarkRoundTrip(b *testing.B) {
	for _, mode := range []string{"blocking", "blocking-thread", "spin"} {
		for _, d := range directions {
			if mode == "blocking-thread" && d[0] == "C" && d[1] == "C" {
				continue // no Go end
			}
			b.Run(fmt.Sprintf("ring-%s-%s-%s", mode, d[0], d[1]), func(b *testing.B) {
				mem := ringMemory(b, 4096, 2)
				spin := map[string]string{"blocking": "0", "blocking-thread": "0", "spin": "1"}[mode]
				args := []string{"3", "64", strconv.Itoa(b.N), spin}
				ping := endpoint(b, d[0], append([]string{"ringping"}, args...)...)
				pong := endpoint(b, d[1], append([]string{"ringpong"}, args...)...)
				ping.ExtraFiles, pong.ExtraFiles = []*os.File{mem}, []*os.File{mem}
				if mode == "blocking-thread" {
					ping.Env = append(os.Environ(), "SHMMAP_FUTEXWAIT=thread")
					pong.Env = ping.Env
				}
				b.ReportMetric(runPair(b, ping, pong), "ns/op")
			})
		}
	}
	for _, lang := range []string{"Go", "C"} {
		b.Run("pipe-"+lang+"-"+lang, func(b *testing.B) {
			r1, w1 := fdPair(b, "pipe")
			r2, w2 := fdPair(b, "pipe")
			ping := endpoint(b, lang, "ping", "3", "4", "64", strconv.Itoa(b.N))
			ping.ExtraFiles = []*os.File{r2, w1}
			pong := endpoint(b, lang, "pong", "3", "4", "64", strconv.Itoa(b.N))
			pong.ExtraFiles = []*os.File{r1, w2}
			b.ReportMetric(runPair(b, ping, pong), "ns/op")
		})
	}
}

// ringMemory returns a memfd holding n rings of the given capacity back to
// back, each formatted with ring.Init, closed when the benchmark ends. The
// two ends of a stream inherit it as fd 3 and map it.
func ringMemory(b *testing.B, capacity, n int) *os.File {
	size := ring.Size(capacity)
	f, err := shmmap.Memfd("bench-ring", int64(n*size))
	mustf(b, err, "memfd")
	b.Cleanup(func() { f.Close() })
	m, err := shmmap.Map(f, 0, n*size, shmmap.MapShared)
	mustf(b, err, "map")
	defer m.Close()
	for i := range n {
		_, err := ring.Init(m.Bytes()[i*size : (i+1)*size])
		mustf(b, err, "ring.Init")
	}
	return f
}

// fdPair returns the two ends of a pipe or of a connected socket pair,
// closed when the benchmark ends.
func fdPair(b *testing.B, transport string) (r, w *os.File) {
	if transport == "pipe" {
		r, w, err := os.Pipe()
		mustf(b, err, "pipe")
		b.Cleanup(func() { r.Close(); w.Close() })
		return r, w
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	mustf(b, err, "socketpair")
	r, w = os.NewFile(uintptr(fds[0]), "sock0"), os.NewFile(uintptr(fds[1]), "sock1")
	b.Cleanup(func() { r.Close(); w.Close() })
	return r, w
}

// runPair runs the measuring process and its peer to completion and
// returns the number the measuring one printed.
func runPair(b *testing.B, measuring, peer *exec.Cmd) float64 {
	b.Helper()
	return waitPair(b, measuring, peer, func() { startBoth(b, measuring, peer) })
}

// startBoth starts the measuring process, then its peer.
func startBoth(b *testing.B, measuring, peer *exec.Cmd) {
	b.Helper()
	mustf(b, measuring.Start(), "start %v", measuring.Args)
	if err := peer.Start(); err != nil {
		measuring.Process.Kill()
		measuring.Wait()
		b.Fatalf("start %v: %v", peer.Args, err)
	}
}

// runStream is runPair for a ring stream: the writer on one CPU and the
// reader on another (startApart), where the process may use two.
//
// Left to the scheduler, the figure depended on where the two processes
// ran more than on either. On the two-CPU virtual machine these rows were
// first measured on, the same C→C stream of 4 KiB messages took anywhere
// from 280 to 410 ns per message from run to run (and 130 ns when the two
// briefly shared a core), and a Go end moved between the CPUs with its
// goroutine: the runtime's preemption every 10 ms puts the goroutine on
// the global run queue, from which another thread may take it. With each
// end on a CPU of its own, 20 runs of the same C→C stream took 308–340
// ns. A Go end that sees one CPU runs with GOMAXPROCS 1, as a pinned
// service does. The pipe and socket rows are not pinned: a pipe's reader
// and writer block in turn, and on two CPUs each of those wake-ups crosses
// to the other CPU (64-byte messages through a pipe took 0.6–1.5 µs
// instead of 50 ns), which would measure the machine's cross-CPU wake-up,
// not the pipe.
func runStream(b *testing.B, reader, writer *exec.Cmd) float64 {
	b.Helper()
	return waitPair(b, reader, writer, func() {
		if !startApart(b, [2]*exec.Cmd{writer, reader}) {
			startBoth(b, reader, writer)
		}
	})
}

// waitPair sets up the output of the measuring process and its peer,
// calls start to start both, waits for both and returns the number the
// measuring one printed.
func waitPair(b *testing.B, measuring, peer *exec.Cmd, start func()) float64 {
	b.Helper()
	var out strings.Builder
	measuring.Stdout = &out
	measuring.Stderr, peer.Stderr = os.Stderr, os.Stderr
	start()
	errPeer := peer.Wait()
	errMeas := measuring.Wait()
	mustf(b, errPeer, "%v", peer.Args)
	mustf(b, errMeas, "%v", measuring.Args)
	v, err := strconv.ParseFloat(strings.TrimSpace(out.String()), 64)
	mustf(b, err, "%v printed %q", measuring.Args, out.String())
	return v
}

// reportStream reports per-message time, messages/s and GB/s from the
// receiver's elapsed time for b.N messages.
func reportStream(b *testing.B, elapsedNs float64, size int) {
	perMsg := elapsedNs / float64(max(b.N-1, 1))
	b.ReportMetric(perMsg, "ns/op")
	b.ReportMetric(1e9/perMsg, "msgs/s")
	b.ReportMetric(float64(size)/perMsg, "GB/s")
	b.ReportMetric(float64(size)/perMsg*1e3, "MB/s")
}
