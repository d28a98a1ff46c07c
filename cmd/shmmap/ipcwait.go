package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
)

// waiter is a thread found blocked in a System V call on a semaphore set
// or a message queue.
type waiter struct {
	PID     int    `json:"pid"`
	TID     int    `json:"tid"`
	Command string `json:"command"` // /proc/PID/comm
	Call    string `json:"call"`    // "semop", "semtimedop", "msgsnd" or "msgrcv"
}

// ipcCall is a System V call a thread can wait in, and the id it waits on.
type ipcCall struct {
	name string
	id   int
}

// Linux system call numbers of the calls that wait, by ELF machine (the
// numbers /proc/PID/task/TID/syscall shows are those of the thread's ABI).
const (
	emI386    = 3
	emX8664   = 62
	emAarch64 = 183
)

var waitCalls = map[int]map[int64]string{
	emX8664:   {65: "semop", 220: "semtimedop", 69: "msgsnd", 70: "msgrcv"},
	emAarch64: {193: "semop", 192: "semtimedop", 189: "msgsnd", 188: "msgrcv"},
	// i386: the direct calls (Linux 5.1), semtimedop_time64, and ipc(2).
	emI386: {400: "msgsnd", 401: "msgrcv", 420: "semtimedop", 117: "ipc"},
}

// ipc(2)'s call numbers, in the low 16 bits of its first argument.
var ipcSubcalls = map[int64]string{1: "semop", 4: "semtimedop", 11: "msgsnd", 12: "msgrcv"}

// decodeSyscall reads a line of /proc/PID/task/TID/syscall ("NR ARG1 ...
// ARG6 SP PC", the arguments in hex; "running" or "-1 SP PC" when not in a
// call) for a thread of ELF machine machine, and returns the System V call
// it waits in, if it is one of those that wait.
func decodeSyscall(line string, machine int) (ipcCall, bool) {
	f := strings.Fields(line)
	if len(f) < 3 {
		return ipcCall{}, false
	}
	nr, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil {
		return ipcCall{}, false
	}
	name, ok := waitCalls[machine][nr]
	if !ok {
		return ipcCall{}, false
	}
	arg := func(i int) (int64, bool) {
		v, err := strconv.ParseUint(strings.TrimPrefix(f[1+i], "0x"), 16, 64)
		return int64(v), err == nil
	}
	idArg := 0
	if name == "ipc" {
		call, ok := arg(0)
		if !ok {
			return ipcCall{}, false
		}
		if name, ok = ipcSubcalls[call&0xffff]; !ok {
			return ipcCall{}, false
		}
		idArg = 1
	}
	id, ok := arg(idArg)
	if !ok {
		return ipcCall{}, false
	}
	return ipcCall{name: name, id: int(int32(uint32(id)))}, true
}

// elfMachine returns the ELF e_machine of process pid's executable, or 0
// if it cannot be read.
func elfMachine(pid int) int {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/exe")
	if err != nil {
		return 0
	}
	defer f.Close()
	var h [20]byte
	if _, err := f.ReadAt(h[:], 0); err != nil || string(h[:4]) != "\x7fELF" {
		return 0
	}
	if h[5] == 2 { // big-endian
		return int(binary.BigEndian.Uint16(h[18:]))
	}
	return int(binary.LittleEndian.Uint16(h[18:]))
}

// scanWaiters reads /proc/*/task/*/syscall and returns, by id, the threads
// of the calling thread's IPC namespace blocked in one of calls (semop and
// semtimedop for sets; msgsnd and msgrcv for queues). Only threads whose
// syscall file the user may read are found (it needs the right to ptrace
// the process: root, or the process's own user); a thread in the call but
// not asleep (about to return) may be listed too.
func scanWaiters(calls ...string) map[int][]waiter {
	want := map[string]bool{}
	for _, c := range calls {
		want[c] = true
	}
	self, _ := os.Readlink("/proc/thread-self/ns/ipc")
	dir, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	out := map[int][]waiter{}
	for _, d := range dir {
		pid, err := strconv.Atoi(d.Name())
		if err != nil || pid <= 0 {
			continue
		}
		base := "/proc/" + d.Name() + "/task/"
		tasks, err := os.ReadDir(base)
		if err != nil {
			continue
		}
		machine := -1
		for _, task := range tasks {
			tid, err := strconv.Atoi(task.Name())
			if err != nil {
				continue
			}
			if self != "" {
				if ns, err := os.Readlink(base + task.Name() + "/ns/ipc"); err != nil || ns != self {
					continue
				}
			}
			b, err := os.ReadFile(base + task.Name() + "/syscall")
			if err != nil {
				continue
			}
			if machine < 0 {
				machine = elfMachine(pid)
			}
			c, ok := decodeSyscall(string(b), machine)
			if !ok || !want[c.name] {
				continue
			}
			out[c.id] = append(out[c.id], waiter{PID: pid, TID: tid, Command: comm(pid), Call: c.name})
		}
	}
	for _, ws := range out {
		sort.Slice(ws, func(i, j int) bool {
			if ws[i].PID != ws[j].PID {
				return ws[i].PID < ws[j].PID
			}
			return ws[i].TID < ws[j].TID
		})
	}
	return out
}

// formatWaiters formats waiters for a table cell: "4321 msgpeer msgrcv,
// ...", or "-".
func formatWaiters(ws []waiter) string {
	if len(ws) == 0 {
		return "-"
	}
	parts := make([]string, len(ws))
	for i, w := range ws {
		parts[i] = fmt.Sprintf("%d %s %s", w.PID, w.Command, w.Call)
	}
	return strings.Join(parts, ", ")
}

// describeWaiters names waiters in a message: "pid 4321 (msgpeer, in
// msgrcv)", with the thread when it is not the main one.
func describeWaiters(ws []waiter) string {
	parts := make([]string, len(ws))
	for i, w := range ws {
		if w.TID != w.PID {
			parts[i] = fmt.Sprintf("pid %d thread %d (%s, in %s)", w.PID, w.TID, w.Command, w.Call)
		} else {
			parts[i] = fmt.Sprintf("pid %d (%s, in %s)", w.PID, w.Command, w.Call)
		}
	}
	return strings.Join(parts, ", ")
}

// waiterRows writes the waiters rows of a stat table with row: "-" when
// there are none, else one "PID COMMAND CALL (thread TID)" row each, the
// first labelled waiters.
func waiterRows(row func(name, format string, args ...any), ws []waiter) {
	if len(ws) == 0 {
		row("waiters", "-")
	}
	for i, w := range ws {
		name := ""
		if i == 0 {
			name = "waiters"
		}
		row(name, "%d %s %s (thread %d)", w.PID, w.Command, w.Call, w.TID)
	}
}
