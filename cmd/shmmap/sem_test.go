package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shmmap/shmmap"
	"github.com/shmmap/shmmap/purego"
	"github.com/shmmap/shmmap/shmtest"
	"github.com/shmmap/shmmap/sysapi"
)

// semWaiter is testdata/semwaiter.c, a C process that makes sets and
// blocks in semop; "C-m32" is the same program built -m32, where this
// machine runs 32-bit programs (its blocked semop shows as ipc(2) or
// semtimedop_time64 in /proc, which shmmap must decode too).
type semWaiterBuild struct{ name, path string }

func semWaiters(t *testing.T) []semWaiterBuild {
	bs := []semWaiterBuild{{"C", shmtest.BuildC(t, "testdata/semwaiter.c")}}
	if ok, why := shmtest.CanRun32(); ok {
		bs = append(bs, semWaiterBuild{"C-m32", shmtest.BuildC(t, "testdata/semwaiter.c", "-m32")})
	} else {
		t.Logf("no 32-bit C waiter: %s", why)
	}
	return bs
}

// startSemWaiter starts a semwaiter.
func startSemWaiter(t *testing.T, path string) *shmtest.Process {
	t.Helper()
	return shmtest.Start(t, exec.Command(path))
}

// ask sends a command line to a peer and returns its answer, the next
// line it prints.
func ask(t *testing.T, p *shmtest.Process, line string) string {
	t.Helper()
	p.Send(t, line)
	return p.WaitLine(t, "", waitTimeout)
}

// ipcsSemRow is what ipcs -s prints of a set.
type ipcsSemRow struct {
	Key   string
	Semid int
	Owner string
	Perms uint32
	Nsems int
}

// runIpcsSem runs ipcs -s in the test's namespace and returns its rows,
// sorted by semid.
func runIpcsSem(t *testing.T) []ipcsSemRow {
	t.Helper()
	path, err := exec.LookPath("ipcs")
	if err != nil {
		t.Skip("ipcs (util-linux) is not installed; the comparison needs it")
	}
	res := runProg(t, runOpts{}, path, "-s")
	if res.Status != 0 {
		t.Fatalf("ipcs -s: %+v", res)
	}
	var rows []ipcsSemRow
	for _, line := range strings.Split(res.Stdout, "\n") {
		f := strings.Fields(line)
		if len(f) != 5 || !strings.HasPrefix(f[0], "0x") {
			continue
		}
		perms, err := strconv.ParseUint(f[3], 8, 32)
		if err != nil {
			t.Fatalf("ipcs perms in %q: %v", line, err)
		}
		rows = append(rows, ipcsSemRow{Key: f[0], Semid: atoi(t, f[1]), Owner: f[2], Perms: uint32(perms), Nsems: atoi(t, f[4])})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Semid < rows[j].Semid })
	return rows
}

// semJSONFields are the documented field names of a set in sem ls --json
// and sem stat --json.
var semJSONFields = []string{"key", "semid", "owner", "group", "uid", "gid", "cuid", "cgid", "mode", "nsems",
	"otime", "ctime", "ncnt", "zcnt", "semaphores", "waiters"}

// semJSONSet is a set as sem ls --json prints it, decoded with the
// documented names.
type semJSONSet struct {
	Key        string  `json:"key"`
	Semid      int     `json:"semid"`
	Owner      string  `json:"owner"`
	Group      string  `json:"group"`
	UID        int     `json:"uid"`
	GID        int     `json:"gid"`
	CUID       int     `json:"cuid"`
	CGID       int     `json:"cgid"`
	Mode       string  `json:"mode"`
	Nsems      int     `json:"nsems"`
	Otime      *string `json:"otime"`
	Ctime      *string `json:"ctime"`
	Ncnt       *int    `json:"ncnt"`
	Zcnt       *int    `json:"zcnt"`
	Semaphores []struct {
		Num   int `json:"num"`
		Value int `json:"value"`
		PID   int `json:"pid"`
		Ncnt  int `json:"ncnt"`
		Zcnt  int `json:"zcnt"`
	} `json:"semaphores"`
	Waiters []jsonWaiter `json:"waiters"`
}

// jsonWaiter is a waiter as the JSON output prints it.
type jsonWaiter struct {
	PID     int    `json:"pid"`
	TID     int    `json:"tid"`
	Command string `json:"command"`
	Call    string `json:"call"`
}

// decodeStrict decodes one JSON object into v, checking that it has
// exactly the documented fields.
func decodeStrict(t *testing.T, raw json.RawMessage, fields []string, v any) {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%v in %s", err, raw)
	}
	var names []string
	for n := range m {
		names = append(names, n)
	}
	want := append([]string{}, fields...)
	sort.Strings(names)
	sort.Strings(want)
	if d := cmp.Diff(want, names); d != "" {
		t.Errorf("JSON field names differ from the documented ones (-doc +got):\n%s", d)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("%v in %s", err, raw)
	}
}

