package shmmap

import (
	"io/fs"
	"time"

	"github.com/shmmap/shmmap/sysapi"
)

// SegmentInfo is what IPC_STAT reports about a segment, in Go types.
type SegmentInfo struct {
	Key        Key
	ID         int
	Size       int64       // bytes, as requested at creation
	Mode       fs.FileMode // permission bits
	Removed    bool        // IPC_RMID was called; destroyed at the last detach
	Locked     bool        // SHM_LOCK was called
	UID, GID   int         // owner
	CUID, CGID int         // creator
	CPID       int         // process that created it
	LPID       int         // process that last attached or detached it
	Nattch     int         // current number of attachments
	AttachTime time.Time   // last attach; zero if never
	DetachTime time.Time   // last detach; zero if never
	ChangeTime time.Time   // creation or last IPC_SET
}

// Stat returns the segment's current IPC_STAT information.
func (g *Segment) Stat() (*SegmentInfo, error) {
	ds, err := g.stat()
	if err != nil {
		return nil, err
	}
	return infoFromDS(g.id, ds), nil
}

func infoFromDS(id int, ds sysapi.ShmidDS) *SegmentInfo {
	return &SegmentInfo{
		Key:        Key(ds.Key),
		ID:         id,
		Size:       int64(ds.Segsz),
		Mode:       fs.FileMode(ds.Mode).Perm(),
		Removed:    ds.Mode&sysapi.SHM_DEST != 0,
		Locked:     ds.Mode&sysapi.SHM_LOCKED != 0,
		UID:        int(ds.Uid),
		GID:        int(ds.Gid),
		CUID:       int(ds.Cuid),
		CGID:       int(ds.Cgid),
		CPID:       int(ds.Cpid),
		LPID:       int(ds.Lpid),
		Nattch:     int(ds.Nattch),
		AttachTime: unixTime(ds.Atime),
		DetachTime: unixTime(ds.Dtime),
		ChangeTime: unixTime(ds.Ctime),
	}
}

// unixTime converts seconds since the epoch, with 0 meaning never.
func unixTime(sec int64) time.Time {
	if sec == 0 {
		return time.Time{}
	}
	return time.Unix(sec, 0)
}
