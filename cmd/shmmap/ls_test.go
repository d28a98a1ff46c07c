package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"os/user"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shmmap/shmmap"
	"github.com/shmmap/shmmap/shmtest"
	"golang.org/x/sys/unix"
)

// shmLockCmd is SHM_LOCK from <linux/shm.h>, which x/sys does not export.
const shmLockCmd = 11

// ipcsRow is what ipcs -m prints of a segment, and what shmmap ls must
// agree with.
type ipcsRow struct {
	Key    string
	Shmid  int
	Owner  string
	Perms  uint32
	Bytes  int64
	Nattch int
	Status string // "", "dest", "locked" or "dest,locked"
}

// variety is the set of segments makeVariety made, next to the writer's.
type variety struct {
	readOnly *shmmap.Segment // 0x5678, attached read-only by this process
	removed  *shmmap.Segment // removed while attached read-write by this process
	all      []*shmmap.Segment
}

// makeVariety creates segments in the states ipcs tells apart: owned by
// root, by the unprivileged user and by a uid with no name; private;
// with a negative key; removed while attached (dest); locked; attached
// read-only and read-write by this process.
func makeVariety(t *testing.T) variety {
	t.Helper()
	var v variety
	create := func(key shmmap.Key, size int64, perm os.FileMode) *shmmap.Segment {
		t.Helper()
		seg, err := shmmap.CreateSegment(key, size, perm)
		if err != nil {
			t.Fatal(err)
		}
		v.all = append(v.all, seg)
		return seg
	}
	attach := func(seg *shmmap.Segment, mode shmmap.AttachMode) {
		t.Helper()
		a, err := seg.Attach(mode)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.Detach() })
	}
	v.readOnly = create(0x5678, 4096, 0o640)
	attach(v.readOnly, shmmap.AttachReadOnly)
	create(shmmap.IPCPrivate, 100, 0o666)
	create(-5, 1, 0o644)
	v.removed = create(0x3333, 2048, 0o660)
	attach(v.removed, shmmap.AttachReadWrite)
	if err := v.removed.Remove(); err != nil {
		t.Fatal(err)
	}
	locked := create(0x4444, 512, 0o600)
	if _, err := unix.SysvShmCtl(locked.ID(), shmLockCmd, nil); err != nil {
		t.Fatalf("SHM_LOCK: %v", err)
	}
	// A segment whose owner has no user name: ipcs prints the uid.
	unnamed := create(0x6666, 64, 0o600)
	uid := 12345
	for ; ; uid++ {
		if _, err := user.LookupId(strconv.Itoa(uid)); err != nil {
			break
		}
	}
	var ds unix.SysvShmDesc
	if _, err := unix.SysvShmCtl(unnamed.ID(), unix.IPC_STAT, &ds); err != nil {
		t.Fatal(err)
	}
	ds.Perm.Uid = uint32(uid)
	if _, err := unix.SysvShmCtl(unnamed.ID(), unix.IPC_SET, &ds); err != nil {
		t.Fatalf("IPC_SET: %v", err)
	}
	var nobodyErr error
	shmtest.DoUnprivileged(t, func() {
		var seg *shmmap.Segment
		if seg, nobodyErr = shmmap.CreateSegment(0x7777, 8192, 0o604); nobodyErr == nil {
			v.all = append(v.all, seg)
		}
	})
	if nobodyErr != nil {
		t.Fatalf("create a segment as uid %d: %v", shmtest.Nobody, nobodyErr)
	}
	return v
}

// runIpcs runs ipcs -m in the test's namespace and returns its rows,
// sorted by shmid.
func runIpcs(t *testing.T) []ipcsRow {
	t.Helper()
	path, err := exec.LookPath("ipcs")
	if err != nil {
		t.Skip("ipcs (util-linux) is not installed; the comparison needs it")
	}
	res := runProg(t, runOpts{}, path, "-m")
	if res.Status != 0 {
		t.Fatalf("ipcs -m: %+v", res)
	}
	var rows []ipcsRow
	for _, line := range strings.Split(res.Stdout, "\n") {
		f := strings.Fields(line)
		if len(f) < 6 || !strings.HasPrefix(f[0], "0x") {
			continue
		}
		perms, err := strconv.ParseUint(f[3], 8, 32)
		if err != nil {
			t.Fatalf("ipcs perms in %q: %v", line, err)
		}
		rows = append(rows, ipcsRow{
			Key: f[0], Shmid: atoi(t, f[1]), Owner: f[2], Perms: uint32(perms),
			Bytes: int64(atoi(t, f[4])), Nattch: atoi(t, f[5]), Status: strings.Join(f[6:], ","),
		})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Shmid < rows[j].Shmid })
	return rows
}

// lsTable is shmmap ls's table: the cells of each row by column name.
type lsTable []map[string]string

