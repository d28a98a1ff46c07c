package shmmap

import (
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/shmmap/shmmap/sysapi"
	"golang.org/x/sys/unix"
)

// QueueInfo is what IPC_STAT reports about a System V message queue, in Go
// types.
type QueueInfo struct {
	Key        Key
	ID         int
	Mode       fs.FileMode // permission bits
	UID, GID   int         // owner
	CUID, CGID int         // creator
	Qnum       int64       // messages in the queue
	Cbytes     int64       // bytes of message text in the queue
	Qbytes     int64       // most bytes of message text the queue holds (msg_qbytes); -1 if not known (see ListQueues)
	Lspid      int         // process that sent last; 0 if none
	Lrpid      int         // process that received last; 0 if none
	Stime      time.Time   // last msgsnd; zero if never
	Rtime      time.Time   // last msgrcv; zero if never
	Ctime      time.Time   // creation or last IPC_SET
}

// queueInfoFromDS converts msgctl(IPC_STAT)'s answer for queue id.
func queueInfoFromDS(id int, ds *sysapi.MsqidDS) *QueueInfo {
	return &QueueInfo{
		Key:    Key(ds.Key),
		ID:     id,
		Mode:   fs.FileMode(ds.Mode).Perm(),
		UID:    int(ds.Uid),
		GID:    int(ds.Gid),
		CUID:   int(ds.Cuid),
		CGID:   int(ds.Cgid),
		Qnum:   int64(ds.Qnum),
		Cbytes: int64(ds.Cbytes),
		Qbytes: int64(ds.Qbytes),
		Lspid:  int(ds.Lspid),
		Lrpid:  int(ds.Lrpid),
		Stime:  unixTime(ds.Stime),
		Rtime:  unixTime(ds.Rtime),
		Ctime:  unixTime(ds.Ctime),
	}
}

// sysvipcMsg is the kernel's table of System V message queues.
const sysvipcMsg = "/proc/sysvipc/msg"

// ListQueues returns every System V message queue of the calling thread's
// IPC namespace, sorted by ID, as the kernel lists them in
// /proc/sysvipc/msg (the table ipcs -q reads). Like ListSegments it lists
// queues the caller could not Stat, since the table is readable by every
// user.
//
// Each QueueInfo holds what Queue.Stat would return at the same moment,
// except Qbytes, which the table lacks: ListQueues asks msgctl(MSG_STAT_ANY)
// for it (Linux 4.17 and later, any user), falling back to IPC_STAT, and
// sets it to -1 for a queue neither will tell the caller about. The columns
// are found by the names on the table's header line; a table without one
// of the columns QueueInfo needs is an error. If the kernel has no
// /proc/sysvipc the error satisfies errors.Is(err, fs.ErrNotExist).
func ListQueues() ([]QueueInfo, error) { return Default.ListQueues() }

// ListQueues is ListQueues with the msgctl calls (for Qbytes) through s's
// implementation.
func (s *System) ListQueues() ([]QueueInfo, error) {
	f, err := os.Open(sysvipcMsg)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	qs, err := parseSysvipcMsg(f, sysvipcMsg)
	if err != nil {
		return nil, err
	}
	s.fillQbytes(qs)
	return qs, nil
}

// fillQbytes sets each queue's Qbytes from msgctl(MSG_STAT_ANY), walking
// the kernel's indexes, or IPC_STAT by id for queues that walk missed; -1
// where neither answers.
func (s *System) fillQbytes(qs []QueueInfo) {
	if len(qs) == 0 {
		return
	}
	qbytes := map[int]int64{}
	var info sysapi.Msginfo
	if maxIndex, err := s.impl.MsgctlInfo(sysapi.IPC_INFO, &info); err == nil {
		for i := 0; i <= maxIndex; i++ {
			var ds sysapi.MsqidDS
			// An unused index, or a kernel without MSG_STAT_ANY, is
			// EINVAL: IPC_STAT below fills what this walk misses.
			if id, err := s.impl.Msgctl(i, sysapi.MSG_STAT_ANY, &ds); err == nil {
				qbytes[id] = int64(ds.Qbytes)
			}
		}
	}
	for i := range qs {
		if b, ok := qbytes[qs[i].ID]; ok {
			qs[i].Qbytes = b
			continue
		}
		var ds sysapi.MsqidDS
		if _, err := s.impl.Msgctl(qs[i].ID, unix.IPC_STAT, &ds); err == nil {
			qs[i].Qbytes = int64(ds.Qbytes)
		} else {
			qs[i].Qbytes = -1
		}
	}
}

// sysvipcMsgColumns are the columns of /proc/sysvipc/msg that ListQueues
// reads; any the kernel adds later are ignored.
var sysvipcMsgColumns = []string{
	"key", "msqid", "perms", "cbytes", "qnum", "lspid", "lrpid",
	"uid", "gid", "cuid", "cgid", "stime", "rtime", "ctime",
}

// parseSysvipcMsg parses a table in the format of /proc/sysvipc/msg: a
// header line naming the columns, then one line per queue. name is used in
// errors. Qbytes is left at -1.
func parseSysvipcMsg(r io.Reader, name string) ([]QueueInfo, error) {
	return parseSysvipc(r, name, sysvipcMsgColumns, func(r *sysvipcRow) QueueInfo {
		return QueueInfo{
			Key:    Key(r.num("key", 32)),
			ID:     int(r.num("msqid", 32)),
			Mode:   fs.FileMode(r.perms()).Perm(),
			UID:    int(r.num("uid", 64)),
			GID:    int(r.num("gid", 64)),
			CUID:   int(r.num("cuid", 64)),
			CGID:   int(r.num("cgid", 64)),
			Qnum:   r.num("qnum", 64),
			Cbytes: r.num("cbytes", 64),
			Qbytes: -1,
			Lspid:  int(r.num("lspid", 64)),
			Lrpid:  int(r.num("lrpid", 64)),
			Stime:  unixTime(r.num("stime", 64)),
			Rtime:  unixTime(r.num("rtime", 64)),
			Ctime:  unixTime(r.num("ctime", 64)),
		}
	}, func(q QueueInfo) int { return q.ID })
}
