package main

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shmmap/shmmap"
	"github.com/shmmap/shmmap/impls"
)

// posixRow is one object of posix ls --json.
type posixRow struct {
	Name  string `json:"name"`
	Path  string `json:"path"`
	Kind  string `json:"kind"`
	Size  int64  `json:"size"`
	Mode  string `json:"mode"`
	Owner string `json:"owner"`
	Group string `json:"group"`
	UID   int    `json:"uid"`
	GID   int    `json:"gid"`
	Mtime string `json:"mtime"`
}

// TestPosix: an object made with shm_open (ShmOpen) and a glibc-style named
// semaphore file appear in posix ls with their name, kind, size, mode and
// owner, as os.Stat sees them; posix rm removes the object (shm_unlink),
// and fails, naming it, when it is already gone. Over each implementation.
func TestPosix(t *testing.T) {
	for _, impl := range impls.All() {
		t.Run(impl.Name, func(t *testing.T) {
			name := uniqueShmName("posix")
			f, err := shmmap.ShmOpen(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o640)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { shmmap.ShmUnlink(name) })
			defer f.Close()
			if err := f.Truncate(1234); err != nil {
				t.Fatal(err)
			}
			sem := "sem." + uniqueShmName("sem")
			if err := os.WriteFile("/dev/shm/"+sem, make([]byte, 32), 0o600); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Remove("/dev/shm/" + sem) })
			st, err := os.Stat("/dev/shm/" + name)
			if err != nil {
				t.Fatal(err)
			}
			semSt, err := os.Stat("/dev/shm/" + sem)
			if err != nil {
				t.Fatal(err)
			}

			var rows []posixRow
			if err := json.Unmarshal([]byte(mustShmmap(t, "-impl", impl.Name, "posix", "ls", "--json")), &rows); err != nil {
				t.Fatal(err)
			}
			got := map[string]posixRow{}
			mtimes := map[string]time.Time{"/" + name: st.ModTime(), "/" + sem: semSt.ModTime()}
			for _, r := range rows {
				if want, ok := mtimes[r.Name]; ok {
					if mt, err := time.Parse(time.RFC3339, r.Mtime); err != nil || !mt.Equal(want.Truncate(time.Second)) {
						t.Errorf("%s: mtime %q, want %v", r.Name, r.Mtime, want)
					}
					r.Mtime = ""
					got[r.Name] = r
				}
			}
			want := map[string]posixRow{
				"/" + name: {Name: "/" + name, Path: "/dev/shm/" + name, Kind: "shm", Size: 1234, Mode: "0640", Owner: "root", Group: "root"},
				"/" + sem:  {Name: "/" + sem, Path: "/dev/shm/" + sem, Kind: "sem", Size: 32, Mode: "0600", Owner: "root", Group: "root"},
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("posix ls --json (-want +got):\n%s", d)
			}
			table := parseTable(t, mustShmmap(t, "posix", "ls"))
			found := false
			for _, r := range table {
				if r["NAME"] == "/"+name {
					found = r["KIND"] == "shm" && r["SIZE"] == "1234" && r["MODE"] == "0640" && r["OWNER"] == "root"
				}
			}
			if !found {
				t.Errorf("posix ls does not show /%s as a 1234-byte 0640 shm owned by root: %v", name, table)
			}

			if res := runShmmap(t, runOpts{}, "-impl", impl.Name, "posix", "rm", "/"+name); res.Status != 0 || res.Stdout != "" || res.Stderr != "" {
				t.Errorf("posix rm /%s: %+v", name, res)
			}
			if _, err := os.Stat("/dev/shm/" + name); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("after posix rm, /dev/shm/%s: %v", name, err)
			}
			res := runShmmap(t, runOpts{}, "posix", "rm", name, "-impl", impl.Name)
			if want := "shmmap: posix rm " + name + ": no such object\n"; res.Status != 1 || res.Stdout != "" || res.Stderr != want {
				t.Errorf("posix rm of a missing object: %+v; want status 1 and %q", res, want)
			}
			if _, err := os.Stat("/dev/shm/" + sem); err != nil {
				t.Errorf("posix rm removed another object: %v", err)
			}
		})
	}
}
