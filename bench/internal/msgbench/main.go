// Command msgbench is the Go end of the message-queue round-trip
// benchmarks, with the command line of c/msg.c after the implementation:
//
//	msgbench IMPL sysv ping|pong ID SIZE COUNT
//	msgbench IMPL mq ping|pong TO FROM SIZE COUNT
//	msgbench IMPL sysv|mq probe
//
// IMPL is an implementation of the contract ("cshim" or "purego", called
// through sysapi.Impl: Msgsnd and Msgrcv, or MqOpen, MqTimedsend and
// MqTimedreceive with no deadline), "safe", the safe API (shmmap.Queue,
// or package posixmq), or, for System V only, "raw" or "syscall", the
// direct calls of BenchmarkMsgBlockingCall (see cost.go). Messages are SIZE bytes; the first 8 carry the
// sequence number, which ping checks in each answer.
//
// System V uses one queue, ID: ping sends type 1 and waits for type 2, and
// pong answers each type 1 with a type 2 of the same bytes. POSIX uses two
// queues: ping sends on TO and receives on FROM, pong receives on TO and
// sends on FROM. ping makes one untimed round trip first (so the peer's
// start-up is not timed), then COUNT timed ones, and prints the nanoseconds
// per round trip; pong answers COUNT+1 messages.
//
// probe exits with status 0 if IMPL can run that kind of queue in this
// binary, and otherwise prints why and exits with status 3.
package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/shmmap/shmmap/impls"
	"golang.org/x/sys/unix"
)

// ends is the pinging or ponging process's view of its queues: send puts a
// message on the way out, recv takes one from the way in.
type ends interface {
	send(msg []byte) error
	recv(buf []byte) (int, error)
	close() error
}

// errUnavailable is returned by an opener for an implementation this
// binary cannot run; probe turns it into status 3.
type errUnavailable struct{ why string }

func (e errUnavailable) Error() string { return e.why }

func main() {
	if len(os.Args) == 4 && os.Args[3] == "probe" {
		probe(os.Args[1], os.Args[2])
		return
	}
	var (
		e      ends
		err    error
		ping   bool
		size   int
		count  int
		usage  = "usage: msgbench IMPL sysv ping|pong ID SIZE COUNT | msgbench IMPL mq ping|pong TO FROM SIZE COUNT | msgbench IMPL sysv|mq probe"
		a      = os.Args[1:]
		impl   string
		kind   string
		isPing = func(s string) bool {
			if s != "ping" && s != "pong" {
				fail(usage)
			}
			return s == "ping"
		}
	)
	switch {
	case len(a) == 6 && a[1] == "sysv":
		impl, kind, ping = a[0], a[1], isPing(a[2])
		size, count = max(atoi(a[4]), 8), max(atoi(a[5]), 1)
		e, err = openSysV(impl, atoi(a[3]), ping)
	case len(a) == 7 && a[1] == "mq":
		impl, kind, ping = a[0], a[1], isPing(a[2])
		size, count = max(atoi(a[5]), 8), max(atoi(a[6]), 1)
		e, err = openMq(impl, a[3], a[4], ping)
	default:
		fail(usage)
	}
	if err != nil {
		fail(fmt.Sprintf("msgbench %s %s: open: %v", impl, kind, err))
	}
	buf := make([]byte, size)
	var start time.Time
	for i := -1; i < count; i++ { // i = -1: the untimed first trip
		if ping {
			if i == 0 {
				start = time.Now()
			}
			binary.LittleEndian.PutUint64(buf, uint64(i))
			must(retry(func() error { return e.send(buf) }), "send")
			n, err := recvRetry(e, buf)
			must(err, "receive")
			if seq := binary.LittleEndian.Uint64(buf); n != size || seq != uint64(i) {
				fail(fmt.Sprintf("msgbench: answer %d has sequence %d, %d bytes", i, int64(seq), n))
			}
		} else {
			n, err := recvRetry(e, buf)
			must(err, "receive")
			must(retry(func() error { return e.send(buf[:n]) }), "send")
		}
	}
	if ping {
		fmt.Printf("%.1f\n", float64(time.Since(start).Nanoseconds())/float64(count))
	}
	must(e.close(), "close")
}

