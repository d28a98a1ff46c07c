package purego_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shmmap/shmmap/purego"
	"github.com/shmmap/shmmap/sysapi"
	"golang.org/x/sys/unix"
)

// privateQueue returns a new System V queue, removed when the test ends.
func privateQueue(t *testing.T) int {
	t.Helper()
	id, err := purego.Msgget(unix.IPC_PRIVATE, unix.IPC_CREAT|0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { purego.Msgctl(id, unix.IPC_RMID, nil) })
	return id
}

// TestMsgNoAllocs: a send and a receive of a short text (in a struct
// msgbuf on the stack) or a long one (pooled) allocate nothing, and
// neither does an mq_send and mq_receive pair. (Under the race detector the
// pool drops buffers at random: the pooled size is not checked there.)
func TestMsgNoAllocs(t *testing.T) {
	id := privateQueue(t)
	for _, size := range []int{64, 4000} {
		msg, buf := bytes.Repeat([]byte{7}, size), make([]byte, size)
		purego.Msgsnd(id, 1, msg, 0) // warm the pool
		purego.Msgrcv(id, buf, 0, 0)
		allocs := testing.AllocsPerRun(100, func() {
			if err := purego.Msgsnd(id, 3, msg, 0); err != nil {
				t.Fatal(err)
			}
			if typ, n, err := purego.Msgrcv(id, buf, 0, 0); err != nil || typ != 3 || n != size {
				t.Fatalf("Msgrcv: %d, %d, %v", typ, n, err)
			}
		})
		if allocs != 0 && !(raceEnabled && size > 256) {
			t.Errorf("Msgsnd+Msgrcv of %d bytes: %v allocations, want 0", size, allocs)
		}
	}

	name := fmt.Sprintf("/purego-allocs-%d", os.Getpid())
	mqd, err := purego.MqOpen(name, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL, 0o600, &sysapi.MqAttr{Maxmsg: 2, Msgsize: 64})
	if err != nil {
		t.Skipf("mq_open: %v", err) // no mqueue support in this kernel
	}
	defer purego.MqUnlink(name)
	defer purego.Close(mqd)
	msg, buf := make([]byte, 64), make([]byte, 64)
	allocs := testing.AllocsPerRun(100, func() {
		if err := purego.MqTimedsend(mqd, msg, 1, nil); err != nil {
			t.Fatal(err)
		}
		if n, prio, err := purego.MqTimedreceive(mqd, buf, nil); err != nil || n != 64 || prio != 1 {
			t.Fatalf("MqTimedreceive: %d, %d, %v", n, prio, err)
		}
	})
	if allocs != 0 {
		t.Errorf("MqTimedsend+MqTimedreceive: %v allocations, want 0", allocs)
	}
}

