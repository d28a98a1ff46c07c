package main

// The safe API's rows. TODO(issue 12): the safe API is being written
// (shmmap.Queue in queue.go, package posixmq); until it lands these report
// it unavailable, the benchmark skips the rows and the report shows their
// targets as not measured. When it lands, open the queue here (System V:
// shmmap.OpenQueueID(id), then Send(out, msg) and Receive(buf, in); POSIX:
// posixmq.Open(to/from, O_WRONLY/O_RDONLY, 0, nil), then Send(msg, 0) and
// Receive(buf)) and make both probes return nil.

// openSafeSysV returns the ends of System V queue id through shmmap.Queue:
// it sends type out and receives type in.
func openSafeSysV(id int, out, in int64) (ends, error) {
	_, _, _ = id, out, in
	return nil, probeSafeSysV()
}

// openSafeMq returns the ends of POSIX queues to and from through package
// posixmq: ping writes to and reads from, pong the other way round.
func openSafeMq(to, from string, ping bool) (ends, error) {
	_, _, _ = to, from, ping
	return nil, probeSafeMq()
}

func probeSafeSysV() error {
	return errUnavailable{"the safe System V API (shmmap.Queue) is not written yet"}
}

func probeSafeMq() error {
	return errUnavailable{"the safe POSIX API (package posixmq) is not written yet"}
}
