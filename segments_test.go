package shmmap

// Tests of ListSegments: in a fresh IPC namespace every segment it lists
// must be exactly what Segment.Stat (IPC_STAT) reports for it at the same
// moment; the header of /proc/sysvipc/shm, not the column order, decides
// which field is which.

import (
	"errors"
	"io/fs"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shmmap/shmmap/shmtest"
	"golang.org/x/sys/unix"
)

// shmLockCmd is SHM_LOCK from <linux/shm.h>, which x/sys does not export.
const shmLockCmd = 11

// TestListSegmentsMatchesStat creates segments in every state a segment can
// be in (keys positive, negative and private; sizes of one byte to several
// pages; modes; attached, detached, removed while attached, locked; owned by
// root and by the unprivileged user) and compares ListSegments with
// Segment.Stat of each, for root and for the unprivileged user, who may not
// Stat most of them but sees them all listed.
func TestListSegmentsMatchesStat(t *testing.T) {
	shmtest.Isolate(t)
	before, err := ListSegments()
	if err != nil {
		t.Fatal(err)
	}
	if len(before) != 0 {
		t.Fatalf("a fresh IPC namespace lists segments: %+v", before)
	}

	var segs []*Segment
	create := func(key Key, size int64, perm fs.FileMode) *Segment {
		t.Helper()
		seg, err := CreateSegment(key, size, perm)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { seg.Remove() })
		segs = append(segs, seg)
		return seg
	}
	attach := func(seg *Segment, mode AttachMode) *Attachment {
		t.Helper()
		a, err := seg.Attach(mode)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.Detach() })
		return a
	}

	attach(create(0x1234, 1024, 0o600), AttachReadWrite)
	create(-5, 1, 0o644)
	create(0x7fffffff, int64(3*os.Getpagesize()+1), 0o400)
	create(IPCPrivate, 100, 0o666)
	detached := create(0x2222, 4096, 0o640)
	if err := attach(detached, AttachReadOnly).Detach(); err != nil {
		t.Fatal(err)
	}
	removed := create(0x3333, 2048, 0o660)
	attach(removed, AttachReadWrite)
	if err := removed.Remove(); err != nil {
		t.Fatal(err)
	}
	locked := create(0x4444, 512, 0o600)
	if _, err := unix.SysvShmCtl(locked.ID(), shmLockCmd, nil); err != nil {
		t.Fatalf("SHM_LOCK: %v", err)
	}
	var nobodyErr error
	shmtest.DoUnprivileged(t, func() {
		var seg *Segment
		if seg, nobodyErr = CreateSegment(0x5555, 8192, 0o604); nobodyErr == nil {
			segs = append(segs, seg)
		}
	})
	if nobodyErr != nil {
		t.Fatalf("creating a segment as uid %d: %v", shmtest.Nobody, nobodyErr)
	}
	t.Cleanup(func() { segs[len(segs)-1].Remove() })

	var want []SegmentInfo
	for _, seg := range segs {
		info, err := seg.Stat()
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, *info)
	}
	sort.Slice(want, func(i, j int) bool { return want[i].ID < want[j].ID })
	got, err := ListSegments()
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("ListSegments differs from Segment.Stat (-Stat +ListSegments):\n%s", d)
	}

	// The states the segments were made in are the ones listed.
	byKey := map[Key]SegmentInfo{}
	for _, s := range got {
		byKey[s.Key] = s
	}
	checks := []struct {
		what string
		ok   bool
	}{
		{"0x1234 attached once", byKey[0x1234].Nattch == 1 && byKey[0x1234].Size == 1024 && byKey[0x1234].Mode == 0o600},
		{"key -5 listed with its negative key", byKey[-5].Size == 1 && byKey[-5].Mode == 0o644},
		{"0x2222 attached and detached", !byKey[0x2222].AttachTime.IsZero() && !byKey[0x2222].DetachTime.IsZero() && byKey[0x2222].Nattch == 0},
		{"0x3333 gone from its key once removed", !segmentsHaveKey(got, 0x3333)},
		{"0x4444 locked", byKey[0x4444].Locked},
		{"0x5555 owned by the unprivileged user", byKey[0x5555].UID == shmtest.Nobody && byKey[0x5555].CUID == shmtest.Nobody},
		{"the changed time is set", !byKey[0x1234].ChangeTime.IsZero() && time.Since(byKey[0x1234].ChangeTime) < time.Hour},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s: not so in %+v", c.what, got)
		}
	}
	var removedInfo *SegmentInfo
	for i := range got {
		if got[i].ID == removed.ID() {
			removedInfo = &got[i]
		}
	}
	if removedInfo == nil || !removedInfo.Removed || removedInfo.Key != IPCPrivate || removedInfo.Nattch != 1 {
		t.Errorf("the segment removed while attached is listed as %+v, want Removed with key 0 and nattch 1", removedInfo)
	}

	// The unprivileged user may not Stat root's 0600 segments but lists
	// them all, with the same fields.
	var asNobody []SegmentInfo
	var listErr, statErr error
	shmtest.DoUnprivileged(t, func() {
		asNobody, listErr = ListSegments()
		_, statErr = segs[0].Stat()
	})
	if listErr != nil {
		t.Fatalf("ListSegments as uid %d: %v", shmtest.Nobody, listErr)
	}
	if !errors.Is(statErr, fs.ErrPermission) {
		t.Errorf("Stat of root's 0600 segment as uid %d: got %v, want permission denied", shmtest.Nobody, statErr)
	}
	if d := cmp.Diff(got, asNobody); d != "" {
		t.Errorf("ListSegments as uid %d differs from root's (-root +nobody):\n%s", shmtest.Nobody, d)
	}
}

