// Command consumer is ../c/consumer.c in Go: `consumer PATH` takes and
// prints the items of the queue for ftok(PATH, 'P'), made by a producer
// in C or Go, waiting on the same robust mutex and condition variables
// through package pthread, and removes the queue at the end, with the C
// program's output and exit status.
//
// When the producer dies holding the lock, Lock (or Wait, retaking the
// lock) returns an error matching pthread.ErrOwnerDead with the lock
// held: the consumer checks and repairs the queue as the C program does,
// calls Consistent and takes what is left.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"unsafe"

	"github.com/shmmap/shmmap"
	"github.com/shmmap/shmmap/examples/pthreadqueue/queue"
	"github.com/shmmap/shmmap/pthread"
)

func main() { os.Exit(run(os.Args)) }

// exitError ends the program with a status, after what it printed.
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// failed prints what the C program prints for a failed pthread call.
func failed(what string, err error) error {
	fmt.Fprintf(os.Stderr, "consumer: %s: %s\n", what, queue.Strerror(err))
	return exitError(1)
}

// recoverQueue repairs the queue after its producer died holding the
// lock, which the caller now holds (recover in consumer.c).
func recoverQueue(q *queue.Queue, mu *pthread.Mutex) error {
	fmt.Println("consumer: the producer died holding the lock (EOWNERDEAD)")
	queued := q.Tail - q.Head
	if queued > queue.Slots {
		// Exit holding the lock, inconsistent: the kernel marks it
		// owner-died again for whoever comes next.
		fmt.Fprintf(os.Stderr, "consumer: the queue is corrupt: head %d, tail %d\n", q.Head, q.Tail)
		return exitError(1)
	}
	if q.Count != queued {
		fmt.Printf("consumer: repaired count from %d to %d\n", q.Count, queued)
		q.Count = queued
	}
	q.Done = queue.Abandoned
	if err := mu.Consistent(); err != nil {
		return failed("pthread_mutex_consistent", err)
	}
	fmt.Println("consumer: recovered: the mutex is consistent again")
	return nil
}

func run(args []string) int {
	if len(args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: consumer PATH")
		return 2
	}
	key, err := shmmap.Ftok(args[1], queue.Proj)
	if err != nil {
		fmt.Fprint(os.Stderr, queue.Perror("ftok", err))
		return 1
	}
	seg, err := shmmap.OpenSegment(key)
	if err != nil {
		fmt.Fprint(os.Stderr, queue.Perror("shmget", err))
		return 1
	}
	info, err := seg.Stat()
	if err != nil {
		fmt.Fprint(os.Stderr, queue.Perror("shmctl", err))
		return 1
	}
	if size := unsafe.Sizeof(queue.Queue{}); info.Size != int64(size) {
		fmt.Fprintf(os.Stderr, "consumer: the queue is %d bytes, this program's is %d (another ABI?)\n", info.Size, size)
		return 1
	}
	shm, err := seg.Attach(shmmap.AttachReadWrite)
	if err != nil {
		fmt.Fprint(os.Stderr, queue.Perror("shmat", err))
		return 1
	}
	q, err := shmmap.StructAt[queue.Queue](shm.Bytes(), 0)
	if err != nil {
		fmt.Fprintf(os.Stderr, "consumer: %v\n", err)
		return 1
	}
	if atomic.LoadUint32(&q.Magic) != queue.Magic {
		fmt.Fprintln(os.Stderr, "consumer: the queue is not initialised (start the consumer once the producer says it is ready)")
		return 1
	}
	if err := consume(q); err != nil {
		var status exitError
		if errors.As(err, &status) {
			return int(status)
		}
		fmt.Fprintf(os.Stderr, "consumer: %v\n", err)
		return 1
	}
	shm.Detach()
	if err := seg.Remove(); err != nil {
		fmt.Fprint(os.Stderr, queue.Perror("shmctl", err))
		return 1
	}
	return 0
}

// consume takes and prints the items until the queue is finished or
// abandoned, and empty, then prints the summary.
func consume(q *queue.Queue) error {
	mu, err := pthread.MutexAt(q.Lock[:])
	if err != nil {
		return err
	}
	notEmpty, err := pthread.CondAt(q.Empty[:])
	if err != nil {
		return err
	}
	notFull, err := pthread.CondAt(q.Full[:])
	if err != nil {
		return err
	}
	var taken uint32
	var sum uint64
	var done uint32
	for {
		err := mu.Lock()
		if errors.Is(err, pthread.ErrOwnerDead) {
			err = recoverQueue(q, mu)
		} else if err != nil {
			err = failed("pthread_mutex_lock", err)
		}
		if err != nil {
			return err
		}
		for q.Count == 0 && q.Done == queue.Producing {
			ctx, cancel := context.WithTimeout(context.Background(), queue.WaitPeriod)
			err := notEmpty.WaitContext(ctx, mu)
			cancel()
			switch {
			case errors.Is(err, pthread.ErrOwnerDead):
				err = recoverQueue(q, mu)
			case errors.Is(err, context.DeadlineExceeded):
				err = nil
			case err != nil:
				err = failed("pthread_cond_timedwait", err)
			}
			if err != nil {
				return err
			}
		}
		if q.Count == 0 { // finished or abandoned, and empty
			done = q.Done
			if err := mu.Unlock(); err != nil {
				return failed("pthread_mutex_unlock", err)
			}
			break
		}
		i := q.Head
		v := q.Items[i%queue.Slots]
		q.Head++
		q.Count--
		notFull.Signal()
		if err := mu.Unlock(); err != nil {
			return failed("pthread_mutex_unlock", err)
		}
		taken++
		sum = queue.Sum(sum, v)
		fmt.Printf("item %d: %016x\n", i+1, v)
	}
	how := "died"
	if done == queue.Finished {
		how = "finished"
	}
	fmt.Printf("consumer: %d taken, checksum %016x; the producer %s\n", taken, sum, how)
	return nil
}
