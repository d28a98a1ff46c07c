package conformance

// The root package's POSIX shared memory and memfd API run unchanged over
// every implementation through shmmap.Using. Every /dev/shm object a test
// makes has a name unique to the process and the test, and is removed when
// the test ends, whatever happened.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shmmap/shmmap"
	"github.com/shmmap/shmmap/shmtest"
	"github.com/shmmap/shmmap/sysapi"
	"golang.org/x/sys/unix"
)

// apiShmName returns a POSIX shared memory name no other test or process
// uses, and removes /dev/shm/NAME when the test ends.
func apiShmName(t *testing.T, tag string) string {
	name := fmt.Sprintf("shmmap-api-%d-%s-%s", os.Getpid(), strings.ReplaceAll(t.Name(), "/", "_"), tag)
	t.Cleanup(func() {
		if err := os.Remove("/dev/shm/" + name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("removing /dev/shm/%s: %v", name, err)
		}
	})
	return name
}

// apiCloseAtEnd closes f when the test ends.
func apiCloseAtEnd(t *testing.T, f *os.File) *os.File {
	t.Cleanup(func() { f.Close() })
	return f
}

// apiCloexec reports whether f's descriptor has FD_CLOEXEC.
func apiCloexec(t *testing.T, f *os.File) bool {
	t.Helper()
	fl, err := unix.FcntlInt(f.Fd(), unix.F_GETFD, 0)
	if err != nil {
		t.Fatalf("F_GETFD on %s: %v", f.Name(), err)
	}
	return fl&unix.FD_CLOEXEC != 0
}