// TestMsgrcvWaits: a Msgrcv that must wait (its IPC_NOWAIT attempt finds
// no match) is asleep in the kernel until a matching message comes, and
// then takes that message, not an earlier one it does not match
// (MSG_EXCEPT); the same for a Msgsnd waiting on a full queue, and for a
// long text (the pooled buffer).
func TestMsgrcvWaits(t *testing.T) {
	for _, size := range []int{5, 300} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			id := privateQueue(t)
			text := bytes.Repeat([]byte{'w'}, size)
			if err := purego.Msgsnd(id, 4, []byte("four"), unix.IPC_NOWAIT); err != nil {
				t.Fatal(err)
			}
			type result struct {
				typ  int64
				text string
				err  error
			}
			got := make(chan result, 1)
			go func() {
				buf := make([]byte, 512)
				typ, n, err := purego.Msgrcv(id, buf, 4, sysapi.MSG_EXCEPT)
				got <- result{typ, string(buf[:max(n, 0)]), err}
			}()
			waitAsleep(t, got, "do_msgrcv", "msgrcv")
			if err := purego.Msgsnd(id, 6, text, 0); err != nil {
				t.Fatal(err)
			}
			if r := <-got; r.err != nil || r.typ != 6 || r.text != string(text) {
				t.Errorf("woken Msgrcv: type %d, %d bytes, %v; want type 6, %d bytes", r.typ, len(r.text), r.err, size)
			}
			buf := make([]byte, 8)
			if typ, n, err := purego.Msgrcv(id, buf, 0, unix.IPC_NOWAIT); err != nil || typ != 4 || string(buf[:n]) != "four" {
				t.Errorf("the message Msgrcv skipped: type %d, %q, %v", typ, buf[:max(n, 0)], err)
			}

			// Fill the queue, then a Msgsnd waits until a receive makes room.
			var ds sysapi.MsqidDS
			if _, err := purego.Msgctl(id, unix.IPC_STAT, &ds); err != nil {
				t.Fatal(err)
			}
			ds.Qbytes = uint64(size)
			if _, err := purego.Msgctl(id, unix.IPC_SET, &ds); err != nil {
				t.Fatal(err)
			}
			if err := purego.Msgsnd(id, 1, text, 0); err != nil {
				t.Fatal(err)
			}
			sent := make(chan error, 1)
			go func() { sent <- purego.Msgsnd(id, 2, text, 0) }()
			waitAsleep(t, sent, "do_msgsnd", "msgsnd")
			big := make([]byte, 512)
			if typ, _, err := purego.Msgrcv(id, big, 0, 0); err != nil || typ != 1 {
				t.Fatalf("Msgrcv: type %d, %v", typ, err)
			}
			if err := <-sent; err != nil {
				t.Fatalf("woken Msgsnd: %v", err)
			}
			if typ, n, err := purego.Msgrcv(id, big, 0, unix.IPC_NOWAIT); err != nil || typ != 2 || n != size {
				t.Errorf("the message of the woken Msgsnd: type %d, %d bytes, %v", typ, n, err)
			}
		})
	}
}

// waitAsleep waits until a thread of this process is asleep in one of the
// kernel functions named (its wchan), failing at once if done reports
// first: the call did not wait.
func waitAsleep[T any](t *testing.T, done <-chan T, wchan ...string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case r := <-done:
			t.Fatalf("the call returned without waiting: %+v", r)
		default:
		}
		dirs, _ := os.ReadDir("/proc/self/task")
		for _, d := range dirs {
			b, err := os.ReadFile("/proc/self/task/" + d.Name() + "/wchan")
			if err == nil && slices.Contains(wchan, strings.TrimSpace(string(b))) {
				return
			}
		}
		time.Sleep(time.Millisecond) // polling a condition with a deadline
	}
	t.Fatalf("no thread asleep in %s within 10s", strings.Join(wchan, " or "))
}

// TestMsgrcvCopyNeedsNoWait: MSG_COPY without IPC_NOWAIT stays EINVAL (the
// IPC_NOWAIT attempt is not made for it), and with IPC_NOWAIT copies the
// message without taking it.
func TestMsgrcvCopyNeedsNoWait(t *testing.T) {
	id := privateQueue(t)
	if err := purego.Msgsnd(id, 5, []byte("copy"), 0); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 8)
	if _, _, err := purego.Msgrcv(id, buf, 0, sysapi.MSG_COPY); !errors.Is(err, unix.EINVAL) {
		t.Errorf("MSG_COPY without IPC_NOWAIT: %v, want EINVAL", err)
	}
	typ, n, err := purego.Msgrcv(id, buf, 0, sysapi.MSG_COPY|unix.IPC_NOWAIT)
	if errors.Is(err, unix.ENOSYS) {
		t.Skip("kernel without CONFIG_CHECKPOINT_RESTORE: no MSG_COPY")
	}
	if err != nil || typ != 5 || string(buf[:n]) != "copy" {
		t.Errorf("MSG_COPY|IPC_NOWAIT: %d, %q, %v", typ, buf[:max(n, 0)], err)
	}
	if typ, _, err := purego.Msgrcv(id, buf, 0, unix.IPC_NOWAIT); err != nil || typ != 5 {
		t.Errorf("the message after MSG_COPY: %d, %v", typ, err)
	}
}
