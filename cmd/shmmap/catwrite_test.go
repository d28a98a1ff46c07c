package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/shmmap/shmmap"
	"github.com/shmmap/shmmap/impls"
	"github.com/shmmap/shmmap/shmtest"
)

// cReader runs the C reference reader, which prints the segment's first 20
// bytes up to a NUL, and a newline.
func cReader(t *testing.T) string {
	t.Helper()
	res := runProg(t, runOpts{}, cReaderProg(t))
	if res.Status != 0 || res.Stderr != "" {
		t.Fatalf("the C reader: %+v", res)
	}
	return res.Stdout
}

// TestCatWriteRoundTrip: what the C writer put in the segment comes out of
// shmmap cat as the C reader prints it; what shmmap write puts in (at the
// start, at an offset, with a NUL, up to the last byte) is what the C reader
// then prints and what cat gives back; cat --hex is hexdump -C of the same
// bytes. Run over each implementation.
func TestCatWriteRoundTrip(t *testing.T) {
	for _, impl := range impls.All() {
		t.Run(impl.Name, func(t *testing.T) {
			shmtest.Isolate(t)
			startWriter(t, cWriter(t))
			sh := func(stdin []byte, args ...string) string {
				t.Helper()
				res := runShmmap(t, runOpts{stdin: stdin}, append([]string{"-impl", impl.Name}, args...)...)
				if res.Status != 0 || res.Stderr != "" {
					t.Fatalf("shmmap %v: %+v", args, res)
				}
				return res.Stdout
			}

			// The C writer's message, as the C reader prints it.
			printed := cReader(t)
			if got := sh(nil, "cat", "--length", "20", "0x1234") + "\n"; got != printed {
				t.Errorf("cat --length 20 + newline = %q; the C reader printed %q", got, printed)
			}
			all := sh(nil, "cat", "0x1234")
			if want := string(contents(t, shmKey)); all != want || len(all) != 1024 {
				t.Errorf("cat of the whole segment: %d bytes %q..., want the segment's 1024 bytes %q...", len(all), all[:min(len(all), 30)], want[:30])
			}

			// write, then the C reader.
			msg := []byte("written by shmmap!!\n")
			sh(msg, "write", "0x1234")
			if got := cReader(t); got != string(msg)+"\n" {
				t.Errorf("after write %q the C reader printed %q", msg, got)
			}
			seg, err := shmmap.OpenSegment(shmKey)
			if err != nil {
				t.Fatal(err)
			}
			sh([]byte("XY"), "write", "--offset", "3", "id:"+strconv.Itoa(seg.ID()))
			want := bytes.Clone(msg)
			copy(want[3:], "XY")
			if got := cReader(t); got != string(want)+"\n" {
				t.Errorf("after writing XY at offset 3 the C reader printed %q, want %q", got, string(want)+"\n")
			}
			if got := sh(nil, "cat", "0x1234", "--length", "20"); got != string(want) {
				t.Errorf("cat gives %q back, want %q", got, want)
			}
			sh([]byte("ab\x00cd"), "write", "4660")
			if got := cReader(t); got != "ab\n" {
				t.Errorf("after writing ab NUL cd the C reader printed %q, want %q", got, "ab\n")
			}
			if got := sh(nil, "cat", "--offset", "0", "--length", "6", "0x1234"); got != "ab\x00cde" {
				t.Errorf("cat gives %q back, want %q", got, "ab\x00cde")
			}
			sh([]byte("TAIL"), "write", "--offset=1020", "0x1234")
			if got := sh(nil, "cat", "-offset", "0x3fc", "0x1234"); got != "TAIL" {
				t.Errorf("cat of the last 4 bytes: %q, want TAIL", got)
			}
			if got := contents(t, shmKey); !bytes.Equal(got[:6], []byte("ab\x00cde")) || string(got[1020:]) != "TAIL" {
				t.Errorf("the segment holds %q...%q", got[:20], got[1020:])
			}

			// --hex is hexdump -C, addresses from the segment's start.
			hexdump, err := exec.LookPath("hexdump")
			if err != nil {
				t.Log("hexdump is not installed: cat --hex not compared")
				return
			}
			raw := filepath.Join(t.TempDir(), "raw")
			if err := os.WriteFile(raw, []byte(sh(nil, "cat", "0x1234")), 0o600); err != nil {
				t.Fatal(err)
			}
			for _, r := range [][2]int{{0, 1024}, {5, 100}, {1000, 24}, {3, 1}} {
				off, n := strconv.Itoa(r[0]), strconv.Itoa(r[1])
				want := runProg(t, runOpts{}, hexdump, "-C", "-s", off, "-n", n, raw)
				if got := sh(nil, "cat", "--hex", "--offset", off, "--length", n, "0x1234"); got != want.Stdout {
					t.Errorf("cat --hex --offset %s --length %s:\n%s\nhexdump -C -s %s -n %s:\n%s", off, n, got, off, n, want.Stdout)
				}
			}
		})
	}
}
