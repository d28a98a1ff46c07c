// Command publish is ../c/publish.c in Go: `publish PATH NAME N` writes a
// status board of N records under the board's semaphore, creating the
// segment and the semaphore if need be, with the same output, exit status
// and bytes in the segment as the C program, so either may serve the
// other's printers.
package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"unsafe"

	"github.com/shmmap/shmmap"
	"github.com/shmmap/shmmap/examples/statusboard/board"
)

func main() { os.Exit(run(os.Args)) }

func run(args []string) int {
	if len(args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: publish PATH NAME N")
		return 2
	}
	n := board.Atoi(args[3])
	if n < 0 || n > board.Records {
		fmt.Fprintf(os.Stderr, "publish: N must be 0..%d\n", board.Records)
		return 2
	}
	key, err := shmmap.Ftok(args[1], board.Proj)
	if err != nil {
		board.Perror(os.Stderr, "ftok", err)
		return 1
	}
	// The creator sets the semaphore to 1 (free), as the C publisher does.
	sems, err := shmmap.CreateSemaphores(key, 1, 0o600)
	if err == nil {
		if err := sems.SetValue(0, 1); err != nil {
			board.Perror(os.Stderr, "semctl", err)
			return 1
		}
	} else if errors.Is(err, fs.ErrExist) {
		sems, err = shmmap.OpenSemaphores(key)
	}
	if err != nil {
		board.Perror(os.Stderr, "semget", err)
		return 1
	}
	var b board.Board
	seg, _, err := shmmap.OpenOrCreateSegment(key, int64(unsafe.Sizeof(b)), 0o600)
	if err != nil {
		board.Perror(os.Stderr, "shmget", err)
		return 1
	}
	shm, err := seg.Attach(shmmap.AttachReadWrite)
	if err != nil {
		board.Perror(os.Stderr, "shmat", err)
		return 1
	}
	defer shm.Detach()
	p, err := shmmap.StructAt[board.Board](shm.Bytes(), 0)
	if err != nil {
		fmt.Fprintf(os.Stderr, "publish: %v\n", err)
		return 1
	}

	if err := sems.Lock(context.Background(), 0); err != nil {
		board.Perror(os.Stderr, "semop", err)
		return 1
	}
	p.Seq++
	p.Load = float64(n) / 4.0
	board.SetCString(p.Name[:], args[2])
	p.Nrec = uint16(n)
	p.Recs = [board.Records]board.Record{}
	for i := range n {
		r := &p.Recs[i]
		r.Id = uint32(1000 + i)
		r.Temp = int16(-25 + 17*i)
		r.State = uint8(i % 3)
		board.SetCString(r.Tag[:], fmt.Sprintf("t%d", i*11))
		r.Reading = float64(i)*1.25 - 3.5
	}
	p.Updated = p.Seq * 60
	seq, name := p.Seq, board.CString(p.Name[:])
	if err := sems.Unlock(0); err != nil {
		board.Perror(os.Stderr, "semop", err)
		return 1
	}

	fmt.Printf("published %s: seq %d, %d records, %d bytes\n", name, seq, n, unsafe.Sizeof(b))
	return 0
}