// TestAPIShmOpen: create-exclusive, the file behind the name, sizing with
// Truncate, sharing through a second ShmOpen and its mapping, and
// ShmUnlink, as shm_open(3) and shm_unlink(3) specify.
func TestAPIShmOpen(t *testing.T) {
	type outcome struct {
		NameIsDevShm     bool
		SlashNameSame    bool
		Cloexec          bool
		Perm             fs.FileMode
		InitialSize      int64
		Again            string
		AgainPath        bool
		AgainIsEEXIST    bool
		Size             int64
		Len              int
		SecondSees       string
		FileSees         string
		BackFromSecond   string
		Unlink           string
		GoneFromDevShm   bool
		MappingOutlives  string
		OpenAfterUnlink  string
		UnlinkAgain      string
		UnlinkAgainPath  bool
		CreateAfterClose string
	}
	got := each(t, func(t *testing.T, sys sysapi.Impl) outcome {
		s := shmmap.Using(sys)
		name := apiShmName(t, "obj")
		f, err := s.ShmOpen(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			t.Fatalf("ShmOpen(%q, create exclusive): %v", name, err)
		}
		apiCloseAtEnd(t, f)
		var o outcome
		o.NameIsDevShm = f.Name() == "/dev/shm/"+name
		o.Cloexec = apiCloexec(t, f)
		fi, err := f.Stat()
		if err != nil {
			t.Fatal(err)
		}
		o.Perm, o.InitialSize = fi.Mode().Perm(), fi.Size()

		_, err = s.ShmOpen(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		o.Again, o.AgainIsEEXIST = apiErr(err), errors.Is(err, unix.EEXIST)
		var pe *fs.PathError
		o.AgainPath = errors.As(err, &pe) && pe.Op == "shm_open" && pe.Path == name

		if err := f.Truncate(int64(3 * apiPage)); err != nil {
			t.Fatal(err)
		}
		m := apiMustMap(t, s, f, 0, 0, shmmap.MapShared)
		o.Len = m.Len()
		g, err := s.ShmOpen("/"+name, os.O_RDONLY, 0)
		if err != nil {
			t.Fatalf("second ShmOpen with a leading slash: %v", err)
		}
		apiCloseAtEnd(t, g)
		o.SlashNameSame = g.Name() == f.Name()
		if gi, err := g.Stat(); err == nil {
			o.Size = gi.Size()
		}
		r := apiMustMap(t, s, g, 0, 0, shmmap.MapReadOnly)
		if _, err := m.WriteAt([]byte("posix shared memory"), int64(2*apiPage+7)); err != nil {
			t.Fatal(err)
		}
		o.SecondSees = apiRead(r, 19, int64(2*apiPage+7)).Data
		o.FileSees = string(apiReadFile(t, "/dev/shm/"+name)[2*apiPage+7 : 2*apiPage+26])
		h, err := s.ShmOpen(name, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		apiCloseAtEnd(t, h)
		hm := apiMustMap(t, s, h, 10, 4, shmmap.MapShared)
		copy(hm.Bytes(), "back")
		o.BackFromSecond = apiRead(m, 4, 10).Data

		o.Unlink = apiErr(s.ShmUnlink(name))
		_, err = os.Stat("/dev/shm/" + name)
		o.GoneFromDevShm = errors.Is(err, fs.ErrNotExist)
		// Unlinking removes the name only; the object lives on while it
		// is open or mapped.
		if _, err := m.WriteAt([]byte("after unlink"), 0); err != nil {
			t.Fatal(err)
		}
		o.MappingOutlives = apiRead(r, 12, 0).Data
		_, err = s.ShmOpen(name, os.O_RDWR, 0)
		o.OpenAfterUnlink = apiErr(err)
		err = s.ShmUnlink(name)
		o.UnlinkAgain = apiErr(err)
		o.UnlinkAgainPath = errors.As(err, &pe) && pe.Op == "shm_unlink" && pe.Path == name

		// The name is free again: a new, empty object can take it.
		n, err := s.ShmOpen(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		o.CreateAfterClose = apiErr(err)
		if err == nil {
			apiCloseAtEnd(t, n)
			if ni, err := n.Stat(); err != nil || ni.Size() != 0 {
				t.Errorf("a new object at a reused name: %v, %v; want size 0", ni, err)
			}
			if err := s.ShmUnlink(name); err != nil {
				t.Error(err)
			}
		}
		return o
	})
	want := outcome{
		NameIsDevShm: true, SlashNameSame: true, Cloexec: true, Perm: 0o600, InitialSize: 0,
		Again: "PathError shm_open ErrExist EEXIST", AgainPath: true, AgainIsEEXIST: true,
		Size: int64(3 * apiPage), Len: 3 * apiPage,
		SecondSees: "posix shared memory", FileSees: "posix shared memory", BackFromSecond: "back",
		GoneFromDevShm: true, MappingOutlives: "after unlink",
		OpenAfterUnlink: "PathError shm_open ErrNotExist ENOENT",
		UnlinkAgain:     "PathError shm_unlink ErrNotExist ENOENT", UnlinkAgainPath: true,
	}
	for name, o := range got {
		if d := cmp.Diff(want, o); d != "" {
			t.Errorf("%s (-want +got):\n%s", name, d)
		}
	}
}

// TestAPIShmOpenInvalidNames: names shm_open refuses are EINVAL (an empty
// name once leading slashes are skipped, a slash inside); shm_unlink
// reports the same names as ENOENT. Nothing is created in /dev/shm.
func TestAPIShmOpenInvalidNames(t *testing.T) {
	type outcome map[string][2]string
	got := each(t, func(t *testing.T, sys sysapi.Impl) outcome {
		s := shmmap.Using(sys)
		base := apiShmName(t, "dir")
		// A directory in /dev/shm, so that "base/x" would otherwise be a
		// valid path.
		if err := os.Mkdir("/dev/shm/"+base, 0o700); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll("/dev/shm/" + base) })
		o := outcome{}
		for what, name := range map[string]string{
			"empty": "", "slash": "/", "slashes": "///", "slash inside": base + "/x",
			"slash at the end": base + "/",
		} {
			f, err := s.ShmOpen(name, os.O_RDWR|os.O_CREATE, 0o600)
			if f != nil {
				f.Close()
				t.Errorf("ShmOpen(%q) opened %s", name, f.Name())
			}
			var pe *fs.PathError
			if err != nil && (!errors.As(err, &pe) || pe.Op != "shm_open" || pe.Path != name) {
				t.Errorf("ShmOpen(%q): %v is not a PathError naming it", name, err)
			}
			o[what] = [2]string{apiErr(err), apiErr(s.ShmUnlink(name))}
		}
		if _, err := os.Stat("/dev/shm/" + base + "/x"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("/dev/shm/%s/x exists after the refused ShmOpen", base)
		}
		return o
	})
	refused := [2]string{"PathError shm_open EINVAL", "PathError shm_unlink ErrNotExist ENOENT"}
	want := outcome{"empty": refused, "slash": refused, "slashes": refused, "slash inside": refused, "slash at the end": refused}
	for name, o := range got {
		if d := cmp.Diff(want, o); d != "" {
			t.Errorf("%s (-want +got):\n%s", name, d)
		}
	}
}

// TestAPIMemfd: Memfd makes an anonymous in-memory file of the size asked
// for (memfd_create(2) with MFD_CLOEXEC, then ftruncate); two mappings of it
// share their pages, and the mappings outlive the descriptor.
func TestAPIMemfd(t *testing.T) {
	size := int64(2*apiPage + 100)
	type outcome struct {
		Name            string
		Link            string
		Cloexec         bool
		Size            int64
		Len, PartLen    int
		OtherSees       string
		PartSees        string
		BackFromOther   string
		AfterClose      string
		ReadThroughFile string
		Negative        string
		LongName        string
	}
	got := each(t, func(t *testing.T, sys sysapi.Impl) outcome {
		s := shmmap.Using(sys)
		f, err := s.Memfd("shmmap-api", size)
		if err != nil {
			t.Fatalf("Memfd: %v", err)
		}
		apiCloseAtEnd(t, f)
		o := outcome{Name: f.Name(), Cloexec: apiCloexec(t, f)}
		// The kernel names the file "memfd:NAME" (memfd_create(2)).
		o.Link, _ = os.Readlink("/proc/self/fd/" + strconv.Itoa(int(f.Fd())))
		if fi, err := f.Stat(); err == nil {
			o.Size = fi.Size()
		}
		m := apiMustMap(t, s, f, 0, 0, shmmap.MapShared)
		other := apiMustMap(t, s, f, 0, 0, shmmap.MapShared)
		part := apiMustMap(t, s, f, int64(apiPage+50), 0, shmmap.MapReadOnly)
		o.Len, o.PartLen = m.Len(), part.Len()
		if _, err := m.WriteAt([]byte("memfd"), int64(apiPage+50)); err != nil {
			t.Fatal(err)
		}
		o.OtherSees = apiRead(other, 5, int64(apiPage+50)).Data
		o.PartSees = apiRead(part, 5, 0).Data
		if _, err := other.WriteAt([]byte("tail"), size-4); err != nil {
			t.Fatal(err)
		}
		o.BackFromOther = string(m.Bytes()[size-4:])
		buf := make([]byte, 5)
		if _, err := f.ReadAt(buf, int64(apiPage+50)); err == nil {
			o.ReadThroughFile = string(buf)
		}
		f.Close()
		if _, err := m.WriteAt([]byte("closed"), 0); err != nil {
			t.Fatal(err)
		}
		o.AfterClose = apiRead(other, 6, 0).Data

		_, err = s.Memfd("negative", -1)
		o.Negative = apiErr(err)
		_, err = s.Memfd(strings.Repeat("n", 250), 4096) // more than MFD_NAME_MAX_LEN (249)
		o.LongName = apiErr(err)
		return o
	})
	want := outcome{
		Name: "/memfd:shmmap-api", Link: "/memfd:shmmap-api (deleted)", Cloexec: true,
		Size: size, Len: int(size), PartLen: int(size) - apiPage - 50,
		OtherSees: "memfd", PartSees: "memfd", BackFromOther: "tail", ReadThroughFile: "memfd",
		AfterClose: "closed",
		Negative:   "PathError ftruncate EINVAL",
		LongName:   "PathError memfd_create EINVAL",
	}
	for name, o := range got {
		if d := cmp.Diff(want, o); d != "" {
			t.Errorf("%s (-want +got):\n%s", name, d)
		}
	}
}

// TestAPIShmOpenNobody: /dev/shm objects carry file permissions: an
// unprivileged user may not open root's 0600 object nor unlink it (the
// sticky bit), and the errors match fs.ErrPermission.
func TestAPIShmOpenNobody(t *testing.T) {
	shmtest.RequireRoot(t)
	type outcome map[string]string
	got := each(t, func(t *testing.T, sys sysapi.Impl) outcome {
		s := shmmap.Using(sys)
		name := apiShmName(t, "root")
		f, err := s.ShmOpen(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		apiCloseAtEnd(t, f)
		o := outcome{}
		shmtest.DoUnprivileged(t, func() {
			_, err := s.ShmOpen(name, os.O_RDONLY, 0)
			o["open"] = apiErr(err)
			o["unlink"] = apiErr(s.ShmUnlink(name))
		})
		_, err = os.Stat("/dev/shm/" + name)
		o["still there"] = apiErr(err)
		return o
	})
	want := outcome{"open": "PathError shm_open ErrPermission EACCES", "unlink": "PathError shm_unlink ErrPermission EACCES", "still there": ""}
	for name, o := range got {
		if d := cmp.Diff(want, o); d != "" {
			t.Errorf("%s (-want +got):\n%s", name, d)
		}
	}
}
