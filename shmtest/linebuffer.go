package shmtest

import (
	"bytes"
	"sync"
)

// lineBuffer is an io.Writer that keeps everything written to it and
// splits it into lines, waking whoever waits for a new line.
type lineBuffer struct {
	mu     sync.Mutex
	all    []byte
	lines  []string
	start  int           // where the unfinished last line begins in all
	notify chan struct{} // closed and replaced at each new line
}

func newLineBuffer() *lineBuffer { return &lineBuffer{notify: make(chan struct{})} }

func (b *lineBuffer) Write(data []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.all = append(b.all, data...)
	added := false
	for {
		i := bytes.IndexByte(b.all[b.start:], '\n')
		if i < 0 {
			break
		}
		b.lines = append(b.lines, string(b.all[b.start:b.start+i]))
		b.start += i + 1
		added = true
	}
	if added {
		close(b.notify)
		b.notify = make(chan struct{})
	}
	return len(data), nil
}

// close makes an unfinished last line a line.
func (b *lineBuffer) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.start < len(b.all) {
		b.lines = append(b.lines, string(b.all[b.start:]))
		b.start = len(b.all)
		close(b.notify)
		b.notify = make(chan struct{})
	}
}

// changed returns a channel closed at the next new line.
func (b *lineBuffer) changed() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.notify
}

func (b *lineBuffer) linesFrom(i int) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.lines[i:len(b.lines):len(b.lines)]
}

func (b *lineBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.all)
}

func (b *lineBuffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.all)
}
