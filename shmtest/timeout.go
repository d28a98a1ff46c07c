package shmtest

import (
	"fmt"
	"testing"
	"time"
)

// DefaultTimeout bounds Run, Send, and the waits given a timeout of zero
// or less.
const DefaultTimeout = 30 * time.Second

// deadlineMargin is how long before the test binary's -timeout deadline a
// wait gives up, so that the test fails with the wait's message (and its
// cleanups run) rather than with the testing package's panic and
// goroutine dump.
const deadlineMargin = time.Second

// minWait is the least a wait cut short by the deadline still waits.
const minWait = 10 * time.Millisecond

// limit is how long one wait may last.
type limit struct {
	d     time.Duration // the wait's length
	asked time.Duration // what the caller asked for (DefaultTimeout for zero or less)
}

// waitLimit returns how long a wait given timeout may last: timeout, or
// DefaultTimeout if it is zero or less, but no later than deadlineMargin
// before the test binary's -timeout deadline, when t has one (*testing.T
// has a Deadline method; testing.TB does not promise one, so a fake or a
// *testing.B has none).
func waitLimit(t testing.TB, timeout time.Duration) limit {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	l := limit{d: timeout, asked: timeout}
	if dt, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if deadline, ok := dt.Deadline(); ok {
			if left := time.Until(deadline) - deadlineMargin; left < timeout {
				l.d = max(left, minWait).Round(time.Millisecond)
			}
		}
	}
	return l
}

// cut reports whether the test's deadline shortened the wait.
func (l limit) cut() bool { return l.d < l.asked }

// String gives the wait's length for messages, saying if the test's
// deadline shortened it.
func (l limit) String() string {
	if l.cut() {
		return fmt.Sprintf("%v (cut short from %v: the test binary's -timeout deadline is near)", l.d, l.asked)
	}
	return l.d.String()
}

// timer starts a timer for the wait.
func (l limit) timer() *time.Timer { return time.NewTimer(l.d) }
