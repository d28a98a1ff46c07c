package sysapi

// MsqidDS is struct msqid_ds (with its struct ipc_perm flattened) in
// architecture-independent Go types, as filled by msgctl(IPC_STAT),
// msgctl(MSG_STAT) and msgctl(MSG_STAT_ANY). msgctl(IPC_SET) reads Uid,
// Gid, Mode (its permission bits) and Qbytes from it and ignores the rest.
type MsqidDS struct {
	Key    int32  // msg_perm.__key
	Uid    uint32 // msg_perm.uid: owner
	Gid    uint32 // msg_perm.gid: owner's group
	Cuid   uint32 // msg_perm.cuid: creator
	Cgid   uint32 // msg_perm.cgid: creator's group
	Mode   uint32 // msg_perm.mode: permission bits
	Seq    uint16 // msg_perm.__seq
	Stime  int64  // msg_stime: last msgsnd, seconds since the epoch (0: never)
	Rtime  int64  // msg_rtime: last msgrcv (0: never)
	Ctime  int64  // msg_ctime: creation or last IPC_SET
	Cbytes uint64 // __msg_cbytes: bytes of message text in the queue
	Qnum   uint64 // msg_qnum: messages in the queue
	Qbytes uint64 // msg_qbytes: most bytes of message text the queue holds
	Lspid  int32  // msg_lspid: pid of the last msgsnd
	Lrpid  int32  // msg_lrpid: pid of the last msgrcv
}

// Msginfo is struct msginfo, the limits and usage that msgctl(IPC_INFO)
// and msgctl(MSG_INFO) report. Its layout is the C one (seven ints and an
// unsigned short on every architecture).
type Msginfo struct {
	Msgpool int32  // IPC_INFO: size of the message pool in KiB (unused); MSG_INFO: queues in use
	Msgmap  int32  // IPC_INFO: MSGMAP (unused); MSG_INFO: messages in all queues
	Msgmax  int32  // largest message, in bytes: msgsnd of more is EINVAL (/proc/sys/kernel/msgmax)
	Msgmnb  int32  // default msg_qbytes of a new queue (/proc/sys/kernel/msgmnb)
	Msgmni  int32  // most queues (/proc/sys/kernel/msgmni)
	Msgssz  int32  // message segment size (unused)
	Msgtql  int32  // IPC_INFO: MSGTQL (unused); MSG_INFO: bytes in all queues
	Msgseg  uint16 // MSGSEG, the number of message segments (unused)
}

// msgrcv flags and msgctl commands from <linux/msg.h> and <linux/ipc.h>,
// which golang.org/x/sys/unix does not define. IPC_NOWAIT is unix.IPC_NOWAIT.
const (
	MSG_NOERROR = 0o10000 // msgrcv: truncate a message longer than the buffer instead of failing with E2BIG
	MSG_EXCEPT  = 0o20000 // msgrcv with msgtyp > 0: the first message whose type is not msgtyp
	// MSG_COPY makes msgrcv copy the message at index msgtyp of the queue
	// (0 is the first) without removing it. It needs IPC_NOWAIT, excludes
	// MSG_EXCEPT (EINVAL otherwise), and a kernel built with
	// CONFIG_CHECKPOINT_RESTORE (ENOSYS otherwise).
	MSG_COPY = 0o40000

	IPC_INFO     = 3  // msgctl: the limits, in a Msginfo; returns the highest index in use
	MSG_STAT     = 11 // msgctl: IPC_STAT of the queue at an index (0 to IPC_INFO's result); returns its id
	MSG_INFO     = 12 // msgctl: IPC_INFO with current usage in Msgpool, Msgmap and Msgtql
	MSG_STAT_ANY = 13 // msgctl: MSG_STAT without the read permission check (Linux 4.17)
)
