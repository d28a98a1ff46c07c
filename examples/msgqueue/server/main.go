// Command server is ../c/server.c in Go: `server PATH` creates the message
// queue of ftok(PATH, 'Q') (exclusively, mode 0600), prints "ready", and
// answers each request (mtype 1) on the same queue with mtype = the pid in
// it, until a shutdown request makes it remove the queue, print "shutdown"
// and exit 0. Its output, exit status and the bytes of its answers are the
// C server's, so either server serves either client.
//
// A request that is not this build's size (80 bytes on 64-bit
// architectures, 72 on 32-bit ones: C's struct request body, see
// ../c/msgqueue.h) comes from a client built for another ABI; the server
// refuses it, as the C one does, answering at the pid in its first 4 bytes.
package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"

	"github.com/shmmap/shmmap"
	"github.com/shmmap/shmmap/examples/msgqueue/proto"
)

func main() { os.Exit(run(os.Args, os.Stdout, os.Stderr)) }

// run is the server's main: it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) != 2 {
		fmt.Fprintln(stderr, "usage: server PATH")
		return 2
	}
	key, err := shmmap.Ftok(args[1], proj)
	if err != nil {
		proto.Perror(stderr, "ftok", err)
		return 1
	}
	q, err := shmmap.CreateQueue(key, 0o600)
	if err != nil {
		proto.Perror(stderr, "msgget", err)
		return 1
	}
	fmt.Fprintln(stdout, "ready")

	// Room for any request, this ABI's or not: the C server's
	// sizeof in.raw - sizeof(long). Longer ones are cut (MSG_NOERROR) and
	// refused rather than left at the head of the queue.
	in := make([]byte, 256)
	for {
		_, n, err := q.ReceiveWith(context.Background(), in, proto.MtypeRequest, shmmap.ReceiveOpts{Truncate: true})
		if err != nil {
			proto.Perror(stderr, "msgrcv", err) // EIDRM: someone removed the queue
			return 1
		}
		var rep proto.ReplyBody
		var to int64
		if n != proto.RequestSize {
			// Where both x86 ABIs keep the pid's value: the first 4
			// bytes, read as C's memcpy into an int32_t does.
			pid := int32(0)
			if n >= 4 {
				pid = int32(binary.NativeEndian.Uint32(in[:4]))
			}
			fmt.Fprintf(stderr, "server: refused a request of %d bytes (this server's are %d: a client built for another ABI?)\n",
				n, proto.RequestSize)
			if pid <= 1 {
				continue // no one to tell
			}
			to = int64(pid)
			rep.Status = proto.StatusRefused
			proto.SetCString(rep.Text[:], fmt.Sprintf("a request of %d bytes; this server's are %d", n, proto.RequestSize))
		} else {
			var req proto.RequestBody
			copy(req.Bytes(), in[:n])
			req.Text[len(req.Text)-1] = 0
			text := proto.CString(req.Text[:])
			if req.Op == proto.OpShutdown {
				if err := q.Remove(); err != nil {
					proto.Perror(stderr, "msgctl", err)
					return 1
				}
				fmt.Fprintln(stdout, "shutdown")
				return 0
			}
			to = int64(req.Pid)
			var answer string
			switch req.Op {
			case proto.OpUpper:
				rep.Status, answer = proto.StatusOK, upper(text)
			case proto.OpAdd:
				rep.Status, answer = add(text)
			default:
				rep.Status, answer = proto.StatusBad, fmt.Sprintf("unknown operation %d", req.Op)
			}
			proto.SetCString(rep.Text[:], answer)
			if to <= 1 {
				fmt.Fprintf(stderr, "server: a request from pid %d: no one to answer\n", to)
				continue
			}
		}
		if err := q.Send(to, rep.Bytes()); err != nil {
			proto.Perror(stderr, "msgsnd", err)
			return 1
		}
	}
}

// proj is ftok's project id, as an int.
const proj = int(proto.Proj)

// upper is the text in upper case: ASCII letters only, as toupper does in
// the C locale.
func upper(text string) string {
	b := []byte(text)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// isSpace is isspace in the C locale.
func isSpace(c byte) bool { return c == ' ' || '\t' <= c && c <= '\r' }

// add is the sum of the integers in text, or what is wrong with them, as
// the C server's add computes it with strtoll: each whitespace-separated
// word must be an optional sign and decimal digits, and the words and their
// sum must fit in a long long.
func add(text string) (status int32, answer string) {
	sum := int64(0)
	p := text
	for {
		for len(p) > 0 && isSpace(p[0]) {
			p = p[1:]
		}
		if p == "" {
			break
		}
		word := p
		for i := 0; i < len(p); i++ {
			if isSpace(p[i]) {
				word = p[:i]
				break
			}
		}
		v, used, erange := strtoll(p)
		if used != len(word) {
			return proto.StatusBad, "not a number: " + word
		}
		if erange || (v > 0 && sum > math.MaxInt64-v) || (v < 0 && sum < math.MinInt64-v) {
			return proto.StatusBad, "too large"
		}
		sum += v
		p = p[used:]
	}
	return proto.StatusOK, strconv.FormatInt(sum, 10)
}

// strtoll is C's strtoll(s, &end, 10) for an s that does not start with
// white space: it returns the value, how many bytes of s it used (0 if no
// number starts s, as C's end is then s), and whether the value was out of
// range (ERANGE, the value then being clamped).
func strtoll(s string) (v int64, used int, erange bool) {
	i := 0
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	start := i
	var u uint64 // the magnitude, up to 1<<63
	const limit = uint64(1) << 63
	for ; i < len(s) && '0' <= s[i] && s[i] <= '9'; i++ {
		d := uint64(s[i] - '0')
		if erange || u > (limit-d)/10 {
			erange = true
			continue
		}
		u = u*10 + d
	}
	if i == start {
		return 0, 0, false
	}
	switch {
	case erange, !neg && u == limit:
		erange = true
		if neg {
			return math.MinInt64, i, true
		}
		return math.MaxInt64, i, true
	case neg:
		return -int64(u), i, false
	}
	return int64(u), i, false
}
