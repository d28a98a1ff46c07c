package semaphore_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shmmap/shmmap"
	"github.com/shmmap/shmmap/shmtest"
)

// The programs under test, built once per test binary when a test first
// needs them (shmtest.BuildC, shmtest.BuildGo); Main removes them.
func TestMain(m *testing.M) { shmtest.Main(m) }

// bin returns the program name, building it the first time: c-writer,
// c-reader (c/writer.c, c/reader.c), go-writer, go-reader (./writer,
// ./reader).
func bin(t *testing.T, name string) string {
	t.Helper()
	lang, prog, _ := strings.Cut(name, "-")
	switch {
	case lang == "c" && (prog == "writer" || prog == "reader"):
		return shmtest.BuildC(t, "c/"+prog+".c")
	case lang == "go" && (prog == "writer" || prog == "reader"):
		return shmtest.BuildGo(t, "./"+prog)
	}
	t.Fatalf("no program %q", name)
	return ""
}

// messages: the article's, non-ASCII text, and one longer than the segment,
// which both writers cut to 1023 bytes and a NUL.
var messages = []string{"shared memory here!", "共享内存 — ü", strings.Repeat("0123456789", 110)}

const (
	key  = 0x1234
	full = 0
)

// exchangeTimeout bounds each wait of an exchange: for the writer's first
// message, and for each program to exit.
const exchangeTimeout = 60 * time.Second

// run is one exchange in a fresh IPC namespace: the writer and the reader
// in the given languages, the writer started first (the test waits, blocked
// in semop, until it has posted its first message before starting the
// reader) or the reader started first (started, not necessarily blocked
// yet: whichever runs first creates the segment and the set). It returns the reader's output after
// checking that both exited 0 with nothing on stderr and that the segment
// and the semaphores are gone.
func run(t *testing.T, w, r string, writerFirst bool) string {
	t.Helper()
	shmtest.Isolate(t)
	// Each is started from the test's goroutine, so in its namespace, and
	// killed and reaped when the test ends, whatever happens.
	var writer, reader *shmtest.Process
	start := func(isWriter bool) {
		if isWriter {
			writer = shmtest.Start(t, exec.Command(bin(t, w+"-writer"), messages...))
		} else {
			reader = shmtest.Start(t, exec.Command(bin(t, r+"-reader")))
		}
	}
	start(writerFirst)
	if writerFirst {
		// Block until FULL is at least 1 (take it and give it back in one
		// atomic semop): the writer has written and posted message 1.
		ctx, cancel := context.WithTimeout(context.Background(), exchangeTimeout)
		defer cancel()
		sems, _, err := shmmap.OpenOrCreateSemaphores(key, 2, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		if err := sems.Op(ctx, shmmap.SemOp{Num: full, Delta: -1}, shmmap.SemOp{Num: full, Delta: 1}); err != nil {
			t.Fatalf("waiting for the writer's first message: %v", err)
		}
	}
	start(!writerFirst)
	wres, rres := writer.Wait(t, exchangeTimeout), reader.Wait(t, exchangeTimeout)
	if wres.Status != 0 || rres.Status != 0 || wres.Stderr != "" || rres.Stderr != "" {
		t.Fatalf("writer: status %d, stderr %q; reader: status %d, stderr %q", wres.Status, wres.Stderr, rres.Status, rres.Stderr)
	}
	if _, err := shmmap.OpenSegment(key); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the segment is still there (OpenSegment: %v)", err)
	}
	if _, err := shmmap.OpenSemaphores(key); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the semaphores are still there (OpenSemaphores: %v)", err)
	}
	return rres.Stdout
}

// TestExchange: every writer {C, Go} with every reader {C, Go}, each
// started first, prints what the C writer and C reader print, and leaves
// nothing behind. No step waits by sleeping.
func TestExchange(t *testing.T) {
	var want string
	t.Run("c-writer/c-reader/reference", func(t *testing.T) {
		want = run(t, "c", "c", true)
		// The reference itself: each message on its line, the long one cut
		// to the 1023 bytes before the NUL.
		lines := append([]string(nil), messages...)
		lines[2] = lines[2][:1023]
		if d := cmp.Diff(strings.Join(lines, "\n")+"\n", want); d != "" {
			t.Fatalf("C writer → C reader (-expected +printed):\n%s", d)
		}
	})
	if want == "" {
		t.Fatal("no reference output")
	}
	for _, w := range []string{"c", "go"} {
		for _, r := range []string{"c", "go"} {
			for _, writerFirst := range []bool{true, false} {
				order := map[bool]string{true: "writer-first", false: "reader-started-first"}[writerFirst]
				t.Run(fmt.Sprintf("%s-writer/%s-reader/%s", w, r, order), func(t *testing.T) {
					if d := cmp.Diff(want, run(t, w, r, writerFirst)); d != "" {
						t.Errorf("output differs from C → C (-C +this):\n%s", d)
					}
				})
			}
		}
	}
}

// TestEmptyMessageRefused: an empty argument would end the stream early, so
// both writers refuse it the same way (status 2, the same message) before
// creating anything.
func TestEmptyMessageRefused(t *testing.T) {
	shmtest.Isolate(t)
	var want *shmtest.Result
	for _, w := range []string{"c", "go"} {
		res := shmtest.Run(t, exec.Command(bin(t, w+"-writer"), "first", "", "third"))
		if res.Status != 2 {
			t.Errorf("%s writer: status %d, want 2 (stderr %q)", w, res.Status, res.Stderr)
		}
		if want == nil {
			want = &res
		} else if d := shmtest.Diff(*want, res); d != "" {
			t.Errorf("Go writer differs from C (want: C, got: Go):\n%s", d)
		}
		if _, err := shmmap.OpenSegment(key); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("%s writer created the segment (OpenSegment: %v)", w, err)
		}
		if _, err := shmmap.OpenSemaphores(key); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("%s writer created the semaphores (OpenSemaphores: %v)", w, err)
		}
	}
}
