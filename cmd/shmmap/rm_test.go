package main

import (
	"errors"
	"io/fs"
	"strconv"
	"strings"
	"testing"

	"github.com/shmmap/shmmap"
	"github.com/shmmap/shmmap/shmtest"
)

// TestRm: shmmap rm refuses the segment a writer holds, naming the writer,
// and leaves it as it was; rm --force removes it (its key is free at once,
// the kernel destroys it when the writer exits); a segment nobody holds is
// removed without --force.
func TestRm(t *testing.T) {
	for _, w := range writers(t) {
		t.Run(w.name, func(t *testing.T) {
			shmtest.Isolate(t)
			writer := startWriter(t, w)
			seg, err := shmmap.OpenSegment(shmKey)
			if err != nil {
				t.Fatal(err)
			}
			before := contents(t, shmKey)

			res := runShmmap(t, runOpts{}, "rm", "0x1234")
			pid := strconv.Itoa(writer.pid)
			if res.Status != 1 || res.Stdout != "" {
				t.Errorf("rm of an attached segment: status %d, stdout %q; want 1 and nothing", res.Status, res.Stdout)
			}
			for _, s := range []string{"shmmap: rm key 0x00001234: ", "attached", "nattch 1", "pid " + pid + " (" + w.comm + ", rw)", "--force"} {
				if !strings.Contains(res.Stderr, s) {
					t.Errorf("rm of an attached segment says %q; want it to contain %q", res.Stderr, s)
				}
			}
			after, err := shmmap.OpenSegment(shmKey)
			if err != nil || after.ID() != seg.ID() {
				t.Fatalf("after a refused rm the segment is %v, %v; want id %d", after, err, seg.ID())
			}
			if info, err := after.Stat(); err != nil || info.Removed || info.Nattch != 1 {
				t.Errorf("after a refused rm: %+v, %v", info, err)
			}
			if got := contents(t, shmKey); string(got) != string(before) {
				t.Errorf("a refused rm changed the contents")
			}

			res = runShmmap(t, runOpts{}, "rm", "--force", "0x1234")
			if res.Status != 0 || res.Stdout != "" || !strings.Contains(res.Stderr, "removed while attached") || !strings.Contains(res.Stderr, "pid "+pid) {
				t.Errorf("rm --force: %+v", res)
			}
			if _, err := shmmap.OpenSegment(shmKey); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("after rm --force, key 0x1234 gives %v; want no such segment", err)
			}
			info, err := seg.Stat()
			if err != nil || !info.Removed || info.Key != shmmap.IPCPrivate || info.Nattch != 1 {
				t.Errorf("after rm --force, while the writer holds it: %+v, %v; want removed, key 0, nattch 1", info, err)
			}
			writer.stop()
			if segs, err := shmmap.ListSegments(); err != nil || len(segs) != 0 {
				t.Errorf("once the writer is gone: %+v, %v; want no segments", segs, err)
			}

			// Nobody holds it: no --force needed.
			free, err := shmmap.CreateSegment(0x999, 10, 0o600)
			if err != nil {
				t.Fatal(err)
			}
			if res := runShmmap(t, runOpts{}, "rm", "id:"+strconv.Itoa(free.ID())); res.Status != 0 || res.Stdout != "" || res.Stderr != "" {
				t.Errorf("rm of a free segment: %+v", res)
			}
			if segs, err := shmmap.ListSegments(); err != nil || len(segs) != 0 {
				t.Errorf("after rm of the free segment: %+v, %v; want no segments", segs, err)
			}
		})
	}
}
