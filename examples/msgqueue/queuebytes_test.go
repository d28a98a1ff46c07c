package msgqueue_test

// What the programs put on the queue, byte for byte: here the test itself
// plays the other side with the safe API (shmmap.Queue), capturing the C
// client's requests and the C server's answers, and every Go program's
// must be the same bytes. The test builds nothing from the Go ports'
// structs: the C side's bytes are the reference, and the only layout the
// test knows is the header's (a C long, the pid, at the start of a
// request; an int, the op, after it; an int status then the text in a
// reply).

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/shmmap/shmmap"
	"github.com/shmmap/shmmap/shmtest"
)

// longSize is sizeof(long) for the programs under test, built for this
// test binary's ABI.
const longSize = strconv.IntSize / 8

// byteRequests are what the clients send: the session's requests, then
// the corners of add's parsing (strtoll's range and what it takes for a
// number, C's white space, texts cut at 63 bytes, messages cut at 63) and
// bytes toupper leaves alone.
var byteRequests = append(append([]string{}, requests...),
	"add:9223372036854775807", "add:9223372036854775808",
	"add:-9223372036854775808", "add:-9223372036854775809",
	"add:9223372036854775807 1", "add:-9223372036854775808 -1", "add:-9223372036854775807 -1",
	"add:+5 -0 007", "add:-", "add:+", "add:1-2", "add:0x10", "add:1 2x 3",
	"add:\t1\n2\v3\f4\r5 ", "add:12345678901234567890123",
	"add:1 "+strings.Repeat("9", 70), "add:"+strings.Repeat("y", 70),
	"upper:\x01\xff~`{@[", "upper:a:b:c",
	"shutdown")

// getLong and setLong read and write the C long at the start of b (the
// request's pid) as the programs' ABI stores it.
func getLong(b []byte) int64 {
	if longSize == 8 {
		return int64(binary.NativeEndian.Uint64(b))
	}
	return int64(int32(binary.NativeEndian.Uint32(b)))
}

func setLong(b []byte, v int64) {
	if longSize == 8 {
		binary.NativeEndian.PutUint64(b, uint64(v))
		return
	}
	binary.NativeEndian.PutUint32(b, uint32(v))
}

// replyBody is a struct reply body of 68 bytes: status, then text in the
// char[64], cut to 64 bytes with no NUL if it is that long.
func replyBody(status int32, text string) []byte {
	b := make([]byte, 4+64)
	binary.NativeEndian.PutUint32(b, uint32(status))
	copy(b[4:], text)
	return b
}

// receive takes the next message of type typ from q, failing the test if
// none comes within the timeout or once p has exited (a message p sent
// before exiting is still taken).
func receive(t *testing.T, q *shmmap.Queue, typ int64, p *shmtest.Process) (int64, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		select {
		case <-p.Exited():
			cancel()
		case <-stop:
		}
	}()
	buf := make([]byte, 512)
	mtype, n, err := q.ReceiveContext(ctx, buf, typ)
	if err != nil && ctx.Err() != nil {
		mtype, n, err = q.TryReceive(buf, typ)
	}
	if err != nil {
		t.Fatalf("no message of type %d: %v; the process: %+v", typ, err, p.Kill())
	}
	return mtype, buf[:n]
}

// gone reports whether err says the queue was removed already (msgctl on
// a removed id fails with EINVAL, or EIDRM).
func gone(err error) bool {
	return errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.EIDRM)
}

// inMsgrcv reports whether a thread of process pid waits in msgrcv, as
// its /proc/PID/task/TID/wchan says, or else its syscall file (the
// system call's number: msgrcv's, or on i386 also ipc's, which glibc and
// Go may use for it).
func inMsgrcv(pid int) bool {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*", pid))
	for _, task := range tasks {
		if b, err := os.ReadFile(filepath.Join(task, "wchan")); err == nil && string(b) == "do_msgrcv" {
			return true
		}
		b, err := os.ReadFile(filepath.Join(task, "syscall"))
		if err != nil {
			continue
		}
		nr, _, _ := strings.Cut(string(b), " ")
		switch runtime.GOARCH {
		case "amd64":
			if nr == "70" {
				return true
			}
		case "386":
			if nr == "401" || nr == "117" {
				return true
			}
		}
	}
	return false
}

// createQueue makes the queue the clients find at key, removed when the
// test ends if it still exists.
func createQueue(t *testing.T, key shmmap.Key) *shmmap.Queue {
	t.Helper()
	q, err := shmmap.CreateQueue(key, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := q.Remove(); err != nil && !gone(err) {
			t.Errorf("removing the queue: %v", err)
		}
	})
	return q
}

