package shmtest_test

import (
	"os/exec"
	"testing"
	"time"

	"github.com/shmmap/shmmap/shmtest"
)

// testReaders is a whole cross-process test, as a package's _test.go file
// holds it under the name TestReaders. A C writer (testdata/writer.c)
// creates key 0x1234, writes "hello from C" into it, prints "ready" and
// removes the segment at end of file on stdin; a C reader
// (testdata/reader.c) and a Go reader (testdata/goreader) must print the
// same thing from it.
//
// (A file shown whole as an example may not hold a test function, so the
// shmtest tests run this one from TestExampleReaders.)
func testReaders(t *testing.T) {
	shmtest.Isolate(t) // key 0x1234 is this test's alone
	shmtest.NoLeaks(t) // and the test must remove it

	writer := shmtest.Start(t, exec.Command(shmtest.BuildC(t, "testdata/writer.c")))
	writer.WaitLine(t, "ready", 10*time.Second)

	want := shmtest.Run(t, exec.Command(shmtest.BuildC(t, "testdata/reader.c")))
	got := shmtest.Run(t, exec.Command(shmtest.BuildGo(t, "./testdata/goreader")))
	if want.Status != 0 || want.Stdout == "" {
		t.Fatalf("the C reader itself failed: %+v", want)
	}
	shmtest.Compare(t, want, got)

	// The writer removes the segment when its stdin closes; NoLeaks checks
	// that it did.
	if res := writer.Wait(t, 10*time.Second); res.Status != 0 {
		t.Errorf("writer: %+v", res)
	}
}

// A C writer, a C reader and a Go reader sharing key 0x1234 in a test:
// testReaders above is an ordinary test function, TestReaders in your
// package. Its programs are in shmtest's testdata directory.
func Example_readers() {
	// In a _test.go file:
	//
	//	func TestReaders(t *testing.T) { ... }
	//
	// with the body of testReaders.
}
