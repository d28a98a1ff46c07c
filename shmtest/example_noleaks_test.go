package shmtest_test

import (
	"bytes"
	"os/exec"
	"testing"
	"time"

	"github.com/shmmap/shmmap"
	"github.com/shmmap/shmmap/shmtest"
)

// testSharedSegment: Go creates a segment, a C peer (testdata/attach.c,
// driven one command per line) attaches it and writes into it, and Go
// reads what C wrote. NoLeaks holds the test to removing the segment.
//
// (A file shown whole as an example may not hold a test function, so the
// shmtest tests run this one from TestExampleNoLeaks.)
func testSharedSegment(t *testing.T) {
	shmtest.Isolate(t)
	shmtest.NoLeaks(t) // first, so that its check runs after every later cleanup

	seg, err := shmmap.CreateSegment(0x4242, 4096, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	// Without this cleanup the test fails with
	//
	//	shmtest.NoLeaks: the test left 1 IPC object behind:
	//	  System V shared memory segment: key 0x00004242, shmid 0, 4096 bytes, mode 0600, uid 0, nattch 0, created by pid 4711, last used by pid 4715
	//	(Remove what the test makes in a t.Cleanup registered right after making it, so that a failing test removes it too.)
	t.Cleanup(func() { seg.Remove() })

	peer := shmtest.Start(t, exec.Command(shmtest.BuildC(t, "testdata/attach.c"), "0x4242", "4096"))
	shmtest.WaitAttached(t, 0x4242, 1, 10*time.Second, peer)
	peer.WaitLine(t, "ready", 10*time.Second)
	peer.Send(t, "write hello from C")
	peer.WaitLine(t, "ok", 10*time.Second)

	shm, err := seg.Attach(shmmap.AttachReadOnly)
	if err != nil {
		t.Fatal(err)
	}
	defer shm.Detach()
	if got, _, _ := bytes.Cut(shm.Bytes(), []byte{0}); string(got) != "hello from C" {
		t.Errorf("the segment holds %q", got)
	}
}

// NoLeaks in a test where Go and a C peer share a segment: testSharedSegment
// above is an ordinary test function, TestSharedSegment in your package.
func Example_noLeaks() {
	// In a _test.go file:
	//
	//	func TestSharedSegment(t *testing.T) { ... }
	//
	// with the body of testSharedSegment.
}
