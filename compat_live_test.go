package shmmap_test

import (
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shmmap/shmmap/impls"
	"github.com/shmmap/shmmap/shmtest"
	"github.com/shmmap/shmmap/sysapi"
	"golang.org/x/sys/unix"
)

// peer drives testdata/peer.c: one command line in, one answer line out,
// so every step is ordered by the answer (see the comment in peer.c).
type peer struct {
	proc *shmtest.Process
	last string // the last command sent, for failure messages
}

// peerTimeout bounds the wait for one answer, so a wedged peer fails the
// test instead of hanging it.
const peerTimeout = 20 * time.Second

// startPeer starts the C peer from the calling goroutine's thread (so in its
// IPC namespace); it is killed and reaped when the test ends, whatever
// happens.
func startPeer(t *testing.T) *peer {
	t.Helper()
	p := &peer{proc: shmtest.Start(t, exec.Command(shmtest.BuildC(t, "testdata/peer.c")))}
	t.Cleanup(func() {
		if t.Failed() && p.last != "" {
			t.Logf("the last command sent to the C peer: %q", p.last)
		}
	})
	return p
}

// do sends one command and returns the answer, failing on "err".
func (p *peer) do(t *testing.T, format string, args ...any) string {
	t.Helper()
	cmd := fmt.Sprintf(format, args...)
	p.last = cmd
	p.proc.Send(t, cmd)
	line := p.proc.WaitLine(t, "", peerTimeout)
	if strings.HasPrefix(line, "err") {
		t.Fatalf("peer %q: %s", cmd, line)
	}
	return line
}

// exchange writes through mem and has the C peer read it, then has the peer
// write and reads it through mem; neither side calls msync.
func exchange(t *testing.T, p *peer, mem []byte) {
	t.Helper()
	fromGo := []byte("written by Go \x00\xff")
	copy(mem[8:], fromGo)
	if got := p.do(t, "read 8 %d", len(fromGo)); got != hex.EncodeToString(fromGo) {
		t.Errorf("C sees %s, Go wrote %x", got, fromGo)
	}
	fromC := []byte("written by C \x01\xfe")
	p.do(t, "write 200 %x", fromC)
	if got := mem[200 : 200+len(fromC)]; string(got) != string(fromC) {
		t.Errorf("Go sees %q, C wrote %q", got, fromC)
	}
}

// TestLiveSharedFile: a Go process and a C process map the same file
// MAP_SHARED at once and each sees the other's write.
func TestLiveSharedFile(t *testing.T) {
	for _, sys := range impls.All() {
		t.Run(sys.Name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "shared.bin")
			if err := os.WriteFile(path, make([]byte, 4096), 0o600); err != nil {
				t.Fatal(err)
			}
			mem := mapFile(t, sys, path, 4096)
			p := startPeer(t)
			p.do(t, "mapfile %s 4096", path)
			exchange(t, p, mem)
		})
	}
}

// TestLiveSharedSegment: the same with a System V segment that Go creates
// and C attaches by key.
func TestLiveSharedSegment(t *testing.T) {
	for _, sys := range impls.All() {
		t.Run(sys.Name, func(t *testing.T) {
			shmtest.Isolate(t)
			id, err := sys.Shmget(shmKey, 4096, unix.IPC_CREAT|unix.IPC_EXCL|0o600)
			if err != nil {
				t.Fatal(err)
			}
			mem, err := sys.Shmat(id, 0)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { sys.Shmdt(mem) })
			p := startPeer(t)
			if got := p.do(t, "shmat %x", shmKey); got != "ok 4096" {
				t.Fatalf("peer attach: %s", got)
			}
			exchange(t, p, mem)
		})
	}
}

func mapFile(t *testing.T, sys sysapi.Impl, path string, size int) []byte {
	t.Helper()
	fd, err := sys.Open(path, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer sys.Close(fd)
	mem, err := sys.Mmap(fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sys.Munmap(mem) })
	return mem
}
