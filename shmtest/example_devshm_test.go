package shmtest_test

import (
	"os"
	"os/exec"
	"testing"

	"github.com/shmmap/shmmap"
	"github.com/shmmap/shmmap/shmtest"
)

// testFixedPOSIXName: after Isolate a test may give its POSIX shared
// memory and named semaphores fixed names, as it may its System V keys:
// its /dev/shm is its own, so "/status" in another test, or in another
// package's test running at the same time, is another object, and NoLeaks
// blames the test for its own objects only. A C peer
// (testdata/posix.c) makes the object /status (shm_open, 4096 bytes) and
// the semaphore /status (sem_open) and exits; Go opens what C made.
//
// (A file shown whole as an example may not hold a test function, so the
// shmtest tests run this one from TestExamplePrivateDevShm.)
func testFixedPOSIXName(t *testing.T) {
	ns := shmtest.Isolate(t)
	shmtest.NoLeaks(t)
	if !ns.PrivateDevShm() {
		t.Skip("no private /dev/shm here (Isolate's log says why): a fixed name could collide")
	}

	peer := shmtest.BuildC(t, "testdata/posix.c", "-pthread", "-lrt")
	res := shmtest.Run(t, exec.Command(peer, "status"))
	// Removed whatever happens next: NoLeaks checks.
	t.Cleanup(func() {
		shmmap.ShmUnlink("/status")
		os.Remove("/dev/shm/sem.status")
	})
	if res.Status != 0 || res.Stdout != "made\n" {
		t.Fatalf("the C peer: %+v", res)
	}

	f, err := shmmap.ShmOpen("/status", os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || fi.Size() != 4096 {
		t.Errorf("the object C made: %v %v, want 4096 bytes", fi, err)
	}
}

// Fixed POSIX names in an isolated test: testFixedPOSIXName above is an
// ordinary test function, TestFixedPOSIXName in your package.
func Example_privateDevShm() {
	// In a _test.go file:
	//
	//	func TestFixedPOSIXName(t *testing.T) { ... }
	//
	// with the body of testFixedPOSIXName.
}
