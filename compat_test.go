package shmmap_test

// The cross-process matrix: the article's C programs (built here from
// c-reference/ with `go env CC`, by shmtest.BuildC) and their Go ports over
// both implementations run against each other on the same key and the same
// file. Every expected value comes from running the C reference in the same
// test. Each scenario runs in a fresh IPC namespace (shmtest.Isolate), so
// key 0x1234 is private to it and everything it made disappears with it.

import (
	"bytes"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shmmap/shmmap/impls"
	"github.com/shmmap/shmmap/procmaps"
	"github.com/shmmap/shmmap/purego"
	"github.com/shmmap/shmmap/shmtest"
	"github.com/shmmap/shmmap/sysapi"
	"golang.org/x/sys/unix"
)

const shmKey = 0x1234 // the article's key

// The programs are built lazily by the tests that run them, once per test
// binary, in a directory the unprivileged user can enter; Main removes it.
func TestMain(m *testing.M) { shmtest.Main(m) }

// program is one way to run one of the article's programs.
type program struct {
	Name string // "C", "C-m32", "Go/cshim", "Go/purego"
	Path string
	Args []string
}

// command returns the command that runs p in dir, as the unprivileged user
// if nobody is set.
func (p program) command(dir string, nobody bool) *exec.Cmd {
	cmd := exec.Command(p.Path, p.Args...)
	cmd.Dir = dir
	if nobody {
		shmtest.Unprivileged(cmd)
	}
	return cmd
}

// cPrograms builds the C source src as the C compiler builds it by default
// ("C"), and as a 32-bit program ("C-m32") where the machine builds and runs
// those; where it does not, C-m32 is left out and the test log says why.
func cPrograms(t *testing.T, src string) []program {
	t.Helper()
	progs := []program{{Name: "C", Path: shmtest.BuildC(t, src)}}
	if ok, reason := shmtest.CanRun32(); ok {
		progs = append(progs, program{Name: "C-m32", Path: shmtest.BuildC(t, src, "-m32")})
	} else {
		t.Logf("no 32-bit C program (C-m32) in the matrix: %s", reason)
	}
	return progs
}

// programs returns the C original of name, the same built as a 32-bit
// program (C-m32, where the machine runs them), and its Go port over each
// implementation built into this test binary (purego, and cshim with cgo);
// the C original, as the C compiler builds it by default, is always first.
func programs(t *testing.T, name string) []program {
	t.Helper()
	progs := cPrograms(t, "c-reference/"+name+".c")
	port := shmtest.BuildGo(t, "./cmd/"+name)
	for _, sys := range impls.All() {
		progs = append(progs, program{"Go/" + sys.Name, port, []string{"-impl", sys.Name}})
	}
	return progs
}

// runTimeout bounds one run of a program: a run that hangs (a writer that
// wrongly succeeds holds for 30 s) is killed and fails the test.
const runTimeout = 15 * time.Second

// run runs p to completion.
func run(t *testing.T, p program, dir string, nobody bool) shmtest.Result {
	t.Helper()
	return shmtest.Start(t, p.command(dir, nobody)).Wait(t, runTimeout)
}

// handshakeTimeout bounds each wait for a peer's step.
const handshakeTimeout = 20 * time.Second

// startWriter starts a writer and waits until it has attached the segment
// (nattch 1) and copied its message in (the first 20 bytes hold no NUL):
// the handshakes the C program allows, since it prints nothing. nattch alone
// is not enough: shmat returns before strncpy runs. Either wait fails at
// once if the writer exits first. The writer is killed when the test ends,
// whatever happens.
func startWriter(t *testing.T, p program, nobody bool) *shmtest.Process {
	t.Helper()
	w := shmtest.Start(t, p.command("/", nobody))
	shmtest.WaitAttached(t, shmKey, 1, handshakeTimeout, w)
	waitMessage(t, w)
	return w
}

