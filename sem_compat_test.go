package shmmap_test

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shmmap/shmmap"
	"github.com/shmmap/shmmap/impls"
	"github.com/shmmap/shmmap/internal/testutil"
)

// Keys of the counter tests; every test runs in its own IPC namespace.
const (
	counterSegKey shmmap.Key = 0x5e9
	counterSemKey shmmap.Key = 0x5e4
)

var (
	extraBuilds   sync.Mutex
	extraBuildErr = map[string]error{}
)

// built builds a program for these tests once, into bin.
func built(t *testing.T, name string, build func(out string) error) string {
	t.Helper()
	extraBuilds.Lock()
	defer extraBuilds.Unlock()
	out := filepath.Join(bin, name)
	err, done := extraBuildErr[name]
	if !done {
		err = build(out)
		extraBuildErr[name] = err
	}
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// counterPrograms returns the C counter (also as a 32-bit program, where
// the machine runs one) and the Go counter over each implementation.
func counterPrograms(t *testing.T) []program {
	c := built(t, "semcounter-c", func(out string) error { return testutil.BuildC(out, "testdata/semcounter.c") })
	g := built(t, "semcounter-go", func(out string) error { return testutil.BuildGo(out, "./testdata/semcounter") })
	progs := []program{{Name: "C", Path: c}}
	if testutil.C32() == nil {
		c32 := built(t, "semcounter-c32", func(out string) error {
			return testutil.BuildCFlags(out, []string{"-m32"}, "testdata/semcounter.c")
		})
		progs = append(progs, program{Name: "C-m32", Path: c32})
	}
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
	var cmds []*exec.Cmd
	for _, p := range counterPrograms(t) {
		for range k {
			args := append(append([]string{}, p.Args...), fmt.Sprint(int32(counterSegKey)), fmt.Sprint(int32(counterSemKey)), fmt.Sprint(n), mode)
			cmd := exec.Command(p.Path, args...)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
			cmds = append(cmds, cmd)
			defer func() {
				if stderr.Len() > 0 {
					t.Logf("%s: %s", p.Name, stderr.String())
				}
			}()
		}
	}
	poll(t, nil, "every counter at the start gate", func() bool { _, z, _ := sems.Waiters(1); return z == len(cmds) })
	if err := sems.SetValue(1, 0); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("%v: %v", cmd.Args, err)
		}
	}
	return readCounter(t, shm)
}

// TestSemaphoreCounter: C and Go processes incrementing one counter under
// one System V semaphore never lose an update; without it they do, which
// shows the test can fail.
func TestSemaphoreCounter(t *testing.T) {
	testutil.EnterIPCNamespace(t)
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
				testutil.EnterIPCNamespace(t)
				shm, sems := counterSetup(t)
				if err := sems.SetValue(1, 0); err != nil { // open the start gate
					t.Fatal(err)
				}
				args := func(p program, n, mode string) []string {
					return append(append([]string{}, p.Args...), fmt.Sprint(int32(counterSegKey)), fmt.Sprint(int32(counterSemKey)), n, mode)
				}
				h := exec.Command(holder.Path, args(holder, "0", "hold")...)
				out, err := h.StdoutPipe()
				if err != nil {
					t.Fatal(err)
				}
				if err := h.Start(); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { h.Process.Kill(); h.Wait() })
				if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "locked\n" {
					t.Fatalf("holder: %q, %v", line, err)
				}
				w := exec.Command(waiter.Path, args(waiter, "1", "lock")...)
				var werr strings.Builder
				w.Stderr = &werr
				if err := w.Start(); err != nil {
					t.Fatal(err)
				}
				var waitErr error
				exited := make(chan struct{})
				go func() { waitErr = w.Wait(); close(exited) }()
				t.Cleanup(func() { w.Process.Kill(); <-exited })
				poll(t, exited, "the waiter to block on the semaphore", func() bool { n, _, _ := sems.Waiters(0); return n == 1 })
				if got := readCounter(t, shm); got != 0 {
					t.Fatalf("the waiter got past a held lock: counter %d", got)
				}
				h.Process.Kill()
				select {
				case <-exited:
					if waitErr != nil {
						t.Fatalf("waiter: %v: %s", waitErr, werr.String())
					}
				case <-time.After(20 * time.Second):
					t.Fatal("the waiter never got the lock after the holder died")
				}
				if got := readCounter(t, shm); got != 1 {
					t.Errorf("counter = %d, want 1", got)
				}
			})
		}
	}
}
