package shmtest_test

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/shmmap/shmmap/shmtest"
)

// deadlineTB is a fake TB with a test binary -timeout deadline, as
// *testing.T has.
type deadlineTB struct {
	*fakeTB
	deadline time.Time
}

func (d deadlineTB) Deadline() (time.Time, bool) { return d.deadline, true }

// TestWaitsEndBeforeDeadline: a wait that would outlast the test binary's
// -timeout ends a second before it, with the helper's own message, saying
// it was cut short.
func TestWaitsEndBeforeDeadline(t *testing.T) {
	const asked = 20 * time.Second
	check := func(name string, fn func(dt deadlineTB), want ...string) {
		t.Helper()
		start := time.Now()
		ft := fake(t, nil, func(ft *fakeTB) {
			// The deadline is 1.3s away: the waits end about 300ms from now.
			fn(deadlineTB{ft, time.Now().Add(1300 * time.Millisecond)})
			ft.Errorf("%s returned", name)
		})
		if d := time.Since(start); d > time.Second {
			t.Errorf("%s failed after %v: it did not end a second before the deadline", name, d)
		}
		mustFail(t, ft, append(want, "ms (cut short from", "-timeout deadline")...)
		if strings.Contains(ft.output(), name+" returned") {
			t.Errorf("%s returned instead of failing", name)
		}
	}
	check("WaitFor", func(dt deadlineTB) {
		shmtest.WaitFor(dt, "godot", asked, func() bool { return false })
	}, "timed out after", "from 20s", "waiting for godot")
	check("WaitLine", func(dt deadlineTB) {
		p := shmtest.Start(dt, exec.Command("sleep", "100"))
		p.WaitLine(dt, "never", asked)
	}, `printed no a line containing "never" within`, "from 20s")
	check("Wait", func(dt deadlineTB) {
		p := shmtest.Start(dt, exec.Command("sleep", "100"))
		p.Wait(dt, asked)
	}, "did not exit within", "from 20s")
	check("Send", func(dt deadlineTB) {
		p := shmtest.Start(dt, exec.Command("sleep", "100"))
		p.Send(dt, strings.Repeat("x", 1<<20)) // DefaultTimeout, cut short
	}, "the write did not complete within", "from 30s")

	// A deadline already past still gives the wait a moment.
	ft := fake(t, nil, func(ft *fakeTB) {
		shmtest.WaitFor(deadlineTB{ft, time.Now().Add(-time.Minute)}, "godot", asked, func() bool { return false })
	})
	mustFail(t, ft, "timed out after 10ms (cut short from 20s")

	// A far deadline changes nothing.
	ft = fake(t, nil, func(ft *fakeTB) {
		shmtest.WaitFor(deadlineTB{ft, time.Now().Add(time.Hour)}, "godot", 20*time.Millisecond, func() bool { return false })
	})
	mustFail(t, ft, "timed out after 20ms waiting for godot")
	if strings.Contains(ft.output(), "cut short") {
		t.Errorf("a wait well before the deadline says it was cut short: %s", ft.output())
	}
}