// semFixture is sets made by C and by Go, with a C process blocked on one.
type semFixture struct {
	cSet, cPrivate, goSet, nobodySet int // semids
	waiter                           *shmtest.Process
}

// makeSemFixture makes, in the test's namespace: with C (waiter), key
// 0x100 with 3 semaphores 0600 on whose semaphore 1 it then blocks
// (semop -1), and a private set of 2, 0644; with Go, 0x200 of 1, 0640, on
// which a semop has been done, and 0x300 of 4, 0604, created by the
// unprivileged user. Every set is removed at the end of the test.
func makeSemFixture(t *testing.T, waiterPath string) semFixture {
	t.Helper()
	var f semFixture
	rm := func(id int) { t.Cleanup(func() { purego.Impl.Semctl(id, 0, 0, 0) }) } // IPC_RMID is 0
	w := startSemWaiter(t, waiterPath)
	private := ask(t, w, "create 0 2 0644")
	f.cPrivate = atoi(t, strings.TrimPrefix(private, "ok "))
	rm(f.cPrivate)
	cset := ask(t, w, "create 0x100 3 0600")
	if !strings.HasPrefix(cset, "ok ") {
		t.Fatalf("semwaiter create: %q", cset)
	}
	f.cSet = atoi(t, strings.TrimPrefix(cset, "ok "))
	rm(f.cSet)
	goSet, err := shmmap.CreateSemaphores(0x200, 1, 0o640)
	if err != nil {
		t.Fatal(err)
	}
	rm(goSet.ID())
	f.goSet = goSet.ID()
	if err := goSet.Post(0); err != nil {
		t.Fatal(err)
	}
	var nerr error
	shmtest.DoUnprivileged(t, func() {
		var s *shmmap.SemaphoreSet
		if s, nerr = shmmap.CreateSemaphores(0x300, 4, 0o604); nerr == nil {
			f.nobodySet = s.ID()
		}
	})
	if nerr != nil {
		t.Fatal(nerr)
	}
	rm(f.nobodySet)
	w.Send(t, "op 1 -1")
	shmtest.WaitFor(t, "the C waiter asleep in semop (GETNCNT 1)", waitTimeout, func() bool {
		n, _ := purego.Impl.Semctl(f.cSet, 1, sysapi.GETNCNT, 0)
		return n == 1
	}, w)
	f.waiter = w
	return f
}

// TestSemLsMatchesIpcs: with sets made by C and Go (private, owned by the
// unprivileged user, one with a C process blocked on it), sem ls and sem
// ls --json show the rows ipcs -s shows (key, semid, owner, perms, nsems),
// the waiter counts the kernel gives (GETNCNT, GETZCNT) and name the
// blocked C process, 64-bit and 32-bit.
func TestSemLsMatchesIpcs(t *testing.T) {
	for _, b := range semWaiters(t) {
		t.Run(b.name, func(t *testing.T) {
			shmtest.Isolate(t)
			shmtest.NoLeaks(t)
			f := makeSemFixture(t, b.path)
			want := runIpcsSem(t)
			if len(want) != 4 {
				t.Fatalf("ipcs -s lists %d sets, want 4: %+v", len(want), want)
			}
			wantNcnt := map[int]int{f.cSet: 1}
			comm := progComm(b.path)
			wantWaiters := map[int]string{f.cSet: strconv.Itoa(f.waiter.Pid()) + " " + comm + " semop"}

			var got []ipcsSemRow
			ncnt, waiters := map[int]int{}, map[int]string{}
			for _, r := range parseTable(t, mustShmmap(t, "sem", "ls")) {
				perms, err := strconv.ParseUint(r["MODE"], 8, 32)
				if err != nil {
					t.Fatalf("MODE %q: %v", r["MODE"], err)
				}
				row := ipcsSemRow{Key: r["KEY"], Semid: atoi(t, r["SEMID"]), Owner: r["OWNER"], Perms: uint32(perms), Nsems: atoi(t, r["NSEMS"])}
				got = append(got, row)
				if n := atoi(t, r["NCNT"]) + atoi(t, r["ZCNT"]); n > 0 {
					ncnt[row.Semid] = n
				}
				if r["WAITERS"] != "-" {
					waiters[row.Semid] = semopCall(r["WAITERS"])
				}
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("shmmap sem ls differs from ipcs -s (-ipcs +shmmap):\n%s", d)
			}
			if d := cmp.Diff(wantNcnt, ncnt); d != "" {
				t.Errorf("sem ls NCNT+ZCNT by semid (-GETNCNT +shmmap):\n%s", d)
			}
			if d := cmp.Diff(wantWaiters, waiters); d != "" {
				t.Errorf("sem ls WAITERS by semid (-want +got):\n%s", d)
			}

			var raws []json.RawMessage
			out := mustShmmap(t, "sem", "ls", "--json")
			if err := json.Unmarshal([]byte(out), &raws); err != nil {
				t.Fatalf("sem ls --json: %v\n%s", err, out)
			}
			got = nil
			for _, raw := range raws {
				var s semJSONSet
				decodeStrict(t, raw, semJSONFields, &s)
				perms, _ := strconv.ParseUint(s.Mode, 8, 32)
				got = append(got, ipcsSemRow{Key: s.Key, Semid: s.Semid, Owner: s.Owner, Perms: uint32(perms), Nsems: s.Nsems})
				if s.Ncnt == nil || *s.Ncnt != wantNcnt[s.Semid] || len(s.Semaphores) != s.Nsems {
					t.Errorf("set %d: ncnt %v, %d semaphores; want %d and %d", s.Semid, s.Ncnt, len(s.Semaphores), wantNcnt[s.Semid], s.Nsems)
				}
				if s.Semid == f.cSet {
					if len(s.Waiters) != 1 || s.Waiters[0].PID != f.waiter.Pid() || s.Waiters[0].Command != comm || semopCall(s.Waiters[0].Call) != "semop" {
						t.Errorf("set %d's waiters: %+v; want pid %d (%s) in semop", s.Semid, s.Waiters, f.waiter.Pid(), comm)
					}
				} else if len(s.Waiters) != 0 {
					t.Errorf("set %d's waiters: %+v; want none", s.Semid, s.Waiters)
				}
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("shmmap sem ls --json differs from ipcs -s (-ipcs +shmmap):\n%s", d)
			}
		})
	}
}

