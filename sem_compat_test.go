package shmmap_test

import (
	"encoding/binary"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/shmmap/shmmap"
	"github.com/shmmap/shmmap/impls"
	"github.com/shmmap/shmmap/shmtest"
)

// Keys of the counter tests; every test runs in its own IPC namespace.
const (
	counterSegKey shmmap.Key = 0x5e9
	counterSemKey shmmap.Key = 0x5e4
)

// counterTimeout bounds each wait of the counter tests for a process's
// step or exit, so a wedged process fails the test instead of hanging it.
const counterTimeout = 20 * time.Second

// counterPrograms returns the C counter (also as a 32-bit program, where
// the machine runs one) and the Go counter over each implementation.
func counterPrograms(t *testing.T) []program {
	t.Helper()
	progs := cPrograms(t, "testdata/semcounter.c")
	g := shmtest.BuildGo(t, "./testdata/semcounter")
	for _, sys := range impls.All() {
		progs = append(progs, program{Name: "Go/" + sys.Name, Path: g, Args: []string{"-impl", sys.Name}})
	}
	return progs
}

// counterSetup creates the counter segment and a set of two semaphores: 0,
// the mutex, with value 1 (free), and 1, the start gate, closed (1). It
// returns the attached counter and the set.
func counterSetup(t *testing.T) (*shmmap.Attachment, *shmmap.SemaphoreSet) {
	t.Helper()
	seg, err := shmmap.CreateSegment(counterSegKey, 8, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	shm, err := seg.Attach(shmmap.AttachReadWrite)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { shm.Detach() })
	sems, err := shmmap.CreateSemaphores(counterSemKey, 2, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := sems.SetValue(0, 1); err != nil {
		t.Fatal(err)
	}
	if err := sems.SetValue(1, 1); err != nil {
		t.Fatal(err)
	}
	return shm, sems
}

func readCounter(t *testing.T, shm *shmmap.Attachment) int64 {
	t.Helper()
	var b [8]byte
	if _, err := shm.ReadAt(b[:], 0); err != nil {
		t.Fatal(err)
	}
	return int64(binary.NativeEndian.Uint64(b[:]))
}

// runCounters runs k copies of every counter program, each doing n
// increments in mode. It opens the start gate once all of them wait at it,
// so they run at the same time, and returns the final counter.
func runCounters(t *testing.T, shm *shmmap.Attachment, sems *shmmap.SemaphoreSet, k, n int, mode string) int64 {
	t.Helper()
	if _, err := shm.WriteAt(make([]byte, 8), 0); err != nil {
		t.Fatal(err)
	}
	if err := sems.SetValue(1, 1); err != nil {
		t.Fatal(err)
	}
	var procs []*shmtest.Process
	for _, p := range counterPrograms(t) {
		for range k {
			args := append(append([]string{}, p.Args...), fmt.Sprint(int32(counterSegKey)), fmt.Sprint(int32(counterSemKey)), fmt.Sprint(n), mode)
			proc := shmtest.Start(t, exec.Command(p.Path, args...))
			procs = append(procs, proc)
			defer func() {
				if s := proc.Stderr(); s != "" {
					t.Logf("%s: %s", p.Name, s)
				}
			}()
		}
	}
	shmtest.WaitFor(t, "every counter at the start gate", counterTimeout, func() bool {
		_, z, _ := sems.Waiters(1)
		return z == len(procs)
	}, procs...)
	if err := sems.SetValue(1, 0); err != nil {
		t.Fatal(err)
	}
	for _, proc := range procs {
		if res := proc.Wait(t, counterTimeout); res.Status != 0 {
			t.Fatalf("%v: %+v", proc.Cmd.Args, res)
		}
	}
	return readCounter(t, shm)
}

// TestSemaphoreCounter: C and Go processes incrementing one counter under
// one System V semaphore never lose an update; without it they do, which
// shows the test can fail.
func TestSemaphoreCounter(t *testing.T) {
	shmtest.Isolate(t)
	shm, sems := counterSetup(t)
	const k, n = 2, 5000
	procs := int64(k * len(counterPrograms(t)))
	if got := runCounters(t, shm, sems, k, n, "lock"); got != procs*n {
		t.Errorf("under the semaphore: counter = %d, want %d", got, procs*n)
	}
	lost := false
	for try := 0; try < 10 && !lost; try++ {
		const n = 100000 // long enough (~0.1 s each) for the processes to overlap
		got := runCounters(t, shm, sems, k, n, "nolock")
		t.Logf("without the semaphore: counter = %d of %d", got, procs*n)
		lost = got < procs*n
	}
	if !lost {
		t.Errorf("without the semaphore no update was ever lost: the counter test cannot tell")
	}
}

// TestSemaphoreUndo: a process killed while holding the SEM_UNDO lock
// releases it, and a waiter of the other language goes on.
func TestSemaphoreUndo(t *testing.T) {
	progs := counterPrograms(t)
	for _, holder := range progs {
		for _, waiter := range progs {
			if strings.HasPrefix(holder.Name, "C") == strings.HasPrefix(waiter.Name, "C") {
				continue // across languages (C-m32 is C)
			}
			t.Run(holder.Name+" killed, "+waiter.Name+" waits", func(t *testing.T) {
				shmtest.Isolate(t)
				shm, sems := counterSetup(t)
				if err := sems.SetValue(1, 0); err != nil { // open the start gate
					t.Fatal(err)
				}
				args := func(p program, n, mode string) []string {
					return append(append([]string{}, p.Args...), fmt.Sprint(int32(counterSegKey)), fmt.Sprint(int32(counterSemKey)), n, mode)
				}
				h := shmtest.Start(t, exec.Command(holder.Path, args(holder, "0", "hold")...))
				if line := h.WaitLine(t, "", counterTimeout); line != "locked" {
					t.Fatalf("holder: %q, want \"locked\"", line)
				}
				w := shmtest.Start(t, exec.Command(waiter.Path, args(waiter, "1", "lock")...))
				shmtest.WaitFor(t, "the waiter to block on the semaphore", counterTimeout, func() bool {
					n, _, _ := sems.Waiters(0)
					return n == 1
				}, w, h)
				if got := readCounter(t, shm); got != 0 {
					t.Fatalf("the waiter got past a held lock: counter %d", got)
				}
				h.Kill()
				// The waiter must get the lock after the holder died, and
				// exit: Wait fails the test if it is still waiting.
				if res := w.Wait(t, counterTimeout); res.Status != 0 {
					t.Fatalf("waiter: %+v", res)
				}
				if got := readCounter(t, shm); got != 1 {
					t.Errorf("counter = %d, want 1", got)
				}
			})
		}
	}
}
