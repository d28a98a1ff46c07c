// Command show is ../c/show.c in Go: `show [-r] PATH` prints the status
// board for ftok(PATH, 'B'), copied under the board's semaphore, and with
// -r then removes the segment and the semaphore. It never creates a board.
// Its output and exit status are the C program's, byte for byte.
package main

import (
	"context"
	"fmt"
	"os"
	"unsafe"

	"github.com/shmmap/shmmap"
	"github.com/shmmap/shmmap/examples/statusboard/board"
)

var states = []string{"ok", "warn", "fail"}

func main() { os.Exit(run(os.Args)) }

func run(args []string) int {
	rm := len(args) == 3 && args[1] == "-r"
	if rm {
		args = args[1:]
	}
	if len(args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: show [-r] PATH")
		return 2
	}
	key, err := shmmap.Ftok(args[1], board.Proj)
	if err != nil {
		board.Perror(os.Stderr, "ftok", err)
		return 1
	}
	sems, err := shmmap.OpenSemaphores(key)
	if err != nil {
		board.Perror(os.Stderr, "semget", err)
		return 1
	}
	seg, err := shmmap.OpenSegment(key)
	if err != nil {
		board.Perror(os.Stderr, "shmget", err)
		return 1
	}
	info, err := seg.Stat()
	if err != nil {
		board.Perror(os.Stderr, "shmctl", err)
		return 1
	}
	var b board.Board
	if info.Size < int64(unsafe.Sizeof(b)) {
		fmt.Fprintf(os.Stderr, "show: the board is %d bytes, this program's is %d (another ABI?)\n", info.Size, unsafe.Sizeof(b))
		return 1
	}
	shm, err := seg.Attach(shmmap.AttachReadOnly)
	if err != nil {
		board.Perror(os.Stderr, "shmat", err)
		return 1
	}
	shared, err := shmmap.StructAt[board.Board](shm.Bytes(), 0)
	if err != nil {
		fmt.Fprintf(os.Stderr, "show: %v\n", err)
		return 1
	}
	if err := sems.Lock(context.Background(), 0); err != nil {
		board.Perror(os.Stderr, "semop", err)
		return 1
	}
	b = *shared
	if err := sems.Unlock(0); err != nil {
		board.Perror(os.Stderr, "semop", err)
		return 1
	}
	shm.Detach()

	fmt.Printf("board %s: seq %d, updated %d, load %.2f\n", board.CString(b.Name[:31]), b.Seq, b.Updated, b.Load)
	for _, r := range b.Recs[:min(int(b.Nrec), board.Records)] {
		state := "?"
		if int(r.State) < len(states) {
			state = states[r.State]
		}
		fmt.Printf("  %-4.4s id %d  temp %5.1f  %-4s  reading %+.3f\n", board.CString(r.Tag[:]), r.Id, float64(r.Temp)/10.0, state, r.Reading)
	}
	if rm {
		if err := seg.Remove(); err != nil {
			board.Perror(os.Stderr, "shmctl", err)
			return 1
		}
		if err := sems.Remove(); err != nil {
			board.Perror(os.Stderr, "semctl", err)
			return 1
		}
	}
	return 0
}
