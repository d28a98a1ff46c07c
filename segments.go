package shmmap

import (
	"io"
	"io/fs"
	"os"

	"github.com/shmmap/shmmap/sysapi"
)

// sysvipcShm is the kernel's table of System V shared memory segments.
const sysvipcShm = "/proc/sysvipc/shm"

// ListSegments returns every System V shared memory segment of the calling
// thread's IPC namespace, sorted by ID, as the kernel lists them in
// /proc/sysvipc/shm (the table ipcs(1) reads). It lists segments the caller
// could not Stat, since the table is readable by every user, and needs no
// permission on them.
//
// Each SegmentInfo holds what Segment.Stat would return at the same moment:
// the key (IPCPrivate for a private segment or one removed while still
// attached), the permission bits and the Removed and Locked status, the
// owner and creator, the pids, nattch and the three times (zero if never).
// The columns are found by the names on the table's header line, so a kernel
// that adds or reorders columns is read correctly; a table without one of
// the columns SegmentInfo needs is an error. If the kernel has no
// /proc/sysvipc (built without CONFIG_PROC_FS or CONFIG_SYSVIPC) the error
// satisfies errors.Is(err, fs.ErrNotExist).
func ListSegments() ([]SegmentInfo, error) {
	f, err := os.Open(sysvipcShm)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseSysvipcShm(f, sysvipcShm)
}

// sysvipcColumns are the columns of /proc/sysvipc/shm that ListSegments
// reads; the kernel's rss and swap columns, and any it adds later, are
// ignored.
var sysvipcColumns = []string{
	"key", "shmid", "perms", "size", "cpid", "lpid", "nattch",
	"uid", "gid", "cuid", "cgid", "atime", "dtime", "ctime",
}

// parseSysvipcShm parses the table in the format of /proc/sysvipc/shm: a
// header line naming the columns, then one line per segment with as many
// space-separated fields. name is used in errors.
func parseSysvipcShm(r io.Reader, name string) ([]SegmentInfo, error) {
	return parseSysvipc(r, name, sysvipcColumns, func(r *sysvipcRow) SegmentInfo {
		mode := r.perms()
		return SegmentInfo{
			Key:        Key(r.num("key", 32)),
			ID:         int(r.num("shmid", 32)),
			Size:       r.num("size", 64),
			Mode:       fs.FileMode(mode).Perm(),
			Removed:    mode&sysapi.SHM_DEST != 0,
			Locked:     mode&sysapi.SHM_LOCKED != 0,
			UID:        int(r.num("uid", 64)),
			GID:        int(r.num("gid", 64)),
			CUID:       int(r.num("cuid", 64)),
			CGID:       int(r.num("cgid", 64)),
			CPID:       int(r.num("cpid", 64)),
			LPID:       int(r.num("lpid", 64)),
			Nattch:     int(r.num("nattch", 64)),
			AttachTime: unixTime(r.num("atime", 64)),
			DetachTime: unixTime(r.num("dtime", 64)),
			ChangeTime: unixTime(r.num("ctime", 64)),
		}
	}, func(s SegmentInfo) int { return s.ID })
}