// waitMessage waits until the first 20 bytes of the segment at shmKey (the
// length of the article's message) are all written, that is none is NUL.
func waitMessage(t *testing.T, writer *shmtest.Process) {
	t.Helper()
	id, err := purego.Shmget(shmKey, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	mem, err := purego.Shmat(id, unix.SHM_RDONLY)
	if err != nil {
		t.Fatal(err)
	}
	defer purego.Shmdt(mem)
	shmtest.WaitFor(t, "the writer's message in the segment", handshakeTimeout, func() bool {
		return len(mem) >= 20 && !bytes.Contains(mem[:20], []byte{0})
	}, writer)
}

// TestWriterReaderMatrix runs every writer with every reader: each run must
// print what the C reader prints after the C writer.
func TestWriterReaderMatrix(t *testing.T) {
	var want shmtest.Result
	t.Run("C-C reference", func(t *testing.T) {
		shmtest.Isolate(t)
		startWriter(t, programs(t, "writer")[0], false)
		want = run(t, programs(t, "reader")[0], "/", false)
	})
	if t.Failed() || t.Skipped() {
		return
	}
	if want.Status != 0 || want.Stdout == "" {
		t.Fatalf("the C reference itself failed: %+v", want)
	}
	for _, w := range programs(t, "writer") {
		for _, r := range programs(t, "reader") {
			t.Run(w.Name+" writer, "+r.Name+" reader", func(t *testing.T) {
				shmtest.Isolate(t)
				startWriter(t, w, false)
				got := run(t, r, "/", false)
				if d := shmtest.Diff(want, got); d != "" {
					t.Errorf("differs from the C writer -> C reader run (want: C/C, got: %s/%s):\n%s", w.Name, r.Name, d)
				}
			})
		}
	}
}

// segState is what IPC_STAT and /proc/PID/maps show of the writer's segment.
type segState struct {
	Size       uint64
	Mode       uint32
	Nattch     uint64
	CreatorIsW bool
	MapPerms   string
	MapLen     uint64
	MapPath    string
	MapShmid   int
	MapKey     int32
}

func observe(t *testing.T, pid int) segState {
	t.Helper()
	id, err := purego.Shmget(shmKey, 0, 0)
	if err != nil {
		t.Fatalf("segment %#x: %v", shmKey, err)
	}
	var ds sysapi.ShmidDS
	if _, err := purego.Shmctl(id, unix.IPC_STAT, &ds); err != nil {
		t.Fatal(err)
	}
	s := segState{Size: ds.Segsz, Mode: ds.Mode, Nattch: ds.Nattch, CreatorIsW: int(ds.Cpid) == pid, MapShmid: -1}
	if pid == 0 {
		return s
	}
	maps, err := procmaps.ReadPID(pid)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range maps {
		if key, shmid, ok := m.SysV(); ok {
			s.MapPerms, s.MapLen, s.MapPath, s.MapShmid, s.MapKey = m.PermString(), m.Len(), m.Pathname, shmid, key
			s.MapShmid -= id // 0 when the inode column is the segment's id
		}
	}
	return s
}

// TestWriterSegment: while any writer holds the segment, IPC_STAT and its
// /proc/PID/maps look as they do for the C writer; after it is killed the
// segment persists with no attachments, as with C.
func TestWriterSegment(t *testing.T) {
	type phases struct{ Running, Killed segState }
	results := map[string]phases{}
	for _, w := range programs(t, "writer") {
		t.Run(w.Name, func(t *testing.T) {
			shmtest.Isolate(t)
			wp := startWriter(t, w, false)
			var p phases
			p.Running = observe(t, wp.Pid())
			// Killed, as the tests do instead of waiting out its 30-second
			// hold: Kill returns once it has been reaped.
			wp.Kill()
			p.Killed = observe(t, 0)
			p.Killed.CreatorIsW = p.Running.CreatorIsW
			results[w.Name] = p
		})
	}
	c, ok := results["C"]
	if !ok {
		return
	}
	if c.Running.MapPerms != "rw-s" || c.Running.MapPath != "/SYSV00001234 (deleted)" || c.Running.MapLen != uint64(os.Getpagesize()) ||
		c.Running.Size != 1024 || c.Running.Mode != 0o600 || c.Running.Nattch != 1 || c.Killed.Nattch != 0 {
		t.Errorf("the C writer's segment is not the article's: %+v", c)
	}
	for name, p := range results {
		if d := cmp.Diff(c, p); d != "" {
			t.Errorf("%s writer differs from the C writer (-C +%s):\n%s", name, name, d)
		}
	}
}

// TestReadOnlyAttachMaps: a read-only attach by either implementation shows
// as r--s in /proc/self/maps, at the segment's shmid.
func TestReadOnlyAttachMaps(t *testing.T) {
	for _, sys := range impls.All() {
		t.Run(sys.Name, func(t *testing.T) {
			shmtest.Isolate(t)
			id, err := sys.Shmget(shmKey, 1024, unix.IPC_CREAT|0o600)
			if err != nil {
				t.Fatal(err)
			}
			b, err := sys.Shmat(id, unix.SHM_RDONLY)
			if err != nil {
				t.Fatal(err)
			}
			defer sys.Shmdt(b)
			maps, err := procmaps.ReadPID(os.Getpid())
			if err != nil {
				t.Fatal(err)
			}
			var found []string
			for _, m := range maps {
				if key, shmid, ok := m.SysV(); ok && key == shmKey && shmid == id {
					found = append(found, m.PermString())
				}
			}
			if d := cmp.Diff([]string{"r--s"}, found); d != "" {
				t.Errorf("mappings of segment %d (-want +got):\n%s", id, d)
			}
		})
	}
}
