package shmmap

import (
	"io"
	"io/fs"
	"os"
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
	return parseSysvipc(r, name, sysvipcSemColumns, func(r *sysvipcRow) SemaphoreInfo {
		return SemaphoreInfo{
			Key:        Key(r.num("key", 32)),
			ID:         int(r.num("semid", 32)),
			Len:        int(r.num("nsems", 32)),
			Mode:       fs.FileMode(r.perms()).Perm(),
			UID:        int(r.num("uid", 64)),
			GID:        int(r.num("gid", 64)),
			CUID:       int(r.num("cuid", 64)),
			CGID:       int(r.num("cgid", 64)),
			OpTime:     unixTime(r.num("otime", 64)),
			ChangeTime: unixTime(r.num("ctime", 64)),
		}
	}, func(s SemaphoreInfo) int { return s.ID })
}
