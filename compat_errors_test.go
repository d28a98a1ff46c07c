package shmmap_test

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shmmap/shmmap/purego"
	"github.com/shmmap/shmmap/shmtest"
	"github.com/shmmap/shmmap/sysapi"
	"golang.org/x/sys/unix"
)

// after is what a run leaves: its observable result and the segment at key
// 0x1234 afterwards.
type after struct {
	Run shmtest.Result
	Seg segAfter
}

// segAfter is the segment at key 0x1234 after a run.
type segAfter struct {
	Exists  bool
	Size    uint64
	Mode    uint32
	Nattch  uint64
	Content []byte // the first 32 bytes
}

// makeSegment creates root's segment at 0x1234 with the given size and mode
// and a recognisable content.
func makeSegment(size int, mode int) func(t *testing.T) {
	return func(t *testing.T) {
		id, err := purego.Shmget(shmKey, size, unix.IPC_CREAT|unix.IPC_EXCL|mode)
		if err != nil {
			t.Fatal(err)
		}
		b, err := purego.Shmat(id, 0)
		if err != nil {
			t.Fatal(err)
		}
		copy(b, "root's data\x00after the NUL")
		purego.Shmdt(b)
	}
}

func segmentAfter(t *testing.T, res shmtest.Result) after {
	t.Helper()
	a := after{Run: res}
	id, err := purego.Shmget(shmKey, 0, 0)
	if err != nil {
		return a
	}
	var ds sysapi.ShmidDS
	if _, err := purego.Shmctl(id, unix.IPC_STAT, &ds); err != nil {
		t.Fatal(err)
	}
	a.Seg.Exists, a.Seg.Size, a.Seg.Mode, a.Seg.Nattch = true, ds.Segsz, ds.Mode, ds.Nattch
	b, err := purego.Shmat(id, unix.SHM_RDONLY)
	if err != nil {
		t.Fatal(err)
	}
	a.Seg.Content = bytes.Clone(b[:min(32, len(b))])
	purego.Shmdt(b)
	return a
}

// TestErrorPaths: each program's failure is byte for byte and status for
// status the C program's, and leaves the segment as C leaves it.
func TestErrorPaths(t *testing.T) {
	cases := []struct {
		name   string
		prog   string
		setup  func(t *testing.T)
		nobody bool
	}{
		{"reader with no segment", "reader", nil, false},
		{"writer with a smaller segment at the key", "writer", makeSegment(512, 0o600), false},
		{"reader with a smaller segment at the key", "reader", makeSegment(16, 0o600), false},
		{"unprivileged reader of root's segment", "reader", makeSegment(1024, 0o600), true},
		{"unprivileged writer against root's segment", "writer", makeSegment(1024, 0o600), true},
		{"unprivileged reader of root's 0644 segment", "reader", makeSegment(1024, 0o644), true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.nobody {
				shmtest.RequireRoot(t)
			}
			got := map[string]after{}
			for _, p := range programs(t, tc.prog) {
				t.Run(p.Name, func(t *testing.T) {
					shmtest.Isolate(t)
					if tc.setup != nil {
						tc.setup(t)
					}
					got[p.Name] = segmentAfter(t, run(t, p, "/", tc.nobody))
				})
			}
			want, ok := got["C"]
			if !ok {
				return
			}
			if want.Run.Status == 0 && tc.prog == "writer" {
				t.Fatalf("the C writer was expected to fail here: %+v", want)
			}
			for name, a := range got {
				if d := shmtest.Diff(want.Run, a.Run); d != "" {
					t.Errorf("%s's run differs from C's (want: C, got: %s):\n%s", name, name, d)
				}
				if d := cmp.Diff(want.Seg, a.Seg); d != "" {
					t.Errorf("%s leaves the segment otherwise than C (-C +%s):\n%s", name, name, d)
				}
			}
		})
	}
}

// TestCshimNotBuiltIn: a port built with CGO_ENABLED=0 refuses -impl cshim
// clearly, with status 2, and touches nothing.
func TestCshimNotBuiltIn(t *testing.T) {
	shmtest.Isolate(t)
	res := shmtest.Run(t, exec.Command(shmtest.BuildGo(t, "./cmd/writer", "CGO_ENABLED=0"), "-impl", "cshim"))
	if res.Status != 2 || !strings.Contains(res.Stderr, "cshim") || !strings.Contains(res.Stderr, "CGO_ENABLED=0") {
		t.Errorf("writer-nocgo -impl cshim = %+v; want status 2 and a message naming cshim and CGO_ENABLED=0", res)
	}
	if _, err := purego.Shmget(shmKey, 0, 0); err == nil {
		t.Errorf("writer-nocgo -impl cshim created the segment")
	}
}
