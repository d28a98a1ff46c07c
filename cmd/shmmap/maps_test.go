package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shmmap/shmmap"
	"github.com/shmmap/shmmap/shmtest"
)

// mapsJSONOut is maps --json decoded with the documented names.
type mapsJSONOut struct {
	PID      int    `json:"pid"`
	Command  string `json:"command"`
	Mappings []struct {
		Start   string `json:"start"`
		End     string `json:"end"`
		Size    uint64 `json:"size"`
		Perms   string `json:"perms"`
		Offset  uint64 `json:"offset"`
		Dev     string `json:"dev"`
		Inode   uint64 `json:"inode"`
		Kind    string `json:"kind"`
		Path    string `json:"path"`
		Deleted bool   `json:"deleted"`
		Key     string `json:"key"`
		Shmid   *int   `json:"shmid"`
	} `json:"mappings"`
}

// mapsRow is the part of a shared mapping these tests check.
type mapsRow struct {
	Perms, Kind, Key, Shmid, Path string
	Size                          uint64
}

// TestMapsWriter: shmmap maps on a running writer (C, and Go over each
// implementation) shows its /SYSV00001234 mapping, rw-s, one page, with the
// segment's shmid, in the table and in the JSON.
func TestMapsWriter(t *testing.T) {
	for _, w := range writers(t) {
		t.Run(w.name, func(t *testing.T) {
			shmtest.Isolate(t)
			writer := startWriter(t, w)
			seg, err := shmmap.OpenSegment(shmKey)
			if err != nil {
				t.Fatal(err)
			}
			pid := strconv.Itoa(writer.pid)
			want := []mapsRow{{Perms: "rw-s", Kind: "sysv", Key: "0x00001234", Shmid: strconv.Itoa(seg.ID()),
				Path: "/SYSV00001234 (deleted)", Size: uint64(os.Getpagesize())}}

			out := mustShmmap(t, "maps", pid)
			first, rest, _ := strings.Cut(out, "\n")
			if wantFirst := "pid " + pid + " (" + w.comm + "): 1 shared mapping"; first != wantFirst {
				t.Errorf("first line %q, want %q", first, wantFirst)
			}
			var got []mapsRow
			for _, r := range parseTable(t, rest) {
				size, _ := strconv.ParseUint(r["SIZE"], 10, 64)
				got = append(got, mapsRow{Perms: r["PERMS"], Kind: r["KIND"], Key: r["KEY"], Shmid: r["SHMID"], Path: r["PATH"], Size: size})
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("shmmap maps %s (-want +got):\n%s", pid, d)
			}

			var j mapsJSONOut
			if err := json.Unmarshal([]byte(mustShmmap(t, "maps", "--json", pid)), &j); err != nil {
				t.Fatal(err)
			}
			got = nil
			for _, m := range j.Mappings {
				shmid := "-"
				if m.Shmid != nil {
					shmid = strconv.Itoa(*m.Shmid)
				}
				got = append(got, mapsRow{Perms: m.Perms, Kind: m.Kind, Key: m.Key, Shmid: shmid, Path: m.Path, Size: m.Size})
				if !m.Deleted || m.Inode != uint64(seg.ID()) || m.Offset != 0 {
					t.Errorf("JSON mapping %+v: want deleted, inode %d, offset 0", m, seg.ID())
				}
			}
			if j.PID != writer.pid || j.Command != w.comm {
				t.Errorf("JSON pid %d command %q, want %d %q", j.PID, j.Command, writer.pid, w.comm)
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("shmmap maps --json %s (-want +got):\n%s", pid, d)
			}
		})
	}
}

// TestMapsKinds: the shared mappings of this test process — a file whose
// name has spaces (leading, doubled and trailing), a POSIX shared memory
// object, a memfd, a segment attached read-only — appear with their kinds
// and their pathnames intact; private mappings (the test binary, libc) do
// not.
func TestMapsKinds(t *testing.T) {
	shmtest.Isolate(t)
	dir := t.TempDir()
	spaced := filepath.Join(dir, " a  file with spaces ")
	if err := os.WriteFile(spaced, make([]byte, 100), 0o600); err != nil {
		t.Fatal(err)
	}
	fileMap, err := shmmap.MapFile(spaced, shmmap.MapShared)
	if err != nil {
		t.Fatal(err)
	}
	defer fileMap.Close()

	name := uniqueShmName("maps")
	obj, err := shmmap.ShmOpen(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer shmmap.ShmUnlink(name)
	defer obj.Close()
	if err := obj.Truncate(8192); err != nil {
		t.Fatal(err)
	}
	objMap, err := shmmap.Map(obj, 0, 0, shmmap.MapReadOnly)
	if err != nil {
		t.Fatal(err)
	}
	defer objMap.Close()

	mfd, err := shmmap.Memfd("shmmap test memfd", 4096)
	if err != nil {
		t.Fatal(err)
	}
	defer mfd.Close()
	mfdMap, err := shmmap.Map(mfd, 0, 0, shmmap.MapShared)
	if err != nil {
		t.Fatal(err)
	}
	defer mfdMap.Close()

	seg, err := shmmap.CreateSegment(0xabc, 5000, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	att, err := seg.Attach(shmmap.AttachReadOnly)
	if err != nil {
		t.Fatal(err)
	}
	defer att.Detach()

	page := uint64(os.Getpagesize())
	want := map[string]mapsRow{
		spaced:                               {Perms: "rw-s", Kind: "file", Key: "-", Shmid: "-", Path: spaced, Size: page},
		"/dev/shm/" + name:                   {Perms: "r--s", Kind: "posix", Key: "-", Shmid: "-", Path: "/dev/shm/" + name, Size: 2 * page},
		"/memfd:shmmap test memfd (deleted)": {Perms: "rw-s", Kind: "memfd", Key: "-", Shmid: "-", Path: "/memfd:shmmap test memfd (deleted)", Size: page},
		"/SYSV00000abc (deleted)":            {Perms: "r--s", Kind: "sysv", Key: "0x00000abc", Shmid: strconv.Itoa(seg.ID()), Path: "/SYSV00000abc (deleted)", Size: 2 * page},
	}
	var j mapsJSONOut
	if err := json.Unmarshal([]byte(mustShmmap(t, "maps", "--json", strconv.Itoa(os.Getpid()))), &j); err != nil {
		t.Fatal(err)
	}
	got := map[string]mapsRow{}
	for _, m := range j.Mappings {
		if !strings.HasSuffix(m.Perms, "s") {
			t.Errorf("a private mapping is listed: %+v", m)
		}
		if _, ok := want[m.Path]; !ok {
			continue // other shared mappings of the test process
		}
		shmid := "-"
		if m.Shmid != nil {
			shmid = strconv.Itoa(*m.Shmid)
		}
		key := m.Key
		if key == "" {
			key = "-"
		}
		got[m.Path] = mapsRow{Perms: m.Perms, Kind: m.Kind, Key: key, Shmid: shmid, Path: m.Path, Size: m.Size}
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("shmmap maps --json of this process (-want +got):\n%s", d)
	}
	// The table keeps the spaces of the path too.
	_, rest, _ := strings.Cut(mustShmmap(t, "maps", strconv.Itoa(os.Getpid())), "\n")
	found := false
	for _, r := range parseTable(t, rest) {
		if r["PATH"] == strings.TrimSpace(spaced) && r["KIND"] == "file" {
			found = true // parseTable trims the cell; the raw line is checked below
		}
	}
	if !found || !strings.Contains(rest, "  "+spaced+"\n") {
		t.Errorf("the table does not show %q intact:\n%s", spaced, rest)
	}
}
