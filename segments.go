package shmmap

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strconv"
	"strings"

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
	sc := bufio.NewScanner(r)
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return nil, &fs.PathError{Op: "read", Path: name, Err: err}
		}
		return nil, fmt.Errorf("shmmap: %s: no header line", name)
	}
	header := strings.Fields(sc.Text())
	col := map[string]int{}
	for i, h := range header {
		col[h] = i
	}
	for _, c := range sysvipcColumns {
		if _, ok := col[c]; !ok {
			return nil, fmt.Errorf("shmmap: %s: no %q column in the header %q", name, c, sc.Text())
		}
	}
	var segs []SegmentInfo
	for line := 2; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		fields := strings.Fields(sc.Text())
		if len(fields) != len(header) {
			return nil, fmt.Errorf("shmmap: %s line %d: %d fields for %d columns: %q", name, line, len(fields), len(header), sc.Text())
		}
		// num parses column c as a decimal integer of the given bit size.
		var bad error
		num := func(c string, bits int) int64 {
			v, err := strconv.ParseInt(fields[col[c]], 10, bits)
			if err != nil && bad == nil {
				bad = fmt.Errorf("shmmap: %s line %d: column %s: %q is not a %d-bit decimal number", name, line, c, fields[col[c]], bits)
			}
			return v
		}
		perms, err := strconv.ParseUint(fields[col["perms"]], 8, 32)
		if err != nil {
			return nil, fmt.Errorf("shmmap: %s line %d: column perms: %q is not an octal mode", name, line, fields[col["perms"]])
		}
		mode := uint32(perms)
		info := SegmentInfo{
			Key:        Key(num("key", 32)),
			ID:         int(num("shmid", 32)),
			Size:       num("size", 64),
			Mode:       fs.FileMode(mode).Perm(),
			Removed:    mode&sysapi.SHM_DEST != 0,
			Locked:     mode&sysapi.SHM_LOCKED != 0,
			UID:        int(num("uid", 64)),
			GID:        int(num("gid", 64)),
			CUID:       int(num("cuid", 64)),
			CGID:       int(num("cgid", 64)),
			CPID:       int(num("cpid", 64)),
			LPID:       int(num("lpid", 64)),
			Nattch:     int(num("nattch", 64)),
			AttachTime: unixTime(num("atime", 64)),
			DetachTime: unixTime(num("dtime", 64)),
			ChangeTime: unixTime(num("ctime", 64)),
		}
		if bad != nil {
			return nil, bad
		}
		segs = append(segs, info)
	}
	if err := sc.Err(); err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	sort.Slice(segs, func(i, j int) bool { return segs[i].ID < segs[j].ID })
	return segs, nil
}