// segmentsHaveKey reports whether a segment with key is listed.
func segmentsHaveKey(segs []SegmentInfo, key Key) bool {
	for _, s := range segs {
		if s.Key == key {
			return true
		}
	}
	return false
}

// sysvipcHeader is the header line of /proc/sysvipc/shm on current kernels.
const sysvipcHeader = "       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid      atime      dtime      ctime                   rss                  swap\n"

// TestParseSysvipcShm parses tables written as the kernel writes them, with
// the columns reordered and with columns added, and rejects broken ones.
func TestParseSysvipcShm(t *testing.T) {
	want := []SegmentInfo{
		{Key: 0x1234, ID: 0, Size: 1024, Mode: 0o600, CPID: 10, LPID: 11, Nattch: 1, UID: 1, GID: 2, CUID: 3, CGID: 4,
			AttachTime: time.Unix(1700000001, 0), ChangeTime: time.Unix(1700000000, 0)},
		{Key: -1802962996, ID: 32769, Size: 1 << 40, Mode: 0o644, Removed: true, Locked: true, CPID: 12, UID: 65534, GID: 65534, CUID: 0, CGID: 0,
			AttachTime: time.Unix(1700000002, 0), DetachTime: time.Unix(1700000003, 0), ChangeTime: time.Unix(1700000004, 0)},
	}
	kernel := sysvipcHeader +
		"      4660          0   600                  1024    10    11      1     1     2     3     4 1700000001          0 1700000000                  4096                     0\n" +
		"-1802962996      32769  3644         1099511627776    12     0      0 65534 65534     0     0 1700000002 1700000003 1700000004                     0                     0\n"
	// The same rows with the columns in another order, an unknown column
	// added and the kernel's rss and swap left out.
	reordered := "shmid ctime extra key size perms nattch uid gid cuid cgid cpid lpid atime dtime\n" +
		"32769 1700000004 x -1802962996 1099511627776 3644 0 65534 65534 0 0 12 0 1700000002 1700000003\n" +
		"\n" +
		"0 1700000000 y 4660 1024 600 1 1 2 3 4 10 11 1700000001 0\n"
	for name, table := range map[string]string{"kernel layout": kernel, "reordered columns": reordered} {
		got, err := parseSysvipcShm(strings.NewReader(table), "test")
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s (-want +got):\n%s", name, d)
		}
	}
	if got, err := parseSysvipcShm(strings.NewReader(sysvipcHeader), "test"); err != nil || len(got) != 0 {
		t.Errorf("header only: got %v, %v; want no segments", got, err)
	}

	bad := map[string]string{
		"empty":             "",
		"no ctime column":   strings.Replace(sysvipcHeader, "ctime", "other", 1),
		"missing field":     sysvipcHeader + "4660 0 600 1024 10 11 1 1 2 3 4 1700000001 0 1700000000 4096\n",
		"key out of range":  sysvipcHeader + "4294967296 0 600 1024 10 11 1 1 2 3 4 0 0 0 0 0\n",
		"perms not octal":   sysvipcHeader + "4660 0 680 1024 10 11 1 1 2 3 4 0 0 0 0 0\n",
		"size not a number": sysvipcHeader + "4660 0 600 1k 10 11 1 1 2 3 4 0 0 0 0 0\n",
	}
	for name, table := range bad {
		if got, err := parseSysvipcShm(strings.NewReader(table), "test"); err == nil {
			t.Errorf("%s: parsed as %+v, want an error", name, got)
		} else if !strings.Contains(err.Error(), "test") {
			t.Errorf("%s: error %q does not name the file", name, err)
		}
	}
}
