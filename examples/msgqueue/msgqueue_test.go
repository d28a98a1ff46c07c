package msgqueue_test

// The message-queue server and client, tested with nothing but the kit a
// user has: shmtest (namespaces, builds, runs, diffs, leaks) and go-cmp.
// Every expected line is computed here from the request, as the protocol in
// c/msgqueue.h says, not copied from a run; every server with every client,
// C and Go, must then print what the C pair prints, byte for byte. (What
// they put on the queue is compared in queuebytes_test.go.)

import (
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shmmap/shmmap/shmtest"
)

func TestMain(m *testing.M) { shmtest.Main(m) }

// timeout bounds each wait: for the server's "ready", for a run.
const timeout = 30 * time.Second

// prog is one half of the pair, in one language.
type prog struct {
	lang string
	path string
}

// programs builds the servers and the clients, C and Go: every test below
// runs each server against each client.
//
// A 386 test binary builds its C programs with -m32 where the machine can,
// as the 32-bit Go ports must meet a 32-bit C peer (the request differs
// between the ABIs: see c/msgqueue.h); where it cannot, the C programs are
// the C compiler's default and the log says so, and the Go ports, which
// are always built for the test binary's architecture, are left out
// rather than fail against C programs of the other ABI.
func programs(t *testing.T) (servers, clients []prog) {
	t.Helper()
	var cflags []string
	goToo := true
	if runtime.GOARCH == "386" {
		if ok, reason := shmtest.CanRun32(); ok {
			cflags = []string{"-m32"}
		} else {
			t.Logf("the C programs are the C compiler's default ABI, not i386, and the 386 Go ports are left out: %s", reason)
			goToo = false
		}
	}
	servers = []prog{{"C", shmtest.BuildC(t, "c/server.c", cflags...)}}
	clients = []prog{{"C", shmtest.BuildC(t, "c/client.c", cflags...)}}
	if goToo {
		servers = append(servers, prog{"Go", buildGo(t, "./server", runtime.GOARCH)})
		clients = append(clients, prog{"Go", buildGo(t, "./client", runtime.GOARCH)})
	}
	return servers, clients
}

// buildGo builds the Go port in dir for goarch, without cgo (the ports are
// pure Go).
func buildGo(t *testing.T, dir, goarch string) string {
	t.Helper()
	return shmtest.BuildGo(t, dir, "GOARCH="+goarch, "CGO_ENABLED=0")
}

// keyFile makes the file whose ftok key names the queue.
func keyFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "msgq.key")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// startServer starts server on path and waits for its "ready". If the test
// stops while the server still runs, a shutdown request from client
// removes its queue.
func startServer(t *testing.T, server, client prog, path string) *shmtest.Process {
	t.Helper()
	srv := shmtest.Start(t, exec.Command(server.path, path))
	t.Cleanup(func() {
		select {
		case <-srv.Exited():
		default:
			shmtest.Run(t, exec.Command(client.path, path, "shutdown"))
		}
	})
	srv.WaitLine(t, "ready", timeout)
	return srv
}

// requests is what the session's first client sends: letters and not, the
// empty text, a sum with negative numbers, and a text longer than the 63
// bytes a request holds.
var requests = []string{
	"upper:hello, world",
	"add:1 2 3",
	"upper:grüße aus Köln",
	"add: -40  2 ",
	"add:",
	"upper:",
	"upper:" + strings.Repeat("abcdefghij", 8),
}

// answer is the line the client prints for req, from the protocol alone:
// the text cut to 63 bytes (char[64] with its NUL), then upper case for the
// ASCII letters only (toupper in the C locale leaves other bytes alone), or
// the sum of the integers.
func answer(t *testing.T, req string) string {
	t.Helper()
	op, text, _ := strings.Cut(req, ":")
	if len(text) > 63 {
		text = text[:63]
	}
	var out string
	switch op {
	case "upper":
		b := []byte(text)
		for i, c := range b {
			if 'a' <= c && c <= 'z' {
				b[i] = c - 'a' + 'A'
			}
		}
		out = string(b)
	case "add":
		sum := int64(0)
		for _, f := range strings.Fields(text) {
			n, err := strconv.ParseInt(f, 10, 64)
			if err != nil {
				t.Fatalf("a test request adds %q: %v", f, err)
			}
			sum += n
		}
		out = strconv.FormatInt(sum, 10)
	default:
		t.Fatalf("no answer for %q", req)
	}
	return fmt.Sprintf("%s %s -> %s\n", op, text, out)
}

