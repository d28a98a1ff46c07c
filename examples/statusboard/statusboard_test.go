package statusboard_test

// The status board's C programs and their Go ports, tested with nothing but
// the kit a user has: shmtest (namespaces, builds, runs, diffs, leaks),
// layout (the struct against the header, on both ABIs) and go-cmp (inside
// shmtest.Diff). Every pair's output must be the C pair's, byte for byte.

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/shmmap/shmmap/examples/statusboard/board"
	"github.com/shmmap/shmmap/layout"
	"github.com/shmmap/shmmap/layout/layouttest"
	"github.com/shmmap/shmmap/shmtest"
)

func TestMain(m *testing.M) { shmtest.Main(m) }

// TestLayout holds the Go types to c/board.h, here and (where the machine
// runs 32-bit programs) again as a GOARCH=386 binary against gcc -m32.
func TestLayout(t *testing.T) {
	layouttest.Also386(t)
	cflags := layouttest.CFlags(t)
	if err := layout.Check(board.Board{}, "c/board.h", "struct board", cflags...); err != nil {
		t.Error(err)
	}
	if err := layout.Check(board.Record{}, "c/board.h", "struct record", cflags...); err != nil {
		t.Error(err)
	}
}

// prog is one half of the board, in one language.
type prog struct {
	lang string
	path string
}

// programs builds the publisher and the printer in C and in Go for this
// test binary's ABI: a 386 test run pairs its 32-bit Go ports with C built
// with -m32, since a 64-bit C board is not a 32-bit one.
func programs(t *testing.T) (pubs, shows []prog) {
	t.Helper()
	cflags := layouttest.CFlags(t)
	if runtime.GOARCH == "386" {
		shmtest.Require32(t)
	}
	pubs = []prog{{"C", shmtest.BuildC(t, "c/publish.c", cflags...)}, {"Go", shmtest.BuildGo(t, "./publish")}}
	shows = []prog{{"C", shmtest.BuildC(t, "c/show.c", cflags...)}, {"Go", shmtest.BuildGo(t, "./show")}}
	return pubs, shows
}

// session runs what a user of the board does, all through one ftok path:
// publish twice (a new board, then an update of it), print, print and
// remove, and print once more (no board: an error). It returns every step's
// Result, in order.
func session(t *testing.T, pub, show prog) []shmtest.Result {
	dir := t.TempDir()
	path := filepath.Join(dir, "board.key")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	steps := [][]string{
		{pub.path, path, "rack-7", "3"},
		{pub.path, path, "rack-7 (after the upgrade, a long name)", "8"},
		{show.path, path},
		{show.path, "-r", path},
		{show.path, path},
	}
	var res []shmtest.Result
	for _, s := range steps {
		res = append(res, shmtest.Run(t, exec.Command(s[0], s[1:]...)))
	}
	return res
}

// TestPairs runs the session for every publisher with every printer, each
// in a private IPC namespace, and holds every step to the C pair's.
func TestPairs(t *testing.T) {
	pubs, shows := programs(t)
	var want []shmtest.Result
	t.Run("reference", func(t *testing.T) {
		shmtest.Isolate(t)
		shmtest.NoLeaks(t)
		want = session(t, pubs[0], shows[0])
	})
	if len(want) == 0 {
		t.Fatal("the C pair did not run")
	}
	if want[2].Status != 0 || want[2].Stdout == "" || want[4].Status == 0 {
		t.Fatalf("the C pair itself misbehaves: %+v", want)
	}
	for _, pub := range pubs {
		for _, show := range shows {
			t.Run(pub.lang+"-"+show.lang, func(t *testing.T) {
				shmtest.Isolate(t)
				shmtest.NoLeaks(t)
				got := session(t, pub, show)
				for i := range want {
					if d := shmtest.Diff(want[i], got[i]); d != "" {
						t.Errorf("step %d differs from the C publisher and C printer:\n%s", i+1, d)
					}
				}
			})
		}
	}
}

// TestMixedPublishers: a board the C publisher made is updated by the Go
// one and the reverse, and both printers agree on the result.
func TestMixedPublishers(t *testing.T) {
	pubs, shows := programs(t)
	var outs []shmtest.Result
	for _, order := range [][]prog{{pubs[0], pubs[1]}, {pubs[1], pubs[0]}} {
		t.Run(order[0].lang+"-then-"+order[1].lang, func(t *testing.T) {
			shmtest.Isolate(t)
			shmtest.NoLeaks(t)
			path := filepath.Join(t.TempDir(), "board.key")
			if err := os.WriteFile(path, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			shmtest.Run(t, exec.Command(order[0].path, path, "first", "2"))
			shmtest.Run(t, exec.Command(order[1].path, path, "second", "5"))
			c := shmtest.Run(t, exec.Command(shows[0].path, path))
			g := shmtest.Run(t, exec.Command(shows[1].path, "-r", path))
			shmtest.Compare(t, c, g)
			outs = append(outs, c)
		})
	}
	if len(outs) == 2 {
		shmtest.Compare(t, outs[0], outs[1])
	}
}

// TestOtherABI: a board published by a 32-bit C program is refused alike by
// the 64-bit C printer and its Go port (the segment is smaller than their
// struct board), rather than printed as garbage.
func TestOtherABI(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("a 64-bit test: the printers must be 64-bit and the publisher 32-bit")
	}
	shmtest.Require32(t)
	pub32 := shmtest.BuildC(t, "c/publish.c", "-m32")
	_, shows := programs(t)
	shmtest.Isolate(t)
	shmtest.NoLeaks(t)
	path := filepath.Join(t.TempDir(), "board.key")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if r := shmtest.Run(t, exec.Command(pub32, path, "i386", "4")); r.Status != 0 {
		t.Fatalf("32-bit publisher: %+v", r)
	}
	c := shmtest.Run(t, exec.Command(shows[0].path, path))
	g := shmtest.Run(t, exec.Command(shows[1].path, path))
	if c.Status == 0 {
		t.Fatalf("the 64-bit C printer accepted a 32-bit board: %+v", c)
	}
	shmtest.Compare(t, c, g)
	// Clean up with the printer's own -r after the refusal is not possible
	// (it refuses first); the 32-bit printer removes it.
	show32 := shmtest.BuildC(t, "c/show.c", "-m32")
	if r := shmtest.Run(t, exec.Command(show32, "-r", path)); r.Status != 0 {
		t.Fatalf("32-bit printer: %+v", r)
	}
}
