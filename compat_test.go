package shmmap_test

// The cross-process matrix: the article's C programs (built here from
// c-reference/ with `go env CC`) and their Go ports over both
// implementations run against each other on the same key and the same file.
// Every expected value comes from running the C reference in the same test.
// Each scenario runs in a fresh IPC namespace (testutil.EnterIPCNamespace),
// so key 0x1234 is private to it and everything it made disappears with it.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shmmap/shmmap/impls"
	"github.com/shmmap/shmmap/internal/testutil"
	"github.com/shmmap/shmmap/procmaps"
	"github.com/shmmap/shmmap/purego"
	"github.com/shmmap/shmmap/sysapi"
	"golang.org/x/sys/unix"
)

const shmKey = 0x1234 // the article's key

// bin holds the programs TestMain built, in a directory the unprivileged
// user can enter.
var bin string

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := testutil.MkdirShared("shmmap-compat-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin = dir
	ref := filepath.Join(testutil.ModuleRoot(), "c-reference")
	builds := []func() error{
		func() error { return testutil.BuildC(filepath.Join(dir, "c-writer"), filepath.Join(ref, "writer.c")) },
		func() error { return testutil.BuildC(filepath.Join(dir, "c-reader"), filepath.Join(ref, "reader.c")) },
		func() error { return testutil.BuildC(filepath.Join(dir, "c-mmap"), filepath.Join(ref, "mmap.c")) },
		func() error { return testutil.BuildC(filepath.Join(dir, "peer"), filepath.Join("testdata", "peer.c")) },
		func() error {
			return testutil.BuildC(filepath.Join(dir, "fixture"), filepath.Join("testdata", "fixture.c"))
		},
		func() error { return testutil.BuildGo(filepath.Join(dir, "writer"), "./cmd/writer") },
		func() error { return testutil.BuildGo(filepath.Join(dir, "reader"), "./cmd/reader") },
		func() error { return testutil.BuildGo(filepath.Join(dir, "mmap"), "./cmd/mmap") },
		func() error {
			return testutil.BuildGo(filepath.Join(dir, "writer-nocgo"), "./cmd/writer", "CGO_ENABLED=0")
		},
	}
	// The same C programs as 32-bit binaries, where the machine builds and
	// runs them: every test that runs the C originals runs these too.
	if testutil.C32() == nil {
		for _, prog := range []string{"writer", "reader", "mmap"} {
			builds = append(builds, func() error {
				return testutil.BuildCFlags(filepath.Join(dir, "c32-"+prog), []string{"-m32"}, filepath.Join(ref, prog+".c"))
			})
		}
	} else {
		fmt.Fprintln(os.Stderr, "no 32-bit C programs in the matrix:", testutil.C32())
	}
	for _, build := range builds {
		if err := build(); err != nil {
			fmt.Fprintln(os.Stderr, "building the programs under test:", err)
			return 1
		}
	}
	return m.Run()
}

// program is one way to run one of the article's programs.
type program struct {
	Name string // "C", "Go/cshim", "Go/purego"
	Path string
	Args []string
}

// command returns the command that runs p in dir, as the unprivileged user
// if nobody is set; it is killed if ctx ends first.
func (p program) command(ctx context.Context, dir string, nobody bool) *exec.Cmd {
	cmd := exec.CommandContext(ctx, p.Path, p.Args...)
	cmd.Dir = dir
	if nobody {
		cmd.SysProcAttr = testutil.NobodyCred()
	}
	return cmd
}

// programs returns the C original of name, the same built as a 32-bit
// program (C-m32, where the machine runs them), and its Go port over each
// implementation built into this test binary (purego, and cshim with cgo);
// the C original, as the C compiler builds it by default, is always first.
func programs(name string) []program {
	progs := []program{{"C", filepath.Join(bin, "c-"+name), nil}}
	if testutil.C32() == nil {
		progs = append(progs, program{"C-m32", filepath.Join(bin, "c32-"+name), nil})
	}
	for _, sys := range impls.All() {
		progs = append(progs, program{"Go/" + sys.Name, filepath.Join(bin, name), []string{"-impl", sys.Name}})
	}
	return progs
}

