// Command semcounter is testdata/semcounter.c in Go, on the shmmap API:
//
//	semcounter SEGKEY SEMKEY N lock|nolock|hold [-impl cshim|purego]
//
// It increments the int64 at offset 0 of the segment at SEGKEY N times,
// each time under semaphore 0 of the set at SEMKEY taken with SEM_UNDO
// (lock), or with no semaphore (nolock), after waiting for semaphore 1 (the
// start gate) to be 0; hold takes the semaphore, prints "locked" and waits
// to be killed.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"sync/atomic"
	"syscall"
	"unsafe"

	"github.com/shmmap/shmmap"
	"github.com/shmmap/shmmap/impls"
)

func main() {
	implName := flag.String("impl", impls.DefaultName, "cshim or purego")
	flag.Parse()
	if flag.NArg() != 4 {
		fmt.Fprintln(os.Stderr, "usage: semcounter SEGKEY SEMKEY N lock|nolock|hold")
		os.Exit(2)
	}
	impl, err := impls.Lookup(*implName)
	check(err)
	sys := shmmap.Using(impl)
	segKey, err := strconv.ParseInt(flag.Arg(0), 0, 32)
	check(err)
	semKey, err := strconv.ParseInt(flag.Arg(1), 0, 32)
	check(err)
	n, err := strconv.Atoi(flag.Arg(2))
	check(err)

	seg, err := sys.OpenSegment(shmmap.Key(segKey))
	check(err)
	sems, err := sys.OpenSemaphores(shmmap.Key(semKey))
	check(err)
	shm, err := seg.Attach(shmmap.AttachReadWrite)
	check(err)
	// Zero-copy on purpose: the counter is shared with C processes.
	counter := (*int64)(unsafe.Pointer(&shm.Bytes()[0]))

	ctx := context.Background()
	switch flag.Arg(3) {
	case "hold":
		check(sems.Lock(ctx, 0))
		fmt.Println("locked")
		// Wait to be killed. (A bare select{} would end the process with
		// "all goroutines are asleep" and so release the lock.)
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM)
		<-sig
	case "lock", "nolock":
		locked := flag.Arg(3) == "lock"
		check(sems.Op(ctx, shmmap.SemOp{Num: 1, Delta: 0}))
		for range n {
			if locked {
				check(sems.Lock(ctx, 0))
			}
			v := atomic.LoadInt64(counter)
			for spin := 0; spin < 200; spin++ {
				atomic.LoadInt64(counter)
			}
			atomic.StoreInt64(counter, v+1)
			if locked {
				check(sems.Unlock(0))
			}
		}
	default:
		check(fmt.Errorf("unknown mode %q", flag.Arg(3)))
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "semcounter:", err)
		os.Exit(1)
	}
}
