package shmmap

// Tests of ListSemaphoreSets: in a fresh IPC namespace every set it lists
// must be exactly what SemaphoreSet.Stat (IPC_STAT) reports for it at the
// same moment; the header of /proc/sysvipc/sem, not the column order,
// decides which field is which.

import (
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shmmap/shmmap/shmtest"
)

// TestListSemaphoreSetsMatchesStat creates sets in the states a set can be
// in (keys positive, negative and private; one to many semaphores; modes;
// operated on and never operated on; created by the unprivileged user) and compares ListSemaphoreSets with
// SemaphoreSet.Stat of each, for root and for the unprivileged user, who
// may not Stat root's 0600 sets but sees them all listed.
func TestListSemaphoreSetsMatchesStat(t *testing.T) {
	shmtest.Isolate(t)
	shmtest.NoLeaks(t)
	before, err := ListSemaphoreSets()
	if err != nil {
		t.Fatal(err)
	}
	if len(before) != 0 {
		t.Fatalf("a fresh IPC namespace lists semaphore sets: %+v", before)
	}

	var sets []*SemaphoreSet
	create := func(key Key, n int, perm fs.FileMode) *SemaphoreSet {
		t.Helper()
		set, err := CreateSemaphores(key, n, perm)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { set.Remove() })
		sets = append(sets, set)
		return set
	}
	create(0x1234, 1, 0o600)
	create(-5, 3, 0o644)
	create(0x7fffffff, 250, 0o400)
	create(IPCPrivate, 2, 0o666)
	used := create(0x2222, 2, 0o640)
	if err := used.Post(1); err != nil {
		t.Fatal(err)
	}
	if err := used.TryWait(1); err != nil {
		t.Fatal(err)
	}
	var nobodyErr error
	shmtest.DoUnprivileged(t, func() {
		var set *SemaphoreSet
		if set, nobodyErr = CreateSemaphores(0x5555, 4, 0o604); nobodyErr == nil {
			sets = append(sets, set)
		}
	})
	if nobodyErr != nil {
		t.Fatalf("creating a set as uid %d: %v", shmtest.Nobody, nobodyErr)
	}
	t.Cleanup(func() { sets[len(sets)-1].Remove() })

	var want []SemaphoreInfo
	for _, set := range sets {
		info, err := set.Stat()
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, *info)
	}
	sort.Slice(want, func(i, j int) bool { return want[i].ID < want[j].ID })
	got, err := ListSemaphoreSets()
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("ListSemaphoreSets differs from SemaphoreSet.Stat (-Stat +ListSemaphoreSets):\n%s", d)
	}

	// The states the sets were made in are the ones listed.
	byKey := map[Key]SemaphoreInfo{}
	for _, s := range got {
		byKey[s.Key] = s
	}
	checks := []struct {
		what string
		ok   bool
	}{
		{"0x1234: one semaphore, 0600", byKey[0x1234].Len == 1 && byKey[0x1234].Mode == 0o600},
		{"key -5 listed with its negative key", byKey[-5].Len == 3 && byKey[-5].Mode == 0o644},
		{"0x7fffffff: 250 semaphores", byKey[0x7fffffff].Len == 250},
		{"a private set listed with key 0", byKey[IPCPrivate].Len == 2},
		{"0x2222 operated on", !byKey[0x2222].OpTime.IsZero() && time.Since(byKey[0x2222].OpTime) < time.Hour},
		{"0x1234 never operated on", byKey[0x1234].OpTime.IsZero()},
		{"0x5555 owned by the unprivileged user", byKey[0x5555].UID == shmtest.Nobody && byKey[0x5555].CUID == shmtest.Nobody},
		{"the changed time is set", !byKey[0x1234].ChangeTime.IsZero() && time.Since(byKey[0x1234].ChangeTime) < time.Hour},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s: not so in %+v", c.what, got)
		}
	}

	var asNobody []SemaphoreInfo
	var listErr, statErr error
	shmtest.DoUnprivileged(t, func() {
		asNobody, listErr = ListSemaphoreSets()
		_, statErr = sets[0].Stat()
	})
	if listErr != nil {
		t.Fatalf("ListSemaphoreSets as uid %d: %v", shmtest.Nobody, listErr)
	}
	if !errors.Is(statErr, fs.ErrPermission) {
		t.Errorf("Stat of root's 0600 set as uid %d: got %v, want permission denied", shmtest.Nobody, statErr)
	}
	if d := cmp.Diff(got, asNobody); d != "" {
		t.Errorf("ListSemaphoreSets as uid %d differs from root's (-root +nobody):\n%s", shmtest.Nobody, d)
	}
}

