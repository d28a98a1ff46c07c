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
)

// sysvipcSem is the kernel's table of System V semaphore sets.
const sysvipcSem = "/proc/sysvipc/sem"

// ListSemaphoreSets returns every System V semaphore set of the calling
// thread's IPC namespace, sorted by ID, as the kernel lists them in
// /proc/sysvipc/sem (the table ipcs -s reads). Like ListSegments it lists
// sets the caller could not Stat, since the table is readable by every
// user, and needs no permission on them.
//
// Each SemaphoreInfo holds what SemaphoreSet.Stat would return at the same
// moment: key (IPCPrivate for a private set), ID, the number of semaphores
// (Len), the permission bits, owner and creator, and the times of the last
// semop and the last change (OpTime is zero if no semop was ever done).
// The columns are found by the names on the table's header line, so a
// kernel that adds or reorders columns is read correctly; a table without
// one of the columns SemaphoreInfo needs is an error. If the kernel has no
// /proc/sysvipc the error satisfies errors.Is(err, fs.ErrNotExist).
func ListSemaphoreSets() ([]SemaphoreInfo, error) {
	f, err := os.Open(sysvipcSem)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseSysvipcSem(f, sysvipcSem)
}

// sysvipcSemColumns are the columns of /proc/sysvipc/sem that
// ListSemaphoreSets reads; any the kernel adds later are ignored.
var sysvipcSemColumns = []string{
	"key", "semid", "perms", "nsems", "uid", "gid", "cuid", "cgid", "otime", "ctime",
}

// parseSysvipcSem parses a table in the format of /proc/sysvipc/sem: a
// header line naming the columns, then one line per set with as many
// space-separated fields. name is used in errors.
func parseSysvipcSem(r io.Reader, name string) ([]SemaphoreInfo, error) {
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
	for _, c := range sysvipcSemColumns {
		if _, ok := col[c]; !ok {
			return nil, fmt.Errorf("shmmap: %s: no %q column in the header %q", name, c, sc.Text())
		}
	}
	var sets []SemaphoreInfo
	for line := 2; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		fields := strings.Fields(sc.Text())
		if len(fields) != len(header) {
			return nil, fmt.Errorf("shmmap: %s line %d: %d fields for %d columns: %q", name, line, len(fields), len(header), sc.Text())
		}
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
		info := SemaphoreInfo{
			Key:        Key(num("key", 32)),
			ID:         int(num("semid", 32)),
			Len:        int(num("nsems", 32)),
			Mode:       fs.FileMode(perms).Perm(),
			UID:        int(num("uid", 64)),
			GID:        int(num("gid", 64)),
			CUID:       int(num("cuid", 64)),
			CGID:       int(num("cgid", 64)),
			OpTime:     unixTime(num("otime", 64)),
			ChangeTime: unixTime(num("ctime", 64)),
		}
		if bad != nil {
			return nil, bad
		}
		sets = append(sets, info)
	}
	if err := sc.Err(); err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	sort.Slice(sets, func(i, j int) bool { return sets[i].ID < sets[j].ID })
	return sets, nil
}