// session runs what users of the server do, in the test's namespace: a
// client with several requests, one whose first request is wrong, a
// shutdown, and then a client with no server. It returns every step's
// Result, in order, the server's fourth.
func session(t *testing.T, server, client prog) []shmtest.Result {
	t.Helper()
	path := keyFile(t)
	srv := startServer(t, server, client, path)
	run := func(args ...string) shmtest.Result {
		return shmtest.Run(t, exec.Command(client.path, append([]string{path}, args...)...))
	}
	res := []shmtest.Result{
		run(requests...),
		run("add:1 x", "upper:still answered"),
		run("shutdown"),
	}
	res = append(res, srv.Wait(t, timeout), run("upper:too late"))
	return res
}

// TestPairs runs the session for every server with every client, each in
// a private IPC namespace that must be left empty (the shutdown removes the
// queue), and holds every step to the C pair's, whose own output is held to
// what the protocol says.
func TestPairs(t *testing.T) {
	servers, clients := programs(t)
	var want []shmtest.Result
	t.Run("reference", func(t *testing.T) {
		shmtest.Isolate(t)
		shmtest.NoLeaks(t)
		want = session(t, servers[0], clients[0])
		var all strings.Builder
		for _, r := range requests {
			all.WriteString(answer(t, r))
		}
		expect := []shmtest.Result{
			{Stdout: all.String()},
			{Stdout: "add 1 x -> error: not a number: x\n" + answer(t, "upper:still answered"), Status: 1},
			{Stdout: "shutdown -> sent\n"},
			{Stdout: "ready\nshutdown\n"},
			{Stderr: "msgget: No such file or directory\n", Status: 1},
		}
		names := []string{"the client", "the client with a wrong request", "the shutdown", "the server", "the client after the shutdown"}
		for i := range expect {
			if d := cmp.Diff(expect[i], want[i]); d != "" {
				t.Errorf("%s, C server and C client (-expected +got):\n%s", names[i], d)
			}
		}
	})
	if len(want) == 0 || t.Failed() {
		t.Fatal("the C pair did not run as the protocol says")
	}
	for _, server := range servers {
		for _, client := range clients {
			t.Run(server.lang+"-server/"+client.lang+"-client", func(t *testing.T) {
				shmtest.Isolate(t)
				shmtest.NoLeaks(t)
				got := session(t, server, client)
				for i := range want {
					if d := shmtest.Diff(want[i], got[i]); d != "" {
						t.Errorf("step %d differs from the C server and C client:\n%s", i+1, d)
					}
				}
			})
		}
	}
}

// TestConcurrentClients: clients sending at the same time each get their
// own answers, routed by pid, from every server.
func TestConcurrentClients(t *testing.T) {
	servers, clients := programs(t)
	const nclients, nreq = 4, 40
	for _, server := range servers {
		for _, client := range clients {
			t.Run(server.lang+"-server/"+client.lang+"-client", func(t *testing.T) {
				shmtest.Isolate(t)
				shmtest.NoLeaks(t)
				path := keyFile(t)
				srv := startServer(t, server, client, path)
				procs := make([]*shmtest.Process, nclients)
				wants := make([]string, nclients)
				for k := range procs {
					args := []string{path}
					var want strings.Builder
					for i := range nreq {
						req := fmt.Sprintf("upper:client %d, request %d", k, i)
						if i%2 == 1 {
							req = fmt.Sprintf("add:%d %d", k, i)
						}
						args = append(args, req)
						want.WriteString(answer(t, req))
					}
					wants[k] = want.String()
					procs[k] = shmtest.Start(t, exec.Command(client.path, args...))
				}
				for k, p := range procs {
					got := p.Wait(t, timeout)
					if d := cmp.Diff(shmtest.Result{Stdout: wants[k]}, got); d != "" {
						t.Errorf("client %d (-expected +got):\n%s", k, d)
					}
				}
				shmtest.Run(t, exec.Command(client.path, path, "shutdown"))
				if got := srv.Wait(t, timeout); got.Status != 0 || got.Stderr != "" {
					t.Errorf("server: %+v", got)
				}
			})
		}
	}
}

