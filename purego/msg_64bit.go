//go:build amd64 || arm64 || riscv64 || ppc64 || ppc64le || s390x || loong64 || mips64 || mips64le

package purego

import (
	"github.com/shmmap/shmmap/sysapi"
	"golang.org/x/sys/unix"
)

// msqidDS is the 64-bit struct msqid64_ds, the same on every 64-bit
// architecture (x86-64 included, unlike semid64_ds): times and counters
// are longs, then the two pids.
type msqidDS struct {
	Perm   unix.SysvIpcPerm
	Stime  int64
	Rtime  int64
	Ctime  int64
	Cbytes uint64
	Qnum   uint64
	Qbytes uint64
	Lspid  int32
	Lrpid  int32
	_      [2]uint64
}

// decode fills the fields of desc that follow msg_perm.
func (ds *msqidDS) decode(desc *sysapi.MsqidDS) {
	desc.Stime = ds.Stime
	desc.Rtime = ds.Rtime
	desc.Ctime = ds.Ctime
	desc.Cbytes = ds.Cbytes
	desc.Qnum = ds.Qnum
	desc.Qbytes = ds.Qbytes
	desc.Lspid = ds.Lspid
	desc.Lrpid = ds.Lrpid
}

// setQbytes sets msg_qbytes for IPC_SET; every value fits.
func (ds *msqidDS) setQbytes(q uint64) bool {
	ds.Qbytes = q
	return true
}
