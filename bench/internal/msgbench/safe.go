package main

import (
	"errors"
	"os"
	"strconv"

	"github.com/shmmap/shmmap"
	"github.com/shmmap/shmmap/posixmq"
)

// openSafeSysV returns the ends of System V queue id through the safe API,
// shmmap.Queue: it sends type out and receives type in.
func openSafeSysV(id int, out, in int64) (ends, error) {
	q, err := shmmap.OpenQueueID(id)
	if err != nil {
		return nil, err
	}
	if n, ok := spinEnv(); ok {
		q.SetSpin(n)
	}
	return funcEnds{
		s: func(msg []byte) error { return q.Send(out, msg) },
		r: func(buf []byte) (int, error) {
			_, n, err := q.Receive(buf, in)
			return n, err
		},
		c: func() error { return nil }, // the benchmark removes the queue
	}, nil
}

// openSafeMq returns the ends of POSIX queues to and from through the safe
// API, package posixmq: ping writes to and reads from, pong the other way
// round.
func openSafeMq(to, from string, ping bool) (ends, error) {
	outName, inName := from, to
	if ping {
		outName, inName = to, from
	}
	out, err := posixmq.Open(outName, os.O_WRONLY, 0, nil)
	if err != nil {
		return nil, err
	}
	in, err := posixmq.Open(inName, os.O_RDONLY, 0, nil)
	if err != nil {
		out.Close()
		return nil, err
	}
	return funcEnds{
		s: func(msg []byte) error { return out.Send(msg, 0) },
		r: func(buf []byte) (int, error) {
			n, _, err := in.Receive(buf)
			return n, err
		},
		c: func() error { return errors.Join(out.Close(), in.Close()) },
	}, nil
}

// spinEnv returns the spin budget in $MSGBENCH_SPIN, if set, for
// shmmap.Queue's SetSpin (BenchmarkMsgRoundTrip's row Queue-spin sets
// shmmap.QueueSpin).
func spinEnv() (int, bool) {
	v, ok := os.LookupEnv("MSGBENCH_SPIN")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		fail("msgbench: MSGBENCH_SPIN: " + err.Error())
	}
	return n, true
}

// probeSafeSysV and probeSafeMq tell that the safe API is built in: it
// needs neither cgo nor anything else the contract's implementations do not.
func probeSafeSysV() error { return nil }

func probeSafeMq() error { return nil }