// TestErrors: what the client says with no server, no key file or a bad
// request, and what a second server says while the first runs. The
// messages are perror's: the call, then glibc's text for the errno.
func TestErrors(t *testing.T) {
	servers, clients := programs(t)
	for _, client := range clients {
		t.Run(client.lang+"-client", func(t *testing.T) {
			shmtest.Isolate(t)
			shmtest.NoLeaks(t)
			path := keyFile(t)
			for _, c := range []struct {
				args []string
				want shmtest.Result
			}{
				{[]string{path, "upper:x"}, shmtest.Result{Stderr: "msgget: No such file or directory\n", Status: 1}},
				{[]string{path + ".missing", "upper:x"}, shmtest.Result{Stderr: "ftok: No such file or directory\n", Status: 1}},
				{[]string{path}, shmtest.Result{Stderr: "usage: client PATH REQUEST... (upper:TEXT, add:NUMBERS, shutdown)\n", Status: 2}},
				{[]string{path, "lower:x"}, shmtest.Result{Stderr: "client: unknown request lower:x (upper:TEXT, add:NUMBERS or shutdown)\n", Status: 2}},
				{[]string{path, "shutdown:now"}, shmtest.Result{Stderr: "client: unknown request shutdown:now (upper:TEXT, add:NUMBERS or shutdown)\n", Status: 2}},
			} {
				got := shmtest.Run(t, exec.Command(client.path, c.args...))
				if d := cmp.Diff(c.want, got); d != "" {
					t.Errorf("client %q (-expected +got):\n%s", c.args[1:], d)
				}
			}
		})
	}
	for _, server := range servers {
		t.Run(server.lang+"-server", func(t *testing.T) {
			shmtest.Isolate(t)
			shmtest.NoLeaks(t)
			path := keyFile(t)
			first := startServer(t, server, clients[0], path)
			second := shmtest.Run(t, exec.Command(server.path, path))
			if d := cmp.Diff(shmtest.Result{Stderr: "msgget: File exists\n", Status: 1}, second); d != "" {
				t.Errorf("a second server on the same key (-expected +got):\n%s", d)
			}
			shmtest.Run(t, exec.Command(clients[0].path, path, "shutdown"))
			if got := first.Wait(t, timeout); got.Status != 0 {
				t.Errorf("the first server: %+v", got)
			}
		})
	}
}

// elfClass is the ELF class of a built program: elf.ELFCLASS64 or
// elf.ELFCLASS32.
func elfClass(t *testing.T, path string) elf.Class {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return f.Class
}

