package semaphore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shmmap/shmmap"
	"github.com/shmmap/shmmap/internal/testutil"
)

// The programs under test, built once into a directory TestMain removes:
// c-writer, c-reader (c/writer.c, c/reader.c) and go-writer, go-reader.
var built struct {
	once sync.Once
	dir  string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

func bin(t *testing.T, name string) string {
	t.Helper()
	built.once.Do(func() {
		if built.dir, built.err = os.MkdirTemp("", "shmmap-semexample-"); built.err != nil {
			return
		}
		here := filepath.Join(testutil.ModuleRoot(), "examples", "semaphore")
		built.err = errors.Join(
			testutil.BuildC(filepath.Join(built.dir, "c-writer"), filepath.Join(here, "c", "writer.c")),
			testutil.BuildC(filepath.Join(built.dir, "c-reader"), filepath.Join(here, "c", "reader.c")),
			testutil.BuildGo(filepath.Join(built.dir, "go-writer"), "./examples/semaphore/writer"),
			testutil.BuildGo(filepath.Join(built.dir, "go-reader"), "./examples/semaphore/reader"),
		)
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return filepath.Join(built.dir, name)
}

// messages: the article's, non-ASCII text, and one longer than the segment,
// which both writers cut to 1023 bytes and a NUL.
var messages = []string{"shared memory here!", "共享内存 — ü", strings.Repeat("0123456789", 110)}

const (
	key  = 0x1234
	full = 0
)

// run is one exchange in a fresh IPC namespace: the writer and the reader
// in the given languages, the writer started first (the test waits, blocked
// in semop, until it has posted its first message before starting the
// reader) or the reader started first (started, not necessarily blocked
// yet: whichever runs first creates the segment and the set). It returns the reader's output after
// checking that both exited 0 with nothing on stderr and that the segment
// and the semaphores are gone.
func run(t *testing.T, w, r string, writerFirst bool) string {
	t.Helper()
	testutil.EnterIPCNamespace(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	writer := exec.CommandContext(ctx, bin(t, w+"-writer"), messages...)
	reader := exec.CommandContext(ctx, bin(t, r+"-reader"))
	var wout, werr, rout, rerr bytes.Buffer
	writer.Stdout, writer.Stderr, reader.Stdout, reader.Stderr = &wout, &werr, &rout, &rerr
	first, second := reader, writer
	if writerFirst {
		first, second = writer, reader
	}
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	if writerFirst {
		// Block until FULL is at least 1 (take it and give it back in one
		// atomic semop): the writer has written and posted message 1.
		sems, _, err := shmmap.OpenOrCreateSemaphores(key, 2, 0o600)
		if err != nil {
			first.Process.Kill()
			first.Wait()
			t.Fatal(err)
		}
		if err := sems.Op(ctx, shmmap.SemOp{Num: full, Delta: -1}, shmmap.SemOp{Num: full, Delta: 1}); err != nil {
			first.Process.Kill()
			first.Wait()
			t.Fatalf("waiting for the writer's first message: %v", err)
		}
	}
	if err := second.Start(); err != nil {
		first.Process.Kill()
		first.Wait()
		t.Fatal(err)
	}
	errW, errR := writer.Wait(), reader.Wait()
	if errW != nil || errR != nil || werr.Len() > 0 || rerr.Len() > 0 {
		t.Fatalf("writer: %v %q; reader: %v %q", errW, werr.String(), errR, rerr.String())
	}
	if _, err := shmmap.OpenSegment(key); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the segment is still there (OpenSegment: %v)", err)
	}
	if _, err := shmmap.OpenSemaphores(key); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the semaphores are still there (OpenSemaphores: %v)", err)
	}
	return rout.String()
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
	testutil.EnterIPCNamespace(t)
	var want *testutil.Result
	for _, w := range []string{"c", "go"} {
		res, err := testutil.Run(exec.Command(bin(t, w+"-writer"), "first", "", "third"))
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != 2 {
			t.Errorf("%s writer: status %d, want 2 (stderr %q)", w, res.Status, res.Stderr)
		}
		if want == nil {
			want = &res
		} else if d := cmp.Diff(*want, res); d != "" {
			t.Errorf("Go writer differs from C (-C +Go):\n%s", d)
		}
		if _, err := shmmap.OpenSegment(key); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("%s writer created the segment (OpenSegment: %v)", w, err)
		}
		if _, err := shmmap.OpenSemaphores(key); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("%s writer created the semaphores (OpenSemaphores: %v)", w, err)
		}
	}
}
