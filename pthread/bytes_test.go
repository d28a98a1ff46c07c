package pthread_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shmmap/shmmap/pthread"
	"github.com/shmmap/shmmap/shmtest"
)

// kinds are the mutex types of the peer protocol with their Go types.
var kinds = []struct {
	name string
	typ  pthread.MutexType
}{
	{"default", pthread.MutexDefault},
	{"normal", pthread.MutexNormal},
	{"errorcheck", pthread.MutexErrorCheck},
	{"recursive", pthread.MutexRecursive},
	{"adaptive", pthread.MutexAdaptive},
}

// TestInitBytes holds InitMutex to pthread_mutex_init with a
// process-shared mutexattr of every type, robust or not: the bytes over
// memory that held garbage are the C peer's. MutexAt takes the C mutex
// back with the same attributes.
func TestInitBytes(t *testing.T) {
	requireC(t)
	shmtest.Isolate(t)
	for _, k := range kinds {
		for _, robust := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/robust=%v", k.name, robust), func(t *testing.T) {
				cf, cmem := memfd(t)
				_, gomem := memfd(t)
				fill := bytes.Repeat([]byte{0xa5}, 64)
				copy(cmem, fill)
				copy(gomem, fill)
				p := startPeer(t, "C", cf)
				p.do(t, "init %s %d 1", k.name, b2i(robust))
				attr := pthread.MutexAttr{Type: k.typ, Robust: robust}
				if _, err := pthread.InitMutex(gomem, attr); err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(cmem[:64], gomem[:64]); diff != "" {
					t.Errorf("64 bytes after pthread_mutex_init over 0xa5, C (-) vs Go (+):\n%s", diff)
				}
				m, err := pthread.MutexAt(cmem)
				if err != nil {
					t.Fatalf("MutexAt on C's mutex: %v", err)
				}
				if got := m.Attr(); got != attr {
					t.Errorf("Attr of C's mutex = %+v, want %+v", got, attr)
				}
			})
		}
	}
	t.Run("refused", func(t *testing.T) {
		f, mem := memfd(t)
		p := startPeer(t, "C", f)
		for _, c := range []struct {
			init string
			want error
		}{
			{"inherit 0 1", pthread.ErrUnsupported},
			{"protect 0 1", pthread.ErrUnsupported},
			{"inherit 1 1", pthread.ErrUnsupported},
			{"default 0 0", pthread.ErrNotShared},
			{"errorcheck 0 0", pthread.ErrNotShared},
		} {
			p.do(t, "init %s", c.init)
			if _, err := pthread.MutexAt(mem); !errors.Is(err, c.want) {
				t.Errorf("MutexAt on C's mutex (init %s) = %v, want %v", c.init, err, c.want)
			}
		}
		for _, proto := range []pthread.Protocol{pthread.ProtocolInherit, pthread.ProtocolProtect} {
			if _, err := pthread.InitMutex(mem, pthread.MutexAttr{Protocol: proto}); !errors.Is(err, pthread.ErrUnsupported) {
				t.Errorf("InitMutex with protocol %d = %v, want ErrUnsupported", proto, err)
			}
		}
	})
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// normalise replaces, in a dump of a pthread_mutex_t, what differs between
// processes by markers: a thread id in the lock word and in __owner (tids
// are the threads that may hold it, and the peers' process ids, which a Go
// peer writes in the __owner of a normal mutex), and non-null robust list
// pointers.
func normalise(b []byte, tids ...int) []byte {
	b = bytes.Clone(b)
	ne := binary.NativeEndian
	lock := ne.Uint32(b[0:])
	owner := int32(ne.Uint32(b[8:]))
	for _, tid := range tids {
		if lock&0x3fffffff == uint32(tid) {
			ne.PutUint32(b[0:], lock&^0x3fffffff|0x3fffffff)
		}
		if owner == int32(tid) {
			ne.PutUint32(b[8:], 0xeeeeeeee)
		}
	}
	listOff, words := 20, 1
	if pthread.MutexSize == 40 {
		listOff, words = 24, 2
	}
	w := pthread.MutexSize - listOff
	for i := range words {
		word := b[listOff+i*w/words : listOff+(i+1)*w/words]
		if !bytes.Equal(word, make([]byte, len(word))) {
			for j := range word {
				word[j] = 0xcc
			}
		}
	}
	return b
}

// TestStateBytes drives two C peers, then two Go peers, then two Go peers
// with Threads, through the same steps on a mutex of each type, robust or
// not, and compares the bytes at each step (thread ids and list pointers
// normalised): init, locked, locked with the other peer asleep waiting,
// handed over to it, unlocked.
func TestStateBytes(t *testing.T) {
	requireC(t)
	shmtest.Isolate(t)
	for _, k := range kinds {
		for _, robust := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/robust=%v", k.name, robust), func(t *testing.T) {
				steps := func(lang string) [][]byte {
					f, mem := memfd(t)
					copy(mem, bytes.Repeat([]byte{0x5a}, 64))
					a, b := startPeer(t, lang, f), startPeer(t, lang, f)
					ta, tb := a.tid(t), b.tid(t)
					var out [][]byte
					a.do(t, "init %s %d 1", k.name, b2i(robust))
					out = append(out, a.dump(t))
					a.do(t, "lock")
					out = append(out, normalise(a.dump(t), ta, tb, a.proc.Pid(), b.proc.Pid()))
					b.send(t, "lock")
					waitAsleep(t, b)
					out = append(out, normalise(a.dump(t), ta, tb, a.proc.Pid(), b.proc.Pid()))
					a.do(t, "unlock")
					if got := b.answer(t); got != "ok" {
						t.Fatalf("%v lock: %s", b, got)
					}
					out = append(out, normalise(b.dump(t), ta, tb, a.proc.Pid(), b.proc.Pid()))
					b.do(t, "unlock")
					out = append(out, normalise(b.dump(t), ta, tb, a.proc.Pid(), b.proc.Pid()))
					return out
				}
				c := steps("C")
				names := []string{"init", "locked", "locked-waiter", "handed-over", "unlocked"}
				for _, lang := range []string{"Go", "Go-Thread"} {
					g := steps(lang)
					for i := range c {
						if k.typ == pthread.MutexAdaptive {
							// __spins, a running average of spin
							// counts with random jitter (see
							// adaptiveLock).
							c[i][20], c[i][21], g[i][20], g[i][21] = 0, 0, 0, 0
						}
						if diff := cmp.Diff(c[i], g[i]); diff != "" {
							t.Errorf("%s: C (-) vs %s (+):\n%s", names[i], lang, diff)
						}
					}
				}
			})
		}
	}
}
