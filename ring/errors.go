package ring

import (
	"errors"
	"fmt"
)

// The errors the ring returns wrap one of these sentinels, so callers test
// them with errors.Is. A clean end of stream (the producer closed the ring
// and every message has been read) is io.EOF.
var (
	// ErrFull: TryWrite or TryClaim found no room for the record.
	ErrFull = errors.New("ring: full")
	// ErrEmpty: TryRead found no message.
	ErrEmpty = errors.New("ring: empty")
	// ErrPeerDead: the process on the other side of the ring died while
	// this side was waiting for it. Messages it published before dying are
	// still delivered; this error comes once the ring is drained (consumer)
	// or stays full (producer).
	ErrPeerDead = errors.New("ring: peer process died")
	// ErrCorrupt: the shared memory does not hold a consistent ring — a
	// wrong magic, version, header size or capacity, positions that
	// contradict each other, or a record header pointing past the end. The
	// ring never reads or writes outside its memory because of it.
	ErrCorrupt = errors.New("ring: corrupt")
	// ErrNotReady: Attach found memory that no one has initialised yet (a
	// zero magic). AttachContext waits instead.
	ErrNotReady = errors.New("ring: not initialised")
	// ErrTooLarge: a message longer than MaxMessage.
	ErrTooLarge = errors.New("ring: message too large")
	// ErrClosed: this Producer or Consumer was closed, or (for a producer)
	// the consumer closed its side.
	ErrClosed = errors.New("ring: closed")
	// ErrInUse: another live process (or another Producer/Consumer in this
	// process) already holds the role.
	ErrInUse = errors.New("ring: role already taken")
	// ErrInvalid: an argument or call the ring cannot take — memory too
	// small or not 8-byte aligned, the reserved padding type, Commit with
	// nothing claimed, a claim while one is uncommitted, or two calls at
	// once on one Producer or Consumer.
	ErrInvalid = errors.New("ring: invalid argument")
)

// errorf wraps sentinel with a formatted explanation.
func errorf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: %s", sentinel, fmt.Sprintf(format, args...))
}
