package pthread_test

import (
	"context"
	"time"

	"github.com/shmmap/shmmap/pthread"
	"golang.org/x/sys/unix"
)

// timedLock is LockContext with a timeout, its context error mapped to
// the errno pthread_mutex_timedlock returns.
func timedLock(m *pthread.Mutex, d time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	err := m.LockContext(ctx)
	if err == context.DeadlineExceeded {
		return unix.ETIMEDOUT
	}
	return err
}
