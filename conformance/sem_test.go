package conformance

import (
	"os"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shmmap/shmmap/shmtest"
	"github.com/shmmap/shmmap/sysapi"
	"golang.org/x/sys/unix"
)

// TestSemaphoreCalls: semget, semop, semtimedop and semctl behave as the
// man pages say, identically through libc and through system calls.
func TestSemaphoreCalls(t *testing.T) {
	got := each(t, func(t *testing.T, sys sysapi.Impl) map[string]string {
		o := map[string]string{}
		res := func(name string, v int, err error) {
			if err != nil {
				o[name] = errString(err)
				return
			}
			o[name] = "ok " + itoa(v)
		}
		_, err := sys.Semget(key, 0, 0)
		res("lookup missing", 0, err)
		id, err := sys.Semget(key, 3, unix.IPC_CREAT|unix.IPC_EXCL|0o640)
		if err != nil {
			t.Fatal(err)
		}
		_, err = sys.Semget(key, 3, unix.IPC_CREAT|unix.IPC_EXCL|0o640)
		res("create existing exclusively", 0, err)
		id2, err := sys.Semget(key, 0, 0)
		res("lookup same id", boolInt(id2 == id), err)
		_, err = sys.Semget(key, 5, 0)
		res("lookup asking more semaphores", 0, err)

		v, err := sys.Semctl(id, 1, sysapi.GETVAL, 0)
		res("initial value", v, err)
		_, err = sys.Semctl(id, 1, sysapi.SETVAL, 2)
		res("setval", 0, err)
		_, err = sys.Semctl(id, 1, sysapi.SETVAL, 40000)
		res("setval above SEMVMX", 0, err)
		err = sys.Semop(id, []sysapi.Sembuf{{Num: 1, Op: -1}, {Num: 2, Op: 5, Flg: sysapi.SEM_UNDO}})
		res("semop two at once", 0, err)
		v, err = sys.Semctl(id, 1, sysapi.GETVAL, 0)
		res("value after semop", v, err)
		v, err = sys.Semctl(id, 2, sysapi.GETVAL, 0)
		res("undo value", v, err)
		v, err = sys.Semctl(id, 1, sysapi.GETPID, 0)
		res("pid is ours", boolInt(v == os.Getpid()), err)
		err = sys.Semop(id, []sysapi.Sembuf{{Num: 0, Op: -1, Flg: unix.IPC_NOWAIT}})
		res("nowait on zero", 0, err)
		err = sys.Semtimedop(id, []sysapi.Sembuf{{Num: 0, Op: -1}}, &unix.Timespec{Nsec: 1e6})
		res("timed wait on zero", 0, err)
		err = sys.Semop(id, []sysapi.Sembuf{{Num: 3, Op: 1}})
		res("semop index out of range", 0, err)
		err = sys.Semop(id, nil)
		res("semop no operations", 0, err)
		v, err = sys.Semctl(id, 0, sysapi.GETNCNT, 0)
		res("ncnt", v, err)
		v, err = sys.Semctl(id, 0, sysapi.GETZCNT, 0)
		res("zcnt", v, err)

		var ds sysapi.SemidDS
		err = sys.SemctlStat(id, &ds)
		res("stat", 0, err)
		o["stat fields"] = cmp.Diff(sysapi.SemidDS{Key: key, Uid: uint32(os.Geteuid()), Gid: uint32(os.Getegid()),
			Cuid: uint32(os.Geteuid()), Cgid: uint32(os.Getegid()), Mode: 0o640, Nsems: 3},
			ds, cmp.FilterPath(func(p cmp.Path) bool {
				n := p.Last().String()
				return n == ".Seq" || n == ".Otime" || n == ".Ctime"
			}, cmp.Ignore()))
		o["times set"] = itoa(boolInt(ds.Otime > 0 && ds.Ctime > 0))

		if os.Geteuid() == 0 {
			shmtest.DoUnprivileged(t, func() {
				_, err := sys.Semget(key, 0, 0o400)
				res("nobody lookup asking read", 0, err)
				_, err = sys.Semctl(id, 0, sysapi.GETVAL, 0)
				res("nobody getval", 0, err)
				_, err = sys.Semctl(id, 0, unix.IPC_RMID, 0)
				res("nobody remove", 0, err)
			})
		}
		_, err = sys.Semctl(id, 0, unix.IPC_RMID, 0)
		res("remove", 0, err)
		_, err = sys.Semctl(id, 0, sysapi.GETVAL, 0)
		res("getval after remove", 0, err)
		_, err = sys.Semget(key, 100000, unix.IPC_CREAT|0o600)
		res("create more than SEMMSL", 0, err)
		return o
	})
	want := map[string]string{
		"lookup missing":                errString(unix.ENOENT),
		"create existing exclusively":   errString(unix.EEXIST),
		"lookup same id":                "ok 1",
		"lookup asking more semaphores": errString(unix.EINVAL),
		"initial value":                 "ok 0",
		"setval":                        "ok 0",
		"setval above SEMVMX":           errString(unix.ERANGE),
		"semop two at once":             "ok 0",
		"value after semop":             "ok 1",
		"undo value":                    "ok 5",
		"pid is ours":                   "ok 1",
		"nowait on zero":                errString(unix.EAGAIN),
		"timed wait on zero":            errString(unix.EAGAIN),
		"semop index out of range":      errString(unix.EFBIG),
		"semop no operations":           errString(unix.EINVAL),
		"ncnt":                          "ok 0",
		"zcnt":                          "ok 0",
		"stat":                          "ok 0",
		"stat fields":                   "",
		"times set":                     "1",
		"nobody lookup asking read":     errString(unix.EACCES),
		"nobody getval":                 errString(unix.EACCES),
		"nobody remove":                 errString(unix.EPERM),
		"remove":                        "ok 0",
		"getval after remove":           errString(unix.EINVAL),
		"create more than SEMMSL":       errString(unix.EINVAL),
	}
	if os.Geteuid() != 0 {
		for _, k := range []string{"nobody lookup asking read", "nobody getval", "nobody remove"} {
			delete(want, k)
		}
	}
	for name, o := range got {
		if d := cmp.Diff(want, o); d != "" {
			t.Errorf("%s: semaphore calls differ from the man pages (-want +got):\n%s", name, d)
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func itoa(v int) string { return strconv.Itoa(v) }
