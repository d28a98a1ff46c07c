// Package queue is the Go side of the queue's C header, c/queue.h: the
// struct queue type, generated from the header by `shmmap layout --go`
// (one file per ABI: pthread_mutex_t is 40 bytes on x86-64 and 24 on
// i386, and i386 aligns uint64_t to 4 inside a struct), the header's
// constants and inline functions, and what the Go producer and consumer
// share.
//
// The mutex and the condition variables are byte arrays of the C types'
// sizes in Queue; the programs reach them with pthread.MutexAt and
// pthread.CondAt over those bytes, in the segment. Queue is checked
// against the header for both x86 ABIs by layout.Check in
// ../pthreadqueue_test.go; regenerate it with go generate after a change
// to the header.
package queue

// The x86-64 file also serves riscv64, ppc64le and s390x, whose glibc
// pthread_mutex_t is 40 bytes too; aarch64's is 48 bytes, so arm64 has a
// file of its own, written by hand. Neither is checked by a test (nor is
// package pthread on those architectures).
//go:generate sh -c "{ echo '//go:build amd64 || riscv64 || ppc64le || s390x'; echo; go run ../../../cmd/shmmap layout --go --package queue ../c/queue.h 'struct queue'; } > ztypes_lp64.go"
//go:generate sh -c "go run ../../../cmd/shmmap layout --go --m32 --package queue ../c/queue.h 'struct queue' > ztypes_386.go"

import (
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/shmmap/shmmap/purego"
)

// Proj is QUEUE_PROJ, the project id both sides give ftok with the path.
const Proj = 'P'

// Slots is QUEUE_SLOTS, the length of Queue.Items.
const Slots = 16

// Magic is QUEUE_MAGIC, which the producer stores in Queue.Magic once the
// mutex and the condition variables are initialised.
const Magic = 0x51554531

// The values of Queue.Done.
const (
	Producing = 0 // QUEUE_PRODUCING
	Finished  = 1 // QUEUE_FINISHED: the producer queued all its items and left
	Abandoned = 2 // QUEUE_ABANDONED: the producer died; set by the consumer that recovered
)

// MaxItems is the most items the producer queues in one run (MAX_ITEMS in
// c/producer.c).
const MaxItems = 1000000

// WaitPeriod is how long the consumer waits on not_empty at a time before
// it tries the lock again (WAIT_NS in c/consumer.c): nobody signals a
// condition variable for a producer that died holding the lock.
const WaitPeriod = 100 * time.Millisecond

// Item is queue_item: the value of the i-th item (from 1) the producer
// queues.
func Item(i uint32) uint64 { return uint64(i) * 0x9e3779b97f4a7c15 }

// Sum is queue_sum: it folds an item into a running checksum.
func Sum(sum, item uint64) uint64 { return (sum<<5 | sum>>59) ^ item }

// ParseCount parses a count 0..MaxItems as the C programs do (strtol in
// base 10, with nothing after the number): optional leading white space
// and sign, then decimal digits. ok is false for anything else.
func ParseCount(s string) (n int, ok bool) {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] >= '\t' && s[i] <= '\r') {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	if i == len(s) {
		return 0, false
	}
	for ; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		if n = n*10 + int(s[i]-'0'); n > MaxItems {
			return 0, false
		}
	}
	if neg && n != 0 {
		return 0, false
	}
	return n, true
}

// Strerror returns what glibc's strerror returns for err's errno (the
// first syscall.Errno in its chain), so that the Go programs print the C
// programs' messages; err's own text if it has no errno.
func Strerror(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return purego.Strerror(errno)
	}
	return err.Error()
}

// Perror returns what glibc's perror(s) writes for err: "s: message\n".
func Perror(s string, err error) string { return fmt.Sprintf("%s: %s\n", s, Strerror(err)) }
