package shmmap_test

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shmmap/shmmap/impls"
	"github.com/shmmap/shmmap/internal/testutil"
	"github.com/shmmap/shmmap/sysapi"
	"golang.org/x/sys/unix"
)

// peer drives testdata/peer.c: one command line in, one answer line out,
// so every step is ordered by the answer (see the comment in peer.c).
type peer struct {
	in  io.WriteCloser
	out *bufio.Reader
}

func startPeer(t *testing.T) *peer {
	t.Helper()
	cmd := exec.Command(filepath.Join(bin, "peer"))
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		in.Close() // EOF ends it; Kill covers a wedged peer
		cmd.Process.Kill()
		cmd.Wait()
	})
	return &peer{in: in, out: bufio.NewReader(out)}
}

// do sends one command and returns the answer, failing on "err".
func (p *peer) do(t *testing.T, format string, args ...any) string {
	t.Helper()
	cmd := fmt.Sprintf(format, args...)
	if _, err := fmt.Fprintln(p.in, cmd); err != nil {
		t.Fatalf("peer %q: %v", cmd, err)
	}
	line, err := p.out.ReadString('\n')
	if err != nil {
		t.Fatalf("peer %q: %v", cmd, err)
	}
	line = strings.TrimSuffix(line, "\n")
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
			testutil.EnterIPCNamespace(t)
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
