package conformance

import (
	"bytes"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shmmap/shmmap/shmtest"
	"github.com/shmmap/shmmap/sysapi"
	"golang.org/x/sys/unix"
)

const key = 0x1234 // safe: every scenario runs in its own IPC namespace

// lifecycle is what one implementation observes over a segment's life.
type lifecycle struct {
	LookupSameID   bool
	RWLen, ROLen   int
	ReadBack       []byte
	Stat           statView
	NattchDetached uint64
	Removed        string // errno of a lookup after IPC_RMID
}

// statView is the part of IPC_STAT that is the same in every namespace.
type statView struct {
	Key           int32
	Size          uint64
	Mode          uint32
	Nattch        uint64
	CpidIsUs      bool
	LpidIsUs      bool
	Uid, Cuid     uint32
	AtimeSet      bool
	CtimeSet      bool
	DtimeUnsetYet bool
}

func view(ds sysapi.ShmidDS) statView {
	return statView{
		Key: ds.Key, Size: ds.Segsz, Mode: ds.Mode, Nattch: ds.Nattch,
		CpidIsUs: int(ds.Cpid) == os.Getpid(), LpidIsUs: int(ds.Lpid) == os.Getpid(),
		Uid: ds.Uid, Cuid: ds.Cuid,
		AtimeSet: ds.Atime > 0, CtimeSet: ds.Ctime > 0, DtimeUnsetYet: ds.Dtime == 0,
	}
}

func mustStat(t *testing.T, sys sysapi.Impl, id int) sysapi.ShmidDS {
	t.Helper()
	var ds sysapi.ShmidDS
	if _, err := sys.Shmctl(id, unix.IPC_STAT, &ds); err != nil {
		t.Fatalf("shmctl(%d, IPC_STAT): %v", id, err)
	}
	return ds
}

func TestSegmentLifecycle(t *testing.T) {
	const size = 5000 // not a page multiple: the slices must say 5000
	got := each(t, func(t *testing.T, sys sysapi.Impl) lifecycle {
		var lc lifecycle
		id, err := sys.Shmget(key, size, unix.IPC_CREAT|unix.IPC_EXCL|0o640)
		if err != nil {
			t.Fatalf("create: %v", err)
		}
		id2, err := sys.Shmget(key, 0, 0)
		if err != nil {
			t.Fatalf("lookup with size 0, flag 0: %v", err)
		}
		lc.LookupSameID = id == id2
		rw, err := sys.Shmat(id, 0)
		if err != nil {
			t.Fatalf("attach read-write: %v", err)
		}
		ro, err := sys.Shmat(id2, unix.SHM_RDONLY)
		if err != nil {
			t.Fatalf("attach read-only: %v", err)
		}
		lc.RWLen, lc.ROLen = len(rw), len(ro)
		msg := []byte("written through one attachment")
		copy(rw[size-len(msg):], msg)
		lc.ReadBack = bytes.Clone(ro[size-len(msg):])
		lc.Stat = view(mustStat(t, sys, id))
		if err := sys.Shmdt(rw); err != nil {
			t.Errorf("detach rw: %v", err)
		}
		if err := sys.Shmdt(ro); err != nil {
			t.Errorf("detach ro: %v", err)
		}
		lc.NattchDetached = mustStat(t, sys, id).Nattch
		if _, err := sys.Shmctl(id, unix.IPC_RMID, nil); err != nil {
			t.Fatalf("IPC_RMID: %v", err)
		}
		_, err = sys.Shmget(key, 0, 0)
		lc.Removed = errString(err)
		return lc
	})
	for name, lc := range got {
		want := lifecycle{
			LookupSameID: true, RWLen: size, ROLen: size,
			ReadBack: []byte("written through one attachment"),
			Stat: statView{Key: key, Size: size, Mode: 0o640, Nattch: 2, CpidIsUs: true, LpidIsUs: true,
				Uid: uint32(os.Geteuid()), Cuid: uint32(os.Geteuid()), AtimeSet: true, CtimeSet: true, DtimeUnsetYet: true},
			NattchDetached: 0,
			Removed:        errString(unix.ENOENT),
		}
		if d := cmp.Diff(want, lc); d != "" {
			t.Errorf("%s: lifecycle differs from shmget(2)/shmat(2) semantics (-want +got):\n%s", name, d)
		}
	}
}