// run runs p to completion.
func run(t *testing.T, p program, dir string, nobody bool) testutil.Result {
	t.Helper()
	// A run that hangs (a writer that wrongly succeeds holds for 30 s) is
	// killed and shows as a different status.
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	res, err := testutil.Run(p.command(ctx, dir, nobody))
	if err != nil {
		t.Fatalf("%s: %v", p.Name, err)
	}
	return res
}

// writerProc is a running writer.
type writerProc struct {
	cmd    *exec.Cmd
	exited chan struct{} // closed once the process has been reaped
}

// startWriter starts a writer and waits until it has attached the segment
// (nattch 1) and copied its message in (the first 20 bytes hold no NUL):
// the handshakes the C program allows, since it prints nothing. nattch alone
// is not enough: shmat returns before strncpy runs. The writer is killed
// when the test ends, whatever happens.
func startWriter(t *testing.T, p program, nobody bool) *writerProc {
	t.Helper()
	w := &writerProc{cmd: p.command(context.Background(), "/", nobody), exited: make(chan struct{})}
	if err := w.cmd.Start(); err != nil {
		t.Fatalf("start %s writer: %v", p.Name, err)
	}
	go func() { w.cmd.Wait(); close(w.exited) }()
	t.Cleanup(w.stop)
	waitNattch(t, shmKey, 1, w.exited)
	waitMessage(t, w.exited)
	return w
}

// stop kills the writer, as the tests do instead of waiting out its
// 30-second hold, and returns once it has been reaped.
func (w *writerProc) stop() {
	w.cmd.Process.Kill()
	<-w.exited
}

// waitMessage polls the segment at shmKey until its first 20 bytes (the
// length of the article's message) are all written, that is none is NUL.
func waitMessage(t *testing.T, exited <-chan struct{}) {
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
	poll(t, exited, "the writer's message in the segment", func() bool {
		return len(mem) >= 20 && !bytes.Contains(mem[:20], []byte{0})
	})
}

// poll checks cond every millisecond until it holds; it fails at once if
// exited is closed first, and after 20 seconds.
func poll(t *testing.T, exited <-chan struct{}, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-exited:
			t.Fatalf("the process exited before %s", what)
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		case <-tick.C:
		}
	}
}

// waitNattch polls IPC_STAT until the segment at key has want attachments.
// It fails at once if the process behind exited ends first.
func waitNattch(t *testing.T, key int, want uint64, exited <-chan struct{}) {
	t.Helper()
	poll(t, exited, fmt.Sprintf("segment %#x to have %d attachments", key, want), func() bool {
		id, err := purego.Shmget(key, 0, 0)
		if err != nil {
			return false
		}
		var ds sysapi.ShmidDS
		_, err = purego.Shmctl(id, unix.IPC_STAT, &ds)
		return err == nil && ds.Nattch == want
	})
}

// TestWriterReaderMatrix runs every writer with every reader: each run must
// print what the C reader prints after the C writer.
func TestWriterReaderMatrix(t *testing.T) {
	var want testutil.Result
	t.Run("C-C reference", func(t *testing.T) {
		testutil.EnterIPCNamespace(t)
		startWriter(t, programs("writer")[0], false)
		want = run(t, programs("reader")[0], "/", false)
	})
	if t.Failed() || t.Skipped() {
		return
	}
	if want.Status != 0 || want.Stdout == "" {
		t.Fatalf("the C reference itself failed: %+v", want)
	}
	for _, w := range programs("writer") {
		for _, r := range programs("reader") {
			t.Run(w.Name+" writer, "+r.Name+" reader", func(t *testing.T) {
				testutil.EnterIPCNamespace(t)
				startWriter(t, w, false)
				got := run(t, r, "/", false)
				if d := cmp.Diff(want, got); d != "" {
					t.Errorf("differs from the C writer -> C reader run (-C +%s/%s):\n%s", w.Name, r.Name, d)
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
	for _, w := range programs("writer") {
		t.Run(w.Name, func(t *testing.T) {
			testutil.EnterIPCNamespace(t)
			wp := startWriter(t, w, false)
			var p phases
			p.Running = observe(t, wp.cmd.Process.Pid)
			wp.stop()
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
			testutil.EnterIPCNamespace(t)
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
