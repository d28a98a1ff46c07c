package main

import (
	"os"
	"os/user"
	"sort"
	"strconv"
	"strings"

	"github.com/shmmap/shmmap"
	"github.com/shmmap/shmmap/procmaps"
)

// holder is a process found with a segment attached.
type holder struct {
	PID     int    `json:"pid"`
	Command string `json:"command"` // /proc/PID/comm
	Access  string `json:"access"`  // "rw", "r", "w" or "-"
}

// attachment is one System V mapping found in a process.
type attachment struct {
	shmid int
	key   shmmap.Key // from the mapping's name: the key at creation
	holder
}

// scanAttachments reads /proc/*/maps and returns every System V segment
// attached in a process of the calling process's IPC namespace whose maps
// may be read, one entry per process, segment and access. Shmids are only
// unique within an IPC namespace, so processes of other namespaces are left
// out: a process belongs to this one if any of its threads does (the tests
// of this module enter a namespace on one thread only). Processes that
// cannot be read, or exit meanwhile, are skipped.
func scanAttachments() []attachment {
	self, _ := os.Readlink("/proc/thread-self/ns/ipc")
	dir, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var atts []attachment
	for _, d := range dir {
		pid, err := strconv.Atoi(d.Name())
		if err != nil || pid <= 0 {
			continue
		}
		if self != "" && !inNamespace(pid, self) {
			continue
		}
		maps, err := procmaps.ReadPID(pid)
		if err != nil {
			continue
		}
		seen := map[attachment]bool{}
		for _, m := range maps {
			key, shmid, ok := m.SysV()
			if !ok {
				continue
			}
			a := attachment{shmid: shmid, key: shmmap.Key(key), holder: holder{PID: pid, Access: access(m.Perms)}}
			if seen[a] {
				continue
			}
			seen[a] = true
			a.Command = comm(pid)
			atts = append(atts, a)
		}
	}
	sort.Slice(atts, func(i, j int) bool {
		if atts[i].PID != atts[j].PID {
			return atts[i].PID < atts[j].PID
		}
		return atts[i].Access > atts[j].Access
	})
	return atts
}

// inNamespace reports whether a thread of process pid is in the IPC
// namespace ns (a /proc/*/ns/ipc link).
func inNamespace(pid int, ns string) bool {
	base := "/proc/" + strconv.Itoa(pid)
	if l, err := os.Readlink(base + "/ns/ipc"); err == nil && l == ns {
		return true
	}
	tasks, err := os.ReadDir(base + "/task")
	if err != nil {
		return false
	}
	for _, t := range tasks {
		if l, err := os.Readlink(base + "/task/" + t.Name() + "/ns/ipc"); err == nil && l == ns {
			return true
		}
	}
	return false
}

// holdersOf returns the processes in atts attached to the segment seg. A
// segment's key is checked against the one in the mapping's name, unless
// the segment is private or removed (its key is then 0, its name keeps the
// old key).
func holdersOf(atts []attachment, seg *shmmap.SegmentInfo) []holder {
	hs := []holder{}
	for _, a := range atts {
		if a.shmid == seg.ID && (seg.Key == shmmap.IPCPrivate || a.key == seg.Key) {
			hs = append(hs, a.holder)
		}
	}
	return hs
}

// access is how a mapping may be used: "rw", "r", "w", or "-" for neither.
func access(p procmaps.Perms) string {
	switch {
	case p.Read && p.Write:
		return "rw"
	case p.Read:
		return "r"
	case p.Write:
		return "w"
	}
	return "-"
}

// comm returns the command name of process pid (/proc/PID/comm), or "?"
// if it cannot be read.
func comm(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	if err != nil {
		return "?"
	}
	return strings.TrimSuffix(string(b), "\n")
}

// formatHolders formats holders for a table cell: "4321 c-writer rw,
// 4400 reader r", or "-" if there are none.
func formatHolders(hs []holder) string {
	if len(hs) == 0 {
		return "-"
	}
	parts := make([]string, len(hs))
	for i, h := range hs {
		parts[i] = strconv.Itoa(h.PID) + " " + h.Command + " " + h.Access
	}
	return strings.Join(parts, ", ")
}

// names caches user and group names.
var (
	userNames  = map[int]string{}
	groupNames = map[int]string{}
)

// userName returns the name of uid, or uid in decimal if it has none, as
// ipcs prints owners.
func userName(uid int) string {
	if n, ok := userNames[uid]; ok {
		return n
	}
	n := strconv.Itoa(uid)
	if u, err := user.LookupId(n); err == nil {
		n = u.Username
	}
	userNames[uid] = n
	return n
}

// groupName returns the name of gid, or gid in decimal if it has none.
func groupName(gid int) string {
	if n, ok := groupNames[gid]; ok {
		return n
	}
	n := strconv.Itoa(gid)
	if g, err := user.LookupGroupId(n); err == nil {
		n = g.Name
	}
	groupNames[gid] = n
	return n
}