// TestQueueBytes: each Go client sends the C client's requests, byte for
// byte but for its own pid, and reacts as the C one does to the answers it
// gets, wrong ones included; each Go server answers any request, wrong
// ones included, with the C server's bytes and output.
func TestQueueBytes(t *testing.T) {
	servers, clients := programs(t)
	if len(servers) < 2 || len(clients) < 2 {
		t.Skip("no Go ports to compare here (see the log)")
	}
	shmtest.Isolate(t)
	shmtest.NoLeaks(t)
	path := keyFile(t)
	key, err := shmmap.Ftok(path, 'Q')
	if err != nil {
		t.Fatal(err)
	}

	// The test as the server: every request's body, and what the client
	// made of the answers ("answer I to REQ", status 0 and 1 in turn).
	capture := func(client prog) (bodies [][]byte, res shmtest.Result) {
		q := createQueue(t, key)
		p := shmtest.Start(t, exec.Command(client.path, append([]string{path}, byteRequests...)...))
		for i, req := range byteRequests {
			mtype, body := receive(t, q, 1, p)
			if mtype != 1 {
				t.Fatalf("%s client: request of type %d", client.lang, mtype)
			}
			if pid := getLong(body); pid != int64(p.Pid()) {
				t.Fatalf("%s client: request %q holds pid %d, its pid is %d", client.lang, req, pid, p.Pid())
			}
			bodies = append(bodies, body)
			if req != "shutdown" {
				if err := q.Send(int64(p.Pid()), replyBody(int32(i%2), fmt.Sprintf("answer %d to %s", i, req))); err != nil {
					t.Fatal(err)
				}
			}
		}
		res = p.Wait(t, timeout)
		if err := q.Remove(); err != nil {
			t.Fatal(err)
		}
		return bodies, res
	}
	cBodies, cRes := capture(clients[0])
	if want := (longSize + 4 + 64 + longSize - 1) / longSize * longSize; len(cBodies[0]) != want {
		t.Fatalf("the C client's request is %d bytes, want %d (long %d, int, char[64], padded)", len(cBodies[0]), want, longSize)
	}
	if cRes.Status != 1 || !strings.Contains(cRes.Stdout, " -> error: answer 1 to ") {
		t.Fatalf("the C client did not run as expected: %+v", cRes)
	}
	for _, client := range clients[1:] {
		bodies, res := capture(client)
		for i, body := range bodies {
			want := bytes.Clone(cBodies[i])
			setLong(want, getLong(body))
			if !bytes.Equal(want, body) {
				t.Errorf("%s client, request %q:\n got  % x\n want % x (the C client's, with this pid)", client.lang, byteRequests[i], body, want)
			}
		}
		if d := shmtest.Diff(cRes, res); d != "" {
			t.Errorf("%s client, its output differs from the C client's:\n%s", client.lang, d)
		}
	}

	// Wrong answers: each client's Result against the C client's. The
	// client sends two requests; after most of these it never sends the
	// second, but a status it does not know is an error line, and it goes
	// on.
	send := func(t *testing.T, q *shmmap.Queue, pid int, body []byte) {
		t.Helper()
		if err := q.Send(int64(pid), body); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name  string
		reply func(q *shmmap.Queue, p *shmtest.Process)
	}{
		{"an answer of 1 byte", func(q *shmmap.Queue, p *shmtest.Process) { send(t, q, p.Pid(), []byte{0}) }},
		{"an answer of 100 bytes", func(q *shmmap.Queue, p *shmtest.Process) { send(t, q, p.Pid(), make([]byte, 100)) }},
		{"a refusal", func(q *shmmap.Queue, p *shmtest.Process) { send(t, q, p.Pid(), replyBody(2, "no, not you")) }},
		{"status 7", func(q *shmmap.Queue, p *shmtest.Process) {
			send(t, q, p.Pid(), replyBody(7, "seven"))
			receive(t, q, 1, p)
			send(t, q, p.Pid(), replyBody(0, "fine"))
		}},
		{"the queue removed", func(q *shmmap.Queue, p *shmtest.Process) {
			// Once the client waits in msgrcv (EIDRM then; EINVAL if
			// it had not got there yet).
			shmtest.WaitFor(t, "the client waiting in msgrcv", timeout, func() bool { return inMsgrcv(p.Pid()) }, p)
			if err := q.Remove(); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		var want shmtest.Result
		for i, client := range clients {
			q := createQueue(t, key)
			p := shmtest.Start(t, exec.Command(client.path, path, "upper:abc", "upper:second"))
			receive(t, q, 1, p)
			c.reply(q, p)
			got := p.Wait(t, timeout)
			if i == 0 {
				want = got
				if got.Status != 1 {
					t.Errorf("the C client after %s: %+v, want a failure", c.name, got)
				}
			} else if d := shmtest.Diff(want, got); d != "" {
				t.Errorf("%s client after %s differs from the C client:\n%s", client.lang, c.name, d)
			}
			if err := q.Remove(); err != nil && !gone(err) {
				t.Fatal(err)
			}
		}
	}

	// The test as the client: the C client's requests with a pid of the
	// test's choosing, then requests no client of this ABI sends.
	const pid = 12345
	valid := func(i int) []byte { // the C client's request i, from pid
		b := bytes.Clone(cBodies[i])
		setLong(b, pid)
		return b
	}
	type step struct {
		name   string
		body   []byte
		answer bool // whether the server answers (at pid)
	}
	var steps []step
	for i, req := range byteRequests[:len(byteRequests)-1] {
		steps = append(steps, step{req, valid(i), true})
	}
	unknown := valid(0)
	binary.NativeEndian.PutUint32(unknown[longSize:], 9)
	noNUL := valid(0)
	copy(noNUL[longSize+4:], strings.Repeat("z", 64))
	steps = append(steps, step{"op 9", unknown, true}, step{"a text without NUL", noNUL, true})
	for _, from := range []int64{0, 1, -5} {
		b := valid(0)
		setLong(b, from)
		steps = append(steps, step{fmt.Sprintf("from pid %d", from), b, false})
	}
	steps = append(steps, step{"after the pids", valid(1), true})
	withPid := func(n int, p int32) []byte {
		b := make([]byte, n)
		if n >= 4 {
			binary.NativeEndian.PutUint32(b, uint32(p))
		}
		return b
	}
	size := len(cBodies[0])
	other := 80
	if size == 80 {
		other = 72
	}
	steps = append(steps,
		step{"0 bytes", nil, false},
		step{"3 bytes", withPid(3, pid), false},
		step{"4 bytes", withPid(4, pid), true},
		step{"the other ABI's size", withPid(other, pid), true},
		step{"one byte short, from pid 1", withPid(size-1, 1), false},
		step{"one byte more", withPid(size+1, pid), true},
		step{"300 bytes", withPid(300, pid), true},
	)
	type answer struct {
		mtype int64
		body  []byte
	}
	serve := func(server prog) (answers []answer, res shmtest.Result) {
		srv := startServer(t, server, clients[0], path)
		q, err := shmmap.OpenQueue(key)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range steps {
			if err := q.Send(1, s.body); err != nil {
				t.Fatalf("%s server, sending %s: %v", server.lang, s.name, err)
			}
			if s.answer {
				mtype, body := receive(t, q, pid, srv)
				answers = append(answers, answer{mtype, body})
			}
		}
		// A pid beyond 32 bits: only a 64-bit long carries it.
		if longSize == 8 {
			b := valid(0)
			setLong(b, 1<<40)
			if err := q.Send(1, b); err != nil {
				t.Fatal(err)
			}
			mtype, body := receive(t, q, 1<<40, srv)
			answers = append(answers, answer{mtype, body})
		}
		if _, _, err := q.TryReceive(make([]byte, 512), 0); !errors.Is(err, shmmap.ErrWouldBlock) {
			t.Errorf("%s server: a message left on the queue, or an error: %v", server.lang, err)
		}
		if err := q.Send(1, valid(len(byteRequests)-1)); err != nil { // shutdown
			t.Fatal(err)
		}
		return answers, srv.Wait(t, timeout)
	}
	want, wantRes := serve(servers[0])
	if wantRes.Status != 0 || strings.Count(wantRes.Stderr, "\n") != 10 {
		t.Fatalf("the C server did not run as expected: %+v", wantRes)
	}
	for _, server := range servers[1:] {
		got, res := serve(server)
		if len(got) != len(want) {
			t.Fatalf("%s server: %d answers, the C server %d", server.lang, len(got), len(want))
		}
		for i := range want {
			if got[i].mtype != want[i].mtype || !bytes.Equal(got[i].body, want[i].body) {
				t.Errorf("%s server, answer %d: type %d\n % x\nthe C server's: type %d\n % x", server.lang, i, got[i].mtype, got[i].body, want[i].mtype, want[i].body)
			}
		}
		if d := shmtest.Diff(wantRes, res); d != "" {
			t.Errorf("%s server: its output differs from the C server's:\n%s", server.lang, d)
		}
	}
}
