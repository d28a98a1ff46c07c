package shmtest_test

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shmmap/shmmap/shmtest"
)

// fakeTB records what a helper reports instead of failing the real test,
// so that the tests can show each helper does fail. Fatalf, FailNow and
// Skipf end the calling goroutine (runtime.Goexit) as the testing package
// does: run code that may call them with fake, not on the test's
// goroutine.
type fakeTB struct {
	testing.TB // the real test, for everything not overridden

	mu       sync.Mutex
	failed   bool
	skipped  bool
	msgs     []string
	logs     []string
	cleanups []func()
}

func newFake(t *testing.T) *fakeTB { return &fakeTB{TB: t} }

func (f *fakeTB) Helper() {}

func (f *fakeTB) record(failed, skipped bool, msg string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failed = f.failed || failed
	f.skipped = f.skipped || skipped
	f.msgs = append(f.msgs, msg)
}

func (f *fakeTB) Error(args ...any) { f.record(true, false, fmt.Sprint(args...)) }
func (f *fakeTB) Errorf(format string, args ...any) {
	f.record(true, false, fmt.Sprintf(format, args...))
}
func (f *fakeTB) Fail()             { f.record(true, false, "Fail") }
func (f *fakeTB) FailNow()          { f.record(true, false, "FailNow"); runtime.Goexit() }
func (f *fakeTB) Fatal(args ...any) { f.record(true, false, fmt.Sprint(args...)); runtime.Goexit() }
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.record(true, false, fmt.Sprintf(format, args...))
	runtime.Goexit()
}
func (f *fakeTB) Skip(args ...any) { f.record(false, true, fmt.Sprint(args...)); runtime.Goexit() }
func (f *fakeTB) SkipNow()         { f.record(false, true, "SkipNow"); runtime.Goexit() }
func (f *fakeTB) Skipf(format string, args ...any) {
	f.record(false, true, fmt.Sprintf(format, args...))
	runtime.Goexit()
}
func (f *fakeTB) Log(args ...any)                 { f.log(fmt.Sprint(args...)) }
func (f *fakeTB) Logf(format string, args ...any) { f.log(fmt.Sprintf(format, args...)) }

func (f *fakeTB) log(s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.logs = append(f.logs, s)
}

func (f *fakeTB) logged() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.logs, "\n")
}

func (f *fakeTB) Failed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.failed
}

func (f *fakeTB) Skipped() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.skipped
}

func (f *fakeTB) Cleanup(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cleanups = append(f.cleanups, fn)
}

// runCleanups runs the registered cleanups, last first, as the testing
// package does, on the calling goroutine.
func (f *fakeTB) runCleanups() {
	for {
		f.mu.Lock()
		n := len(f.cleanups)
		if n == 0 {
			f.mu.Unlock()
			return
		}
		fn := f.cleanups[n-1]
		f.cleanups = f.cleanups[:n-1]
		f.mu.Unlock()
		fn()
	}
}

func (f *fakeTB) output() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.msgs, "\n")
}

// fake runs fn with a fake TB on a new goroutine (in ns if it is not nil),
// then its cleanups, and returns the fake once both are done.
func fake(t *testing.T, ns *shmtest.Namespace, fn func(ft *fakeTB)) *fakeTB {
	t.Helper()
	ft := newFake(t)
	body := func() {
		defer ft.runCleanups()
		fn(ft)
	}
	if ns != nil {
		<-ns.Go(t, body)
	} else {
		done := make(chan struct{})
		go func() { defer close(done); body() }()
		<-done
	}
	return ft
}

// mustFail fails the test unless the fake recorded a failure whose
// messages contain every one of want.
func mustFail(t *testing.T, ft *fakeTB, want ...string) {
	t.Helper()
	if !ft.Failed() {
		t.Fatalf("the helper did not fail; it said: %q", ft.output())
	}
	out := ft.output()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("the failure does not say %q:\n%s", w, out)
		}
	}
}

// mustPass fails the test if the fake recorded a failure or a skip.
func mustPass(t *testing.T, ft *fakeTB) {
	t.Helper()
	if ft.Failed() || ft.Skipped() {
		t.Fatalf("the helper failed or skipped:\n%s", ft.output())
	}
}

// quick fails the test if d is not well under the timeout the helper was
// given: the helper must have failed at once, not at its deadline.
func quick(t *testing.T, d, timeout time.Duration) {
	t.Helper()
	if d >= timeout/2 {
		t.Errorf("the helper took %v of its %v timeout: it did not fail at once", d, timeout)
	}
}