// TestSemStatMatchesIPCStat: sem stat --json, with the set named by key,
// by id and by ftok, shows what IPC_STAT and GETVAL, GETPID, GETNCNT,
// GETZCNT through the contract show; the table agrees.
func TestSemStatMatchesIPCStat(t *testing.T) {
	shmtest.Isolate(t)
	shmtest.NoLeaks(t)
	f := makeSemFixture(t, semWaiters(t)[0].path)
	file := t.TempDir() + "/ftok file"
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	key, err := shmmap.Ftok(file, 'S')
	if err != nil {
		t.Fatal(err)
	}
	ftokSet, err := shmmap.CreateSemaphores(key, 2, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ftokSet.Remove() })
	if err := ftokSet.SetValue(1, 7); err != nil {
		t.Fatal(err)
	}
	type named struct {
		id  int
		ref string
	}
	cases := []named{{f.cSet, "0x100"}, {f.cSet, "256"}, {ftokSet.ID(), "ftok:" + file + ":S"}, {ftokSet.ID(), "ftok:" + file + ":83"}}
	for _, id := range []int{f.cSet, f.cPrivate, f.goSet, f.nobodySet, ftokSet.ID()} {
		cases = append(cases, named{id, "id:" + strconv.Itoa(id)})
	}
	for _, c := range cases {
		var got semJSONSet
		decodeStrict(t, json.RawMessage(mustShmmap(t, "sem", "stat", c.ref, "--json")), semJSONFields, &got)
		var ds sysapi.SemidDS
		if err := purego.Impl.SemctlStat(c.id, &ds); err != nil {
			t.Fatal(err)
		}
		want := got
		want.Key, want.Semid, want.UID, want.GID, want.CUID, want.CGID = shmmap.Key(ds.Key).String(), c.id, int(ds.Uid), int(ds.Gid), int(ds.Cuid), int(ds.Cgid)
		want.Mode, want.Nsems = "0"+strconv.FormatUint(uint64(ds.Mode&0o777), 8), int(ds.Nsems)
		for len(want.Mode) < 4 {
			want.Mode = "0" + want.Mode
		}
		want.Otime, want.Ctime = rfcSeconds(ds.Otime), rfcSeconds(ds.Ctime)
		want.Semaphores = append(want.Semaphores[:0:0], got.Semaphores...)
		n, z := 0, 0
		for i := range want.Semaphores {
			s := &want.Semaphores[i]
			s.Num = i
			s.Value, _ = purego.Impl.Semctl(c.id, i, sysapi.GETVAL, 0)
			s.PID, _ = purego.Impl.Semctl(c.id, i, sysapi.GETPID, 0)
			s.Ncnt, _ = purego.Impl.Semctl(c.id, i, sysapi.GETNCNT, 0)
			s.Zcnt, _ = purego.Impl.Semctl(c.id, i, sysapi.GETZCNT, 0)
			n, z = n+s.Ncnt, z+s.Zcnt
		}
		want.Ncnt, want.Zcnt = &n, &z
		if len(got.Semaphores) != int(ds.Nsems) {
			t.Errorf("sem stat %s: %d semaphores, IPC_STAT says %d", c.ref, len(got.Semaphores), ds.Nsems)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("shmmap sem stat --json %s differs from IPC_STAT (-IPC_STAT +shmmap):\n%s", c.ref, d)
		}
		text := map[string]string{}
		for _, line := range strings.Split(strings.TrimSpace(mustShmmap(t, "sem", "stat", c.ref)), "\n") {
			name, value, _ := strings.Cut(line, "  ")
			text[strings.TrimSpace(name)] = strings.TrimSpace(value)
		}
		for name, value := range map[string]string{"key": got.Key, "semid": strconv.Itoa(got.Semid), "nsems": strconv.Itoa(got.Nsems),
			"mode": got.Mode, "ncnt": strconv.Itoa(n), "zcnt": strconv.Itoa(z)} {
			if text[name] != value {
				t.Errorf("shmmap sem stat %s: %s is %q, want %q", c.ref, name, text[name], value)
			}
		}
	}
	if d := mustShmmap(t, "sem", "stat", "ftok:"+file+":S"); !strings.Contains(d, "value 7") {
		t.Errorf("sem stat of the ftok set does not show semaphore 1's value 7:\n%s", d)
	}
}