// TestOtherABI: a 32-bit client and a 64-bit server (and the reverse)
// cannot share struct request — its body is 80 bytes on x86-64 (long 8,
// int 4, char[64], padded to a multiple of 8) and 72 on i386 (4 + 4 + 64) —
// so the server refuses it, and the client says so and exits 1, rather
// than either reading garbage; the server goes on serving its own ABI's
// clients. Every 32-bit server and client, C (-m32) or Go (GOARCH=386),
// meets every 64-bit one so; and the 32-bit programs work together exactly
// as the 64-bit C pair does.
func TestOtherABI(t *testing.T) {
	shmtest.Require32(t)
	if runtime.GOARCH != "amd64" && runtime.GOARCH != "386" {
		t.Skipf("the Go ports' two x86 builds need an x86 machine, not %s", runtime.GOARCH)
	}
	// build returns the C program of src as the compiler's default (64-bit)
	// and -m32, and the Go port in dir as amd64 and 386.
	build := func(src, dir string) (abi64, abi32 []prog) {
		native := prog{"C", shmtest.BuildC(t, src)}
		m32 := prog{"C-m32", shmtest.BuildC(t, src, "-m32")}
		if c := elfClass(t, native.path); c != elf.ELFCLASS64 {
			t.Skipf("the C compiler builds %v programs by default: no 64-bit side here", c)
		}
		go64 := prog{"Go-amd64", buildGo(t, dir, "amd64")}
		go32 := prog{"Go-386", buildGo(t, dir, "386")}
		for _, p := range []prog{m32, go32} {
			if c := elfClass(t, p.path); c != elf.ELFCLASS32 {
				t.Fatalf("%s: a %v program", p.lang, c)
			}
		}
		if c := elfClass(t, go64.path); c != elf.ELFCLASS64 {
			t.Fatalf("%s: a %v program", go64.lang, c)
		}
		return []prog{native, go64}, []prog{m32, go32}
	}
	servers64, servers32 := build("c/server.c", "./server")
	clients64, clients32 := build("c/client.c", "./client")
	const body64, body32 = 80, 72

	type refusal struct {
		server, client, same prog
		got, want            int // the request's size, the server's
	}
	var refusals []refusal
	for _, server := range servers64 {
		for _, client := range clients32 {
			refusals = append(refusals, refusal{server, client, clients64[0], body32, body64})
		}
	}
	for _, server := range servers32 {
		for _, client := range clients64 {
			refusals = append(refusals, refusal{server, client, clients32[0], body64, body32})
		}
	}
	for _, c := range refusals {
		t.Run(c.server.lang+"-server/"+c.client.lang+"-client", func(t *testing.T) {
			shmtest.Isolate(t)
			shmtest.NoLeaks(t)
			path := keyFile(t)
			srv := startServer(t, c.server, c.same, path)
			refused := shmtest.Run(t, exec.Command(c.client.path, path, "upper:abc"))
			want := shmtest.Result{
				Stderr: fmt.Sprintf("client: the server refused the request: a request of %d bytes; this server's are %d\n", c.got, c.want),
				Status: 1,
			}
			if d := cmp.Diff(want, refused); d != "" {
				t.Errorf("the other ABI's client (-expected +got):\n%s", d)
			}
			// The server goes on with a client of its own ABI.
			if got, want := shmtest.Run(t, exec.Command(c.same.path, path, "upper:abc", "shutdown")),
				(shmtest.Result{Stdout: answer(t, "upper:abc") + "shutdown -> sent\n"}); !cmp.Equal(want, got) {
				t.Errorf("the same ABI's client after the refusal (-expected +got):\n%s", cmp.Diff(want, got))
			}
			want = shmtest.Result{
				Stdout: "ready\nshutdown\n",
				Stderr: fmt.Sprintf("server: refused a request of %d bytes (this server's are %d: a client built for another ABI?)\n", c.got, c.want),
			}
			if d := cmp.Diff(want, srv.Wait(t, timeout)); d != "" {
				t.Errorf("the server (-expected +got):\n%s", d)
			}
		})
	}

	// The 64-bit C pair first, as the reference; then every 32-bit pair.
	pairs := [][2]prog{{servers64[0], clients64[0]}}
	for _, server := range servers32 {
		for _, client := range clients32 {
			pairs = append(pairs, [2]prog{server, client})
		}
	}
	var want []shmtest.Result
	for _, pair := range pairs {
		t.Run(pair[0].lang+"-server/"+pair[1].lang+"-client", func(t *testing.T) {
			shmtest.Isolate(t)
			shmtest.NoLeaks(t)
			got := session(t, pair[0], pair[1])
			if want == nil {
				want = got
				return
			}
			for i := range want {
				if d := shmtest.Diff(want[i], got[i]); d != "" {
					t.Errorf("step %d differs from the 64-bit C pair's:\n%s", i+1, d)
				}
			}
		})
	}
}