// parseTable parses a table printed with text/tabwriter: the columns start
// where the header's names do, and the last one runs to the end of the line
// (it may hold spaces).
func parseTable(t *testing.T, out string) lsTable {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	header := lines[0]
	var names []string
	var starts []int
	for i := 0; i < len(header); i++ {
		if header[i] != ' ' && (i == 0 || header[i-1] == ' ') {
			starts = append(starts, i)
			end := strings.IndexByte(header[i:], ' ')
			if end < 0 {
				end = len(header) - i
			}
			names = append(names, header[i:i+end])
		}
	}
	var table lsTable
	for _, line := range lines[1:] {
		row := map[string]string{}
		for c, start := range starts {
			end := len(line)
			if c+1 < len(starts) {
				end = min(starts[c+1], len(line))
			}
			if start > len(line) {
				t.Fatalf("row %q is shorter than the header %q", line, header)
			}
			row[names[c]] = strings.TrimSpace(line[start:end])
		}
		table = append(table, row)
	}
	return table
}

// lsJSONFields are the documented field names of a segment in ls --json
// and stat --json.
var lsJSONFields = []string{"key", "shmid", "owner", "group", "uid", "gid", "cuid", "cgid", "mode", "size", "nattch",
	"cpid", "lpid", "atime", "dtime", "ctime", "removed", "locked", "attached"}

// lsJSONSegment is a segment as ls --json prints it, decoded with the
// documented names.
type lsJSONSegment struct {
	Key      string  `json:"key"`
	Shmid    int     `json:"shmid"`
	Owner    string  `json:"owner"`
	Group    string  `json:"group"`
	UID      int     `json:"uid"`
	GID      int     `json:"gid"`
	CUID     int     `json:"cuid"`
	CGID     int     `json:"cgid"`
	Mode     string  `json:"mode"`
	Size     int64   `json:"size"`
	Nattch   int     `json:"nattch"`
	CPID     int     `json:"cpid"`
	LPID     int     `json:"lpid"`
	Atime    *string `json:"atime"`
	Dtime    *string `json:"dtime"`
	Ctime    *string `json:"ctime"`
	Removed  bool    `json:"removed"`
	Locked   bool    `json:"locked"`
	Attached []struct {
		PID     int    `json:"pid"`
		Command string `json:"command"`
		Access  string `json:"access"`
	} `json:"attached"`
}

// decodeSegmentJSON decodes one segment object, checking that it has
// exactly the documented fields.
func decodeSegmentJSON(t *testing.T, raw json.RawMessage) lsJSONSegment {
	t.Helper()
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		t.Fatalf("%v in %s", err, raw)
	}
	var names []string
	for n := range fields {
		names = append(names, n)
	}
	want := append([]string{}, lsJSONFields...)
	sort.Strings(names)
	sort.Strings(want)
	if d := cmp.Diff(want, names); d != "" {
		t.Errorf("JSON field names differ from the documented ones (-doc +got):\n%s", d)
	}
	var s lsJSONSegment
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatalf("%v in %s", err, raw)
	}
	return s
}

// statusOf is the ipcs status of the JSON flags.
func statusOf(removed, locked bool) string {
	var s []string
	if removed {
		s = append(s, "dest")
	}
	if locked {
		s = append(s, "locked")
	}
	return strings.Join(s, ",")
}

// TestLsMatchesIpcs: with a C or Go writer holding key 0x1234 and segments
// in every state ipcs tells apart, shmmap ls and ls --json show the rows
// ipcs -m shows (key, shmid, owner, perms, bytes, nattch, status), and name
// the processes attached: the writer read-write, this test process
// read-only and read-write.
func TestLsMatchesIpcs(t *testing.T) {
	selfComm, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range writers(t) {
		t.Run(w.name, func(t *testing.T) {
			shmtest.Isolate(t)
			writer := startWriter(t, w)
			v := makeVariety(t)
			want := runIpcs(t)
			if len(want) != len(v.all)+1 {
				t.Fatalf("ipcs -m lists %d segments, want the writer's and %d more: %+v", len(want), len(v.all), want)
			}

			// The table.
			table := parseTable(t, mustShmmap(t, "ls"))
			var got []ipcsRow
			procs := map[int]string{}
			for _, r := range table {
				perms, err := strconv.ParseUint(r["MODE"], 8, 32)
				if err != nil {
					t.Fatalf("MODE %q: %v", r["MODE"], err)
				}
				status := r["STATUS"]
				if status == "-" {
					status = ""
				}
				row := ipcsRow{Key: r["KEY"], Shmid: atoi(t, r["SHMID"]), Owner: r["OWNER"], Perms: uint32(perms),
					Bytes: int64(atoi(t, r["SIZE"])), Nattch: atoi(t, r["NATTCH"]), Status: status}
				got = append(got, row)
				procs[row.Shmid] = r["PROCESSES"]
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("shmmap ls differs from ipcs -m (-ipcs +shmmap):\n%s", d)
			}
			self := strings.TrimSpace(string(selfComm))
			wantProcs := map[int]string{}
			for _, r := range want {
				wantProcs[r.Shmid] = "-"
			}
			writerSeg, err := shmmap.OpenSegment(shmKey)
			if err != nil {
				t.Fatal(err)
			}
			wantProcs[writerSeg.ID()] = strconv.Itoa(writer.pid) + " " + w.comm + " rw"
			wantProcs[v.readOnly.ID()] = strconv.Itoa(os.Getpid()) + " " + self + " r"
			wantProcs[v.removed.ID()] = strconv.Itoa(os.Getpid()) + " " + self + " rw"
			if d := cmp.Diff(wantProcs, procs); d != "" {
				t.Errorf("shmmap ls PROCESSES by shmid (-want +got):\n%s", d)
			}

			// The JSON.
			var raws []json.RawMessage
			out := mustShmmap(t, "ls", "--json")
			if err := json.Unmarshal([]byte(out), &raws); err != nil {
				t.Fatalf("shmmap ls --json: %v\n%s", err, out)
			}
			got = nil
			for _, raw := range raws {
				s := decodeSegmentJSON(t, raw)
				perms, err := strconv.ParseUint(s.Mode, 8, 32)
				if err != nil || len(s.Mode) != 4 {
					t.Errorf("mode %q is not four octal digits", s.Mode)
				}
				got = append(got, ipcsRow{Key: s.Key, Shmid: s.Shmid, Owner: s.Owner, Perms: uint32(perms),
					Bytes: s.Size, Nattch: s.Nattch, Status: statusOf(s.Removed, s.Locked)})
				for _, h := range s.Attached {
					if h.PID == writer.pid && (h.Command != w.comm || h.Access != "rw" || s.Shmid != writerSeg.ID()) {
						t.Errorf("the writer is listed as %+v on segment %d", h, s.Shmid)
					}
				}
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("shmmap ls --json differs from ipcs -m (-ipcs +shmmap):\n%s", d)
			}
		})
	}
}

