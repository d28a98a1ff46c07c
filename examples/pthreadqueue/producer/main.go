// Command producer is ../c/producer.c in Go: `producer [-die-after K]
// PATH N` creates the queue for ftok(PATH, 'P'), initialises its robust
// process-shared mutex and its two condition variables (CLOCK_MONOTONIC)
// with package pthread, and queues the items 1..N for a consumer in C or
// Go, with the C program's output, exit status and bytes in the segment.
//
// -die-after K: once K items have been queued and taken, the producer
// kills itself with SIGKILL while holding the lock, halfway through
// queuing item K+1, as the C program does. The lock is on the robust list
// of the thread the holding goroutine is wired to, so the kernel marks it
// owner-died for the consumer, as it does for a C thread.
package main

import (
	"fmt"
	"os"
	"sync/atomic"
	"unsafe"

	"github.com/shmmap/shmmap"
	"github.com/shmmap/shmmap/examples/pthreadqueue/queue"
	"github.com/shmmap/shmmap/pthread"
	"golang.org/x/sys/unix"
)

func main() { os.Exit(run(os.Args)) }

// fail prints what the C program prints for a failed pthread call.
func fail(what string, err error) int {
	fmt.Fprintf(os.Stderr, "producer: %s: %s\n", what, queue.Strerror(err))
	return 1
}

func run(args []string) int {
	dieAfter := -1
	if len(args) == 5 && args[1] == "-die-after" {
		k, ok := queue.ParseCount(args[2])
		if !ok {
			fmt.Fprintf(os.Stderr, "producer: K must be 0..%d\n", queue.MaxItems)
			return 2
		}
		dieAfter = k
		args = append(args[:1:1], args[3:]...)
	}
	if len(args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: producer [-die-after K] PATH N")
		return 2
	}
	n, ok := queue.ParseCount(args[2])
	if !ok {
		fmt.Fprintf(os.Stderr, "producer: N must be 0..%d\n", queue.MaxItems)
		return 2
	}

	key, err := shmmap.Ftok(args[1], queue.Proj)
	if err != nil {
		fmt.Fprint(os.Stderr, queue.Perror("ftok", err))
		return 1
	}
	seg, err := shmmap.CreateSegment(key, int64(unsafe.Sizeof(queue.Queue{})), 0o600)
	if err != nil {
		fmt.Fprint(os.Stderr, queue.Perror("shmget", err))
		return 1
	}
	shm, err := seg.Attach(shmmap.AttachReadWrite)
	if err != nil {
		fmt.Fprint(os.Stderr, queue.Perror("shmat", err))
		seg.Remove()
		return 1
	}
	defer shm.Detach()
	q, err := shmmap.StructAt[queue.Queue](shm.Bytes(), 0)
	if err != nil {
		fmt.Fprintf(os.Stderr, "producer: %v\n", err)
		return 1
	}

	// The segment is new, so all zeroes. Magic is stored last: a consumer
	// that sees it sees the mutex and the condition variables initialised.
	mu, err := pthread.InitMutex(q.Lock[:], pthread.MutexAttr{Robust: true})
	if err != nil {
		return fail("pthread_mutex_init", err)
	}
	notEmpty, err := pthread.InitCondClock(q.Empty[:], unix.CLOCK_MONOTONIC)
	if err != nil {
		return fail("pthread_cond_init", err)
	}
	notFull, err := pthread.InitCondClock(q.Full[:], unix.CLOCK_MONOTONIC)
	if err != nil {
		return fail("pthread_cond_init", err)
	}
	atomic.StoreUint32(&q.Magic, queue.Magic)
	fmt.Printf("producer: queue ready, %d slots, %d items to queue\n", queue.Slots, n)

	var sum uint64
	for i := uint32(1); i <= uint32(n); i++ {
		dies := dieAfter >= 0 && i == uint32(dieAfter)+1
		if err := mu.Lock(); err != nil {
			return fail("pthread_mutex_lock", err)
		}
		for q.Count == queue.Slots || dies && q.Count > 0 {
			if err := notFull.Wait(mu); err != nil {
				return fail("pthread_cond_wait", err)
			}
		}
		v := queue.Item(i)
		q.Items[q.Tail%queue.Slots] = v
		q.Tail++
		if dies {
			fmt.Printf("producer: killing myself (SIGKILL) holding the lock, halfway through queuing item %d\n", i)
			unix.Kill(unix.Getpid(), unix.SIGKILL)
			select {} // SIGKILL cannot be caught: this is never reached
		}
		q.Count++
		notEmpty.Signal()
		if err := mu.Unlock(); err != nil {
			return fail("pthread_mutex_unlock", err)
		}
		sum = queue.Sum(sum, v)
	}

	if err := mu.Lock(); err != nil {
		return fail("pthread_mutex_lock", err)
	}
	q.Done = queue.Finished
	notEmpty.Broadcast()
	if err := mu.Unlock(); err != nil {
		return fail("pthread_mutex_unlock", err)
	}
	fmt.Printf("producer: queued %d items, checksum %016x\n", n, sum)
	return 0
}