// semopCall makes the call a waiter is found in "semop" where it is
// "semtimedop": glibc's semop is semtimedop with no timeout (on i386,
// semtimedop_time64 or ipc(2)'s SEMTIMEDOP), and the kernel shows the call
// made, so the C program's semop may show as either.
func semopCall(s string) string { return strings.ReplaceAll(s, "semtimedop", "semop") }

// rfcSeconds is seconds since the epoch as the JSON prints it, nil for 0.
func rfcSeconds(sec int64) *string {
	if sec == 0 {
		return nil
	}
	s := time.Unix(sec, 0).Format(time.RFC3339)
	return &s
}

// TestSemRm: sem rm refuses the set a C process is blocked on, naming it,
// and leaves the set as it was; sem rm --force removes it and the waiter's
// semop fails with EIDRM; a set nobody waits on is removed without
// --force.
func TestSemRm(t *testing.T) {
	for _, b := range semWaiters(t) {
		t.Run(b.name, func(t *testing.T) {
			shmtest.Isolate(t)
			shmtest.NoLeaks(t)
			f := makeSemFixture(t, b.path)
			res := runShmmap(t, runOpts{}, "sem", "rm", "0x100")
			res.Stderr = semopCall(res.Stderr)
			pid := strconv.Itoa(f.waiter.Pid())
			if res.Status != 1 || res.Stdout != "" {
				t.Errorf("sem rm of a waited-on set: %+v; want status 1 and no output", res)
			}
			for _, s := range []string{"shmmap: sem rm key 0x00000100: ", "ncnt 1", "pid " + pid + " (" + progComm(b.path) + ", in semop)", "--force"} {
				if !strings.Contains(res.Stderr, s) {
					t.Errorf("sem rm says %q; want it to contain %q", res.Stderr, s)
				}
			}
			if n, err := purego.Impl.Semctl(f.cSet, 1, sysapi.GETNCNT, 0); err != nil || n != 1 {
				t.Errorf("after a refused rm: GETNCNT %d, %v; want the set with its waiter", n, err)
			}
			res = runShmmap(t, runOpts{}, "sem", "rm", "--force", "id:"+strconv.Itoa(f.cSet))
			if res.Status != 0 || res.Stdout != "" || !strings.Contains(res.Stderr, "removed while processes waited") || !strings.Contains(res.Stderr, "pid "+pid) {
				t.Errorf("sem rm --force: %+v", res)
			}
			if got := f.waiter.WaitLine(t, "", waitTimeout); got != "err 43" {
				t.Errorf("the waiter's semop after rm --force: %q, want err 43 (EIDRM)", got)
			}
			if _, err := shmmap.OpenSemaphores(0x100); err == nil {
				t.Errorf("after sem rm --force, key 0x100 is still there")
			}
			for _, ref := range []string{"0x200", "id:" + strconv.Itoa(f.cPrivate), "768"} {
				if res := runShmmap(t, runOpts{}, "sem", "rm", ref); res.Status != 0 || res.Stdout != "" || res.Stderr != "" {
					t.Errorf("sem rm %s of a free set: %+v", ref, res)
				}
			}
			sets, err := shmmap.ListSemaphoreSets()
			if err != nil || len(sets) != 0 {
				t.Errorf("after removing every set: %+v, %v", sets, err)
			}
			res = runShmmap(t, runOpts{}, "sem", "rm", "0x100")
			if res.Status != 1 || !strings.Contains(res.Stderr, "sem rm key 0x00000100: no such semaphore set") {
				t.Errorf("sem rm of a missing set: %+v", res)
			}
		})
	}
}