// TestStatMatchesIPCStat: shmmap stat --json, with the segment named by
// key, by id and by ftok, shows what IPC_STAT (Segment.Stat) shows, for the
// writer's segment and every other kind; the table agrees.
func TestStatMatchesIPCStat(t *testing.T) {
	shmtest.Isolate(t)
	w := cWriter(t)
	startWriter(t, w)
	v := makeVariety(t)
	file := t.TempDir() + "/ftok file"
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	ftokKey, err := shmmap.Ftok(file, 'Z')
	if err != nil {
		t.Fatal(err)
	}
	ftokSeg, err := shmmap.CreateSegment(ftokKey, 300, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	writerSeg, err := shmmap.OpenSegment(shmKey)
	if err != nil {
		t.Fatal(err)
	}
	type named struct {
		seg *shmmap.Segment
		ref string
	}
	cases := []named{{writerSeg, "0x1234"}, {writerSeg, "4660"}, {ftokSeg, "ftok:" + file + ":Z"}, {ftokSeg, "ftok:" + file + ":90"}}
	for _, seg := range append(v.all, writerSeg, ftokSeg) {
		cases = append(cases, named{seg, "id:" + strconv.Itoa(seg.ID())})
	}
	for _, c := range cases {
		out := mustShmmap(t, "stat", c.ref, "--json")
		got := decodeSegmentJSON(t, json.RawMessage(out))
		info, err := c.seg.Stat()
		if err != nil {
			t.Fatal(err)
		}
		rfc := func(tm time.Time) *string {
			if tm.IsZero() {
				return nil
			}
			s := tm.Format(time.RFC3339)
			return &s
		}
		want := got // the names and attachments are checked by TestLsMatchesIpcs
		want.Key, want.Shmid, want.UID, want.GID, want.CUID, want.CGID = info.Key.String(), info.ID, info.UID, info.GID, info.CUID, info.CGID
		want.Mode, want.Size, want.Nattch, want.CPID, want.LPID = "0"+strconv.FormatUint(uint64(info.Mode), 8), info.Size, info.Nattch, info.CPID, info.LPID
		want.Atime, want.Dtime, want.Ctime = rfc(info.AttachTime), rfc(info.DetachTime), rfc(info.ChangeTime)
		want.Removed, want.Locked = info.Removed, info.Locked
		if len(want.Mode) < 4 {
			want.Mode = strings.Repeat("0", 4-len(want.Mode)) + want.Mode
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("shmmap stat --json %s differs from IPC_STAT (-IPC_STAT +shmmap):\n%s", c.ref, d)
		}
		// The table says the same.
		text := map[string]string{}
		for _, line := range strings.Split(strings.TrimSpace(mustShmmap(t, "stat", c.ref)), "\n") {
			name, value, _ := strings.Cut(line, " ")
			if name != "" {
				text[name] = strings.TrimSpace(value)
			}
		}
		for name, value := range map[string]string{"key": got.Key, "shmid": strconv.Itoa(got.Shmid), "size": strconv.FormatInt(got.Size, 10),
			"mode": got.Mode, "nattch": strconv.Itoa(got.Nattch), "cpid": strconv.Itoa(got.CPID), "lpid": strconv.Itoa(got.LPID)} {
			if text[name] != value {
				t.Errorf("shmmap stat %s: %s is %q, want %q", c.ref, name, text[name], value)
			}
		}
	}
}

// atoi parses a decimal number in a program's output.
func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("%q is not a number", s)
	}
	return n
}
