package purego

import (
	"math"

	"github.com/shmmap/shmmap/sysapi"
	"golang.org/x/sys/unix"
)

// msqidDS is the 32-bit struct msqid64_ds (the generic one, which i386
// uses): each time is split into a low and a high 32-bit word, and the
// counters are 32-bit unsigned longs.
type msqidDS struct {
	Perm      unix.SysvIpcPerm
	Stime     uint32
	StimeHigh uint32
	Rtime     uint32
	RtimeHigh uint32
	Ctime     uint32
	CtimeHigh uint32
	Cbytes    uint32
	Qnum      uint32
	Qbytes    uint32
	Lspid     int32
	Lrpid     int32
	_         [2]uint32
}

// decode fills the fields of desc that follow msg_perm.
func (ds *msqidDS) decode(desc *sysapi.MsqidDS) {
	join := func(lo, hi uint32) int64 { return int64(uint64(hi)<<32 | uint64(lo)) }
	desc.Stime = join(ds.Stime, ds.StimeHigh)
	desc.Rtime = join(ds.Rtime, ds.RtimeHigh)
	desc.Ctime = join(ds.Ctime, ds.CtimeHigh)
	desc.Cbytes = uint64(ds.Cbytes)
	desc.Qnum = uint64(ds.Qnum)
	desc.Qbytes = uint64(ds.Qbytes)
	desc.Lspid = ds.Lspid
	desc.Lrpid = ds.Lrpid
}

// setQbytes sets msg_qbytes for IPC_SET, reporting whether q fits in the
// 32-bit unsigned long.
func (ds *msqidDS) setQbytes(q uint64) bool {
	if q > math.MaxUint32 {
		return false
	}
	ds.Qbytes = uint32(q)
	return true
}
