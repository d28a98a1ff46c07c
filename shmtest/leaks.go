package shmtest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// devShm is where glibc's shm_open and sem_open make their files.
const devShm = "/dev/shm"

// NoLeaks makes the test fail if it leaves System V IPC objects or POSIX
// shared memory behind. Call it at the start of the test, after Isolate if
// the test isolates itself, and from the test's goroutine. It lists
//
//   - System V shared memory segments (/proc/sysvipc/shm),
//   - System V semaphore sets (/proc/sysvipc/sem),
//   - System V message queues (/proc/sysvipc/msg),
//   - the entries of /dev/shm (POSIX shared memory and named semaphores),
//
// and registers a cleanup that lists them again and fails the test
// (t.Errorf) naming each one that was not there at the start: its kind, key
// (0x%08x) and id, its size or number of semaphores or messages, its mode,
// owner and, where the kernel records one, the pid of the process that
// created or last used it; for /dev/shm, the path and size.
//
// Cleanups run last-registered first, so calling NoLeaks first makes its
// check run after every cleanup the test registers later (the ones Start
// registers to kill its processes, and the test's own removals): a
// segment the test removes in a cleanup is not a leak. A killed process
// detaches its segments but does not remove them; that is a leak.
//
// The System V lists are those of the calling thread's IPC namespace, and
// /dev/shm is the one the calling thread sees, both read again by the
// cleanup on the same goroutine: after Isolate, the test's own namespace
// and its private /dev/shm, where nothing else runs. Without Isolate they
// are the machine's: a test running in parallel (t.Parallel, another
// package's test binary, any program) may make an object during this test
// and get it blamed on this one. Where Isolate could not give the test a
// /dev/shm of its own (Namespace.PrivateDevShm), /dev/shm is the machine's
// too, and a /dev/shm entry NoLeaks blames may belong to another test:
// give POSIX objects names unique to the test there. In either case only
// what appeared during the test and was not there at its start counts.
func NoLeaks(t testing.TB) {
	t.Helper()
	ns, err := threadNamespace()
	if err != nil {
		t.Fatalf("shmtest.NoLeaks: %v", err)
	}
	shmDev, err := devShmDevice()
	if err != nil {
		t.Fatalf("shmtest.NoLeaks: %v", err)
	}
	_, private := isolated.Load(ns)
	_, privateShm := privateDevShms.Load(shmDev)
	before, err := listIPC()
	if err != nil {
		t.Fatalf("shmtest.NoLeaks: %v", err)
	}
	t.Cleanup(func() {
		t.Helper() // report the line that called NoLeaks
		now, err := threadNamespace()
		if err != nil {
			t.Errorf("shmtest.NoLeaks: %v", err)
			return
		}
		if now != ns {
			t.Errorf("shmtest.NoLeaks: the check runs in IPC namespace ipc:[%d], the start was in ipc:[%d]: "+
				"call NoLeaks from the test's goroutine, after Isolate", now, ns)
			return
		}
		nowDev, err := devShmDevice()
		if err != nil {
			t.Errorf("shmtest.NoLeaks: %v", err)
			return
		}
		if nowDev != shmDev {
			t.Errorf("shmtest.NoLeaks: the check sees another /dev/shm (device %#x) than the start did (device %#x): "+
				"call NoLeaks from the test's goroutine, after Isolate", nowDev, shmDev)
			return
		}
		after, err := listIPC()
		if err != nil {
			t.Errorf("shmtest.NoLeaks: %v", err)
			return
		}
		var leaks []ipcObject
		for id, o := range after {
			if _, ok := before[id]; !ok {
				leaks = append(leaks, o)
			}
		}
		if len(leaks) == 0 {
			return
		}
		slices.SortFunc(leaks, func(a, b ipcObject) int { return strings.Compare(a.id, b.id) })
		var b strings.Builder
		fmt.Fprintf(&b, "shmtest.NoLeaks: the test left %d IPC object%s behind:", len(leaks), plural(len(leaks)))
		for _, o := range leaks {
			b.WriteString("\n  " + o.desc)
		}
		b.WriteString("\n(Remove what the test makes in a t.Cleanup registered right after making it, so that a failing test removes it too.")
		sysv, posix := false, false
		for _, o := range leaks {
			if strings.HasPrefix(o.id, devShm) {
				posix = true
			} else {
				sysv = true
			}
		}
		if sysv && !private {
			b.WriteString(" This test was not isolated, so a test or program running at the same time may have made the System V objects: shmtest.Isolate gives a test an IPC namespace of its own.")
		}
		if posix && !privateShm {
			b.WriteString(" This test's /dev/shm was the machine's, so a test running at the same time may have made the /dev/shm entries: give them names unique to the test (shmtest.Isolate gives a test a /dev/shm of its own where it can mount one).")
		}
		b.WriteString(")")
		t.Errorf("%s", b.String())
	})
}