// openSysV returns the ends of System V queue id for impl.
func openSysV(impl string, id int, ping bool) (ends, error) {
	out, in := int64(2), int64(1) // pong: receives type 1, answers type 2
	if ping {
		out, in = 1, 2
	}
	if impl == "safe" {
		return openSafeSysV(id, out, in)
	}
	if costImpls[impl] {
		return openCost(impl, id, out, in), nil
	}
	sys, err := impls.Lookup(impl)
	if err != nil {
		return nil, errUnavailable{err.Error()}
	}
	return funcEnds{
		s: func(msg []byte) error { return sys.Msgsnd(id, out, msg, 0) },
		r: func(buf []byte) (int, error) {
			_, n, err := sys.Msgrcv(id, buf, in, 0)
			return n, err
		},
		c: func() error { return nil }, // the benchmark removes the queue
	}, nil
}

// funcEnds is ends made of functions.
type funcEnds struct {
	s func(msg []byte) error
	r func(buf []byte) (int, error)
	c func() error
}

func (e funcEnds) send(msg []byte) error        { return e.s(msg) }
func (e funcEnds) recv(buf []byte) (int, error) { return e.r(buf) }
func (e funcEnds) close() error                 { return e.c() }

// openMq returns the ends of the POSIX queues to and from for impl: ping
// writes to and reads from, pong the other way round.
func openMq(impl, to, from string, ping bool) (ends, error) {
	if impl == "safe" {
		return openSafeMq(to, from, ping)
	}
	sys, err := impls.Lookup(impl)
	if err != nil {
		return nil, errUnavailable{err.Error()}
	}
	outName, inName := from, to
	if ping {
		outName, inName = to, from
	}
	out, err := sys.MqOpen(outName, os.O_WRONLY, 0, nil)
	if err != nil {
		return nil, fmt.Errorf("mq_open %s: %w", outName, err)
	}
	in, err := sys.MqOpen(inName, os.O_RDONLY, 0, nil)
	if err != nil {
		sys.Close(out)
		return nil, fmt.Errorf("mq_open %s: %w", inName, err)
	}
	return funcEnds{
		s: func(msg []byte) error { return sys.MqTimedsend(out, msg, 0, nil) },
		r: func(buf []byte) (int, error) {
			n, _, err := sys.MqTimedreceive(in, buf, nil)
			return n, err
		},
		c: func() error { return errors.Join(sys.Close(out), sys.Close(in)) },
	}, nil
}

// retry calls f again while it fails with EINTR. The Go runtime's signals
// (goroutine preemption, SIGURG) interrupt a blocked msgsnd or msgrcv,
// which the kernel never restarts (signal(7)), so every Go caller of the
// contract retries, as a C program that handles signals must; the C rows
// take no signals. A retry costs only when a signal came.
func retry(f func() error) error {
	for {
		if err := f(); !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

// recvRetry is e.recv retried while it fails with EINTR.
func recvRetry(e ends, buf []byte) (n int, err error) {
	err = retry(func() error {
		n, err = e.recv(buf)
		return err
	})
	return n, err
}

func probe(impl, kind string) {
	var err error
	switch {
	case impl == "safe" && kind == "sysv":
		err = probeSafeSysV()
	case impl == "safe" && kind == "mq":
		err = probeSafeMq()
	case costImpls[impl] && kind == "sysv":
	case costImpls[impl]:
		err = errUnavailable{impl + " measures System V queues only"}
	case kind == "sysv" || kind == "mq":
		_, err = impls.Lookup(impl)
	default:
		fail("msgbench: probe: unknown kind " + kind)
	}
	if err != nil {
		fmt.Println(err)
		os.Exit(3)
	}
}

func must(err error, what string) {
	if err != nil {
		fail("msgbench: " + what + ": " + err.Error())
	}
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		fail("msgbench: " + err.Error())
	}
	return n
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, msg)
	os.Exit(1)
}