// sysvipcSemHeader is the header line of /proc/sysvipc/sem on current
// kernels.
const sysvipcSemHeader = "       key      semid perms      nsems   uid   gid  cuid  cgid      otime      ctime\n"

// TestParseSysvipcSemaphoreSets parses tables written as the kernel writes
// them and with the columns reordered and one added, and rejects broken
// ones.
func TestParseSysvipcSemaphoreSets(t *testing.T) {
	want := []SemaphoreInfo{
		{Key: 0x1234, ID: 0, Len: 2, Mode: 0o600, UID: 1, GID: 2, CUID: 3, CGID: 4, ChangeTime: time.Unix(1700000000, 0)},
		{Key: -1802962996, ID: 32769, Len: 250, Mode: 0o644, UID: 65534, GID: 65534,
			OpTime: time.Unix(1700000002, 0), ChangeTime: time.Unix(1700000004, 0)},
	}
	kernel := sysvipcSemHeader +
		"-1802962996      32769   644        250 65534 65534     0     0 1700000002 1700000004\n" +
		"      4660          0   600          2     1     2     3     4          0 1700000000\n"
	reordered := "semid ctime extra key nsems perms uid gid cuid cgid otime\n" +
		"0 1700000000 y 4660 2 600 1 2 3 4 0\n" +
		"\n" +
		"32769 1700000004 x -1802962996 250 644 65534 65534 0 0 1700000002\n"
	for name, table := range map[string]string{"kernel layout": kernel, "reordered columns": reordered} {
		got, err := parseSysvipcSem(strings.NewReader(table), "test")
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s (-want +got):\n%s", name, d)
		}
	}
	if got, err := parseSysvipcSem(strings.NewReader(sysvipcSemHeader), "test"); err != nil || len(got) != 0 {
		t.Errorf("header only: got %v, %v; want no sets", got, err)
	}
	bad := map[string]string{
		"empty":              "",
		"no otime column":    strings.Replace(sysvipcSemHeader, "otime", "other", 1),
		"missing field":      sysvipcSemHeader + "4660 0 600 2 1 2 3 4 0\n",
		"key out of range":   sysvipcSemHeader + "4294967296 0 600 2 1 2 3 4 0 0\n",
		"perms not octal":    sysvipcSemHeader + "4660 0 680 2 1 2 3 4 0 0\n",
		"nsems not a number": sysvipcSemHeader + "4660 0 600 two 1 2 3 4 0 0\n",
	}
	for name, table := range bad {
		if got, err := parseSysvipcSem(strings.NewReader(table), "test"); err == nil {
			t.Errorf("%s: parsed as %+v, want an error", name, got)
		} else if !strings.Contains(err.Error(), "test") {
			t.Errorf("%s: error %q does not name the file", name, err)
		}
	}
}

// ExampleListSemaphoreSets lists the semaphore sets, as ipcs -s does, and
// finds the one just created among them.
func ExampleListSemaphoreSets() {
	set, err := CreateSemaphores(IPCPrivate, 3, 0o600)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer set.Remove()
	sets, err := ListSemaphoreSets()
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range sets {
		if s.ID == set.ID() {
			fmt.Printf("key %v: %d semaphores, mode %v, last semop %v\n", s.Key, s.Len, s.Mode, s.OpTime)
		}
	}
	// Output:
	// key 0x00000000: 3 semaphores, mode -rw-------, last semop 0001-01-01 00:00:00 +0000 UTC
}