// ipcObject is one System V object or /dev/shm entry.
type ipcObject struct {
	id   string // unique within a listing: "shm 5", "sem 2", "msg 0", "/dev/shm/x"
	desc string
}

// listIPC lists the System V objects of the calling thread's namespace and
// the entries of /dev/shm.
func listIPC() (map[string]ipcObject, error) {
	all := map[string]ipcObject{}
	lists := []struct {
		kind, file string
		describe   func(row map[string]string) (id, desc string)
	}{
		{"shm", "/proc/sysvipc/shm", func(r map[string]string) (string, string) {
			return r["shmid"], fmt.Sprintf("System V shared memory segment: key %s, shmid %s, %s bytes, mode %s, uid %s, nattch %s, created by pid %s, last used by pid %s",
				hexKey(r["key"]), r["shmid"], r["size"], mode(r["perms"]), r["uid"], r["nattch"], r["cpid"], r["lpid"])
		}},
		{"sem", "/proc/sysvipc/sem", func(r map[string]string) (string, string) {
			return r["semid"], fmt.Sprintf("System V semaphore set: key %s, semid %s, %s semaphore%s, mode %s, uid %s",
				hexKey(r["key"]), r["semid"], r["nsems"], pluralS(r["nsems"]), mode(r["perms"]), r["uid"])
		}},
		{"msg", "/proc/sysvipc/msg", func(r map[string]string) (string, string) {
			return r["msqid"], fmt.Sprintf("System V message queue: key %s, msqid %s, %s message%s (%s bytes), mode %s, uid %s, last sent by pid %s, last received by pid %s",
				hexKey(r["key"]), r["msqid"], r["qnum"], pluralS(r["qnum"]), r["cbytes"], mode(r["perms"]), r["uid"], r["lspid"], r["lrpid"])
		}},
	}
	for _, l := range lists {
		rows, err := readTable(l.file)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			id, desc := l.describe(r)
			all[l.kind+" "+id] = ipcObject{id: l.kind + " " + id, desc: desc}
		}
	}
	entries, err := os.ReadDir(devShm)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	for _, e := range entries {
		path := filepath.Join(devShm, e.Name())
		kind := "POSIX shared memory object"
		if strings.HasPrefix(e.Name(), "sem.") {
			kind = "POSIX named semaphore"
		}
		if e.IsDir() {
			kind = "directory in /dev/shm"
		}
		desc := fmt.Sprintf("%s: %s", kind, path)
		if fi, err := e.Info(); err == nil {
			desc += fmt.Sprintf(", %d bytes, mode %04o", fi.Size(), fi.Mode().Perm())
			if st, ok := fi.Sys().(*syscall.Stat_t); ok {
				desc += fmt.Sprintf(", uid %d", st.Uid)
			}
		}
		all[path] = ipcObject{id: path, desc: desc}
	}
	return all, nil
}

// readTable reads one of the /proc/sysvipc tables into rows keyed by the
// header's column names. A missing file (a kernel without System V IPC)
// has no rows.
func readTable(file string) ([]map[string]string, error) {
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	if !sc.Scan() {
		return nil, nil
	}
	header := strings.Fields(sc.Text())
	var rows []map[string]string
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) < len(header) {
			return nil, fmt.Errorf("%s: unexpected line %q", file, sc.Text())
		}
		row := make(map[string]string, len(header))
		for i, h := range header {
			row[h] = f[i]
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// hexKey formats a key /proc prints in decimal (signed) as 0x%08x.
func hexKey(s string) string {
	k, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return s
	}
	return fmt.Sprintf("0x%08x", uint32(k))
}

// mode formats the perms column (octal, such as 600 or 1600) as 0600.
func mode(s string) string {
	m, err := strconv.ParseUint(s, 8, 32)
	if err != nil {
		return s
	}
	return fmt.Sprintf("%04o", m&0o777)
}

func pluralS(n string) string {
	if n == "1" {
		return ""
	}
	return "s"
}
