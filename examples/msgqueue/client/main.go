// Command client is ../c/client.c in Go: `client PATH REQUEST...` sends
// each request, in order, to the server of ftok(PATH, 'Q') and prints its
// answer on a line of its own:
//
//	upper:TEXT     upper TEXT -> ANSWER      TEXT in upper case (ASCII)
//	add:NUMBERS    add NUMBERS -> ANSWER     the sum of the integers
//	shutdown       shutdown -> sent          the server removes the queue
//	                                         and exits; no answer
//
// Its output, exit status and the bytes of its requests are the C client's
// (the request is laid out as C lays out struct request for the
// architecture it is built for: see ../c/msgqueue.h), so either client
// talks to either server built for the same ABI. Exit status: 0 if every
// request was answered, 1 if the server found one wrong or refused one, or
// anything failed, 2 for a usage error.
package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/shmmap/shmmap"
	"github.com/shmmap/shmmap/examples/msgqueue/proto"
)

func main() { os.Exit(run(os.Args, os.Getpid(), os.Stdout, os.Stderr)) }

// ops are the requests' names and operations, in the C client's order.
var ops = []struct {
	name string
	op   int32
}{{"upper", proto.OpUpper}, {"add", proto.OpAdd}, {"shutdown", proto.OpShutdown}}

// parse splits "NAME:TEXT" (or "shutdown") and returns its op, 0 if none.
func parse(arg string) (name, text string, op int32) {
	before, after, colon := strings.Cut(arg, ":")
	for _, o := range ops {
		if o.name != before {
			continue
		}
		if (o.op == proto.OpShutdown) != !colon {
			return "", "", 0
		}
		return o.name, after, o.op
	}
	return "", "", 0
}

// run is the client's main, sending as pid: it returns the exit status.
func run(args []string, pid int, stdout, stderr io.Writer) int {
	if len(args) < 3 {
		fmt.Fprintln(stderr, "usage: client PATH REQUEST... (upper:TEXT, add:NUMBERS, shutdown)")
		return 2
	}
	for _, arg := range args[2:] {
		if _, _, op := parse(arg); op == 0 {
			fmt.Fprintf(stderr, "client: unknown request %s (upper:TEXT, add:NUMBERS or shutdown)\n", arg)
			return 2
		}
	}

	key, err := shmmap.Ftok(args[1], int(proto.Proj))
	if err != nil {
		proto.Perror(stderr, "ftok", err)
		return 1
	}
	q, err := shmmap.OpenQueue(key)
	if err != nil {
		proto.Perror(stderr, "msgget", err)
		return 1
	}

	status := 0
	for _, arg := range args[2:] {
		name, text, op := parse(arg)
		var req proto.RequestBody
		req.Pid = pid
		req.Op = op
		proto.SetCString(req.Text[:], text)
		if err := q.Send(proto.MtypeRequest, req.Bytes()); err != nil {
			proto.Perror(stderr, "msgsnd", err)
			return 1
		}
		if op == proto.OpShutdown {
			fmt.Fprintf(stdout, "%s -> sent\n", name)
			continue
		}
		var rep proto.ReplyBody
		_, n, err := q.Receive(rep.Bytes(), int64(req.Pid))
		if err != nil {
			proto.Perror(stderr, "msgrcv", err)
			return 1
		}
		if n != proto.ReplySize {
			fmt.Fprintf(stderr, "client: an answer of %d bytes, expected %d (a server built for another ABI?)\n", n, proto.ReplySize)
			return 1
		}
		rep.Text[len(rep.Text)-1] = 0
		sent, answer := proto.CString(req.Text[:]), proto.CString(rep.Text[:])
		if rep.Status == proto.StatusRefused {
			fmt.Fprintf(stderr, "client: the server refused the request: %s\n", answer)
			return 1
		}
		if rep.Status != proto.StatusOK {
			fmt.Fprintf(stdout, "%s %s -> error: %s\n", name, sent, answer)
			status = 1
			continue
		}
		fmt.Fprintf(stdout, "%s %s -> %s\n", name, sent, answer)
	}
	return status
}
