package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/shmmap/shmmap"
)

// segmentJSON is a segment as ls --json and stat --json print it; the field
// names are documented in the package comment and must not change.
type segmentJSON struct {
	Key      string   `json:"key"`
	Shmid    int      `json:"shmid"`
	Owner    string   `json:"owner"`
	Group    string   `json:"group"`
	UID      int      `json:"uid"`
	GID      int      `json:"gid"`
	CUID     int      `json:"cuid"`
	CGID     int      `json:"cgid"`
	Mode     string   `json:"mode"`
	Size     int64    `json:"size"`
	Nattch   int      `json:"nattch"`
	CPID     int      `json:"cpid"`
	LPID     int      `json:"lpid"`
	Atime    *string  `json:"atime"`
	Dtime    *string  `json:"dtime"`
	Ctime    *string  `json:"ctime"`
	Removed  bool     `json:"removed"`
	Locked   bool     `json:"locked"`
	Attached []holder `json:"attached"`
}

// segmentView joins what the kernel says of a segment and who was found
// attached to it.
type segmentView struct {
	info    shmmap.SegmentInfo
	holders []holder
}

// json returns v in its JSON form.
func (v segmentView) json() segmentJSON {
	in := v.info
	return segmentJSON{
		Key: in.Key.String(), Shmid: in.ID,
		Owner: userName(in.UID), Group: groupName(in.GID),
		UID: in.UID, GID: in.GID, CUID: in.CUID, CGID: in.CGID,
		Mode: octalMode(uint32(in.Mode.Perm())), Size: in.Size, Nattch: in.Nattch,
		CPID: in.CPID, LPID: in.LPID,
		Atime: jsonTime(in.AttachTime), Dtime: jsonTime(in.DetachTime), Ctime: jsonTime(in.ChangeTime),
		Removed: in.Removed, Locked: in.Locked,
		Attached: v.holders,
	}
}

// status is the segment's status as ipcs prints it: "dest", "locked", both,
// or "-".
func (v segmentView) status() string {
	var s []string
	if v.info.Removed {
		s = append(s, "dest")
	}
	if v.info.Locked {
		s = append(s, "locked")
	}
	if len(s) == 0 {
		return "-"
	}
	return strings.Join(s, ",")
}

// octalMode formats permission bits as four octal digits, "0600".
func octalMode(perm uint32) string { return fmt.Sprintf("%04o", perm) }

// jsonTime is t in RFC 3339, or nil for the zero time (never).
func jsonTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.Format(time.RFC3339)
	return &s
}

// textTime is t for a table, in local time, or "-" for never.
func textTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Format(time.DateTime)
}

// writeJSON prints v as indented JSON and a newline.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