// TestRemoveWhileAttached: IPC_RMID on an attached segment only marks it
// (SHM_DEST); the key is released at once and the memory stays usable.
func TestRemoveWhileAttached(t *testing.T) {
	type outcome struct {
		DestMarked bool
		KeyAfter   int32
		Lookup     string
		StillThere byte
	}
	each(t, func(t *testing.T, sys sysapi.Impl) outcome {
		id, err := sys.Shmget(key, 100, unix.IPC_CREAT|0o600)
		if err != nil {
			t.Fatal(err)
		}
		b, err := sys.Shmat(id, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer sys.Shmdt(b)
		b[99] = 'z'
		if _, err := sys.Shmctl(id, unix.IPC_RMID, nil); err != nil {
			t.Fatal(err)
		}
		ds := mustStat(t, sys, id)
		_, err = sys.Shmget(key, 0, 0)
		o := outcome{DestMarked: ds.Mode&sysapi.SHM_DEST != 0, KeyAfter: ds.Key, Lookup: errString(err), StillThere: b[99]}
		if !o.DestMarked || o.KeyAfter != 0 || o.Lookup != errString(unix.ENOENT) || o.StillThere != 'z' {
			t.Errorf("after IPC_RMID while attached: %+v", o)
		}
		return o
	})
}

// TestShmErrors: the errno of each error case matches the man page and,
// through cshim, libc.
func TestShmErrors(t *testing.T) {
	type outcome map[string]string
	got := each(t, func(t *testing.T, sys sysapi.Impl) outcome {
		o := outcome{}
		_, err := sys.Shmget(key, 0, 0)
		o["lookup missing key"] = errString(err)
		_, err = sys.Shmget(key, 0, unix.IPC_CREAT|0o600)
		o["create size 0"] = errString(err)

		id, err := sys.Shmget(key, 512, unix.IPC_CREAT|0o600)
		if err != nil {
			t.Fatal(err)
		}
		_, err = sys.Shmget(key, 1024, unix.IPC_CREAT|0o600)
		o["existing smaller segment"] = errString(err)
		_, err = sys.Shmget(key, 512, unix.IPC_CREAT|unix.IPC_EXCL|0o600)
		o["IPC_EXCL on existing"] = errString(err)
		_, err = sys.Shmat(id+1, 0)
		o["attach bad id"] = errString(err)
		var ds sysapi.ShmidDS
		_, err = sys.Shmctl(id+1, unix.IPC_STAT, &ds)
		o["stat bad id"] = errString(err)
		err = sys.Shmdt(nil)
		o["detach nil"] = errString(err)

		shmtest.DoUnprivileged(t, func() {
			id0, err := sys.Shmget(key, 0, 0)
			o["nobody lookup flag 0"] = errString(err)
			_, err = sys.Shmget(key, 0, 0o400)
			o["nobody lookup asking read"] = errString(err)
			_, err = sys.Shmat(id0, unix.SHM_RDONLY)
			o["nobody attach read-only"] = errString(err)
			_, err = sys.Shmget(key, 512, unix.IPC_CREAT|0o600)
			o["nobody writer-style create"] = errString(err)
			_, err = sys.Shmctl(id0, unix.IPC_RMID, nil)
			o["nobody remove"] = errString(err)
		})
		return o
	})
	want := outcome{
		"lookup missing key":         errString(unix.ENOENT),
		"create size 0":              errString(unix.EINVAL),
		"existing smaller segment":   errString(unix.EINVAL),
		"IPC_EXCL on existing":       errString(unix.EEXIST),
		"attach bad id":              errString(unix.EINVAL),
		"stat bad id":                errString(unix.EINVAL),
		"detach nil":                 errString(unix.EINVAL),
		"nobody lookup flag 0":       "",
		"nobody lookup asking read":  errString(unix.EACCES),
		"nobody attach read-only":    errString(unix.EACCES),
		"nobody writer-style create": errString(unix.EACCES),
		"nobody remove":              errString(unix.EPERM),
	}
	for name, o := range got {
		if d := cmp.Diff(want, o); d != "" {
			t.Errorf("%s: errnos differ from the man pages (-want +got):\n%s", name, d)
		}
	}
}
