// Package shmtest runs C and Go processes against each other in tests:
// programs that share System V shared memory, semaphores and message
// queues, POSIX shared memory or mapped files. It is to cross-process IPC
// tests what net/http/httptest is to HTTP handlers. It needs Linux, and
// neither cgo nor root, though most of what it tests wants root: without
// it, Isolate, RequireRoot and DoAs skip the test and say why.
//
//   - Isolate gives a test its own System V IPC namespace and its own
//     /dev/shm, so fixed keys such as 0x1234 and POSIX names such as
//     "/ring" never collide and nothing outlives the test.
//   - BuildC compiles a C program once per test binary (BuildGo builds a
//     Go one); Require32 skips unless 32-bit C peers (-m32) work here.
//   - Start starts a process whose stdout is read line by line (WaitLine),
//     whose stdin is a pipe (Send), and which is killed and reaped, with
//     its process group, when the test ends; Run runs one to completion.
//   - WaitAttached waits for a segment's attach count (WaitAttachedID for
//     a segment without a key), WaitFor for any condition, both failing at
//     once if a watched process exits.
//   - Result (stdout, stderr, exit status, files) and Diff or Compare
//     compare a C run with a Go run and show where they differ.
//   - NoLeaks fails a test that leaves segments, semaphore sets, message
//     queues or /dev/shm files behind.
//   - Unprivileged, AsUser and DoAs run processes or Go code as another
//     user, for permission tests; SharedDir is a directory that user can
//     enter.
//
// Steps across processes are ordered by handshakes — a line on stdout, a
// segment's attach count — never by sleeping. Every wait, and every write
// to a process's stdin, has a deadline and fails the test with the
// processes' output, rather than hanging; a deadline never runs past the
// test binary's -timeout (waits end a second before it), so the test fails
// with the helper's message rather than the testing package's panic.
//
// # A whole test
//
// A C writer creates key 0x1234 and holds it; a C reader and a Go reader
// must print the same thing from it. testdata/writer.c prints "ready" once
// it has written the segment and removes it at end of file on stdin;
// testdata/reader.c and the Go program in testdata/goreader print what is
// in it.
//
//	package mypkg_test
//
//	import (
//		"os/exec"
//		"testing"
//		"time"
//
//		"github.com/shmmap/shmmap/shmtest"
//	)
//
//	func TestMain(m *testing.M) { shmtest.Main(m) } // removes the built programs
//
//	func TestReaders(t *testing.T) {
//		shmtest.Isolate(t) // key 0x1234 is this test's alone
//		shmtest.NoLeaks(t) // and the test must remove it
//
//		writer := shmtest.Start(t, exec.Command(shmtest.BuildC(t, "testdata/writer.c")))
//		writer.WaitLine(t, "ready", 10*time.Second)
//		// (For a writer that prints nothing, wait for its attachment:
//		// shmtest.WaitAttached(t, 0x1234, 1, 10*time.Second, writer).)
//
//		want := shmtest.Run(t, exec.Command(shmtest.BuildC(t, "testdata/reader.c")))
//		got := shmtest.Run(t, exec.Command(shmtest.BuildGo(t, "./testdata/goreader")))
//		if want.Status != 0 || want.Stdout == "" {
//			t.Fatalf("the C reader itself failed: %+v", want)
//		}
//		shmtest.Compare(t, want, got)
//
//		// The writer removes the segment when its stdin closes; NoLeaks
//		// checks that it did.
//		if res := writer.Wait(t, 10*time.Second); res.Status != 0 {
//			t.Errorf("writer: %+v", res)
//		}
//	}
//
// If the Go reader printed "hello from Go" instead, the test would fail with
//
//	shmtest.Compare: the results differ (want is the first, got the second):
//	Stdout: want 13 bytes, got 14; first difference at byte 11 (line 1, column 12), 2 bytes differ
//	  want: "hello from C\n"
//	  got : "hello from Go\n"
//	                    ^
//
// # Namespaces and goroutines
//
// Isolate changes the IPC namespace and the mount namespace of one OS
// thread, the one the test's goroutine is locked to, and mounts a new
// tmpfs on /dev/shm in the latter. Everything that goroutine does — IPC
// calls, POSIX shared memory and named semaphores (shm_open, sem_open,
// anything under /dev/shm), the processes it starts, reading /proc/sysvipc
// and /dev/shm, the test's cleanups — is in the namespaces; other
// goroutines and subtests are not, unless they join them with
// Namespace.Join or are started with Namespace.Go (DoAs and DoUnprivileged
// join them too). So NoLeaks, after Isolate, cannot blame the test for
// another package's objects. Where a tmpfs cannot be mounted, the test
// keeps its IPC namespace and shares the machine's /dev/shm
// (Namespace.PrivateDevShm says which): give POSIX objects unique names
// if that may happen. Isolate's documentation has the details.
//
// # Built programs
//
// BuildC and BuildGo put their programs in one directory per test binary,
// readable by every user. RemoveBuilds removes it; call it from TestMain
// after m.Run, or use Main as above. A directory left behind by a test
// binary without it is removed by the next test binary that builds.
//
// # Faking a testing.TB
//
// The helpers that can fail take a testing.TB and report through it:
// t.Fatalf for a failed wait or build, t.Errorf for a difference or a
// leak, t.Skipf when the machine cannot do what the test needs. (Diff,
// AsUser, Unprivileged, ExitStatus, CanRun32, RemoveBuilds and
// Process.Kill cannot fail and take none.) The package's own tests pass a
// fake TB that records these, to show that each helper does fail. A TB
// with a Deadline method, as *testing.T has, bounds the waits by the test
// binary's -timeout.
package shmtest
