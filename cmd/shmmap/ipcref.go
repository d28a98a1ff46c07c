package main

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"strconv"
	"strings"

	"github.com/shmmap/shmmap"
	"golang.org/x/sys/unix"
)

// ipcKind is a System V IPC kind other than segments, as the sem and msg
// commands name it.
type ipcKind struct {
	arg  string // the synopsis placeholder: "SET", "Q"
	noun string // "semaphore set", "queue"
	idIs string // the name of its id: "semid", "msqid"
}

var (
	semKind = ipcKind{arg: "SET", noun: "semaphore set", idIs: "semid"}
	msgKind = ipcKind{arg: "Q", noun: "queue", idIs: "msqid"}
)

// refHelp explains the kind's argument, for the help texts.
func (k ipcKind) refHelp() string {
	return k.arg + ` names a ` + k.noun + ` as SEG names a segment: a key in hex (0x1234)
or decimal (4660), negative allowed (-5); id:N for the ` + k.noun + ` with ` + k.idIs + ` N
(the only way to name a private one); or ftok:PATH:PROJ for the key
ftok(PATH, PROJ) gives, PROJ a number (65, 0x41) or one character (A).`
}

// parseRef parses a SET or Q argument. It is a segRef, so that it prints
// and resolves ftok keys as a SEG does.
func (k ipcKind) parseRef(s string) (*segRef, error) {
	r := &segRef{text: s}
	switch {
	case strings.HasPrefix(s, "id:"):
		id, err := strconv.ParseInt(s[len("id:"):], 10, 32)
		if err != nil || id < 0 {
			return nil, fmt.Errorf("bad %s %q: id:N needs a %s, a decimal number from 0 to %d", k.arg, s, k.idIs, math.MaxInt32)
		}
		r.form, r.id = byID, int(id)
	case strings.HasPrefix(s, "ftok:"):
		rest := s[len("ftok:"):]
		i := strings.LastIndexByte(rest, ':')
		if i <= 0 {
			return nil, fmt.Errorf("bad %s %q: want ftok:PATH:PROJ", k.arg, s)
		}
		proj, err := parseProj(rest[i+1:])
		if err != nil {
			return nil, fmt.Errorf("bad %s %q: %v", k.arg, s, err)
		}
		r.form, r.path, r.proj = byFtok, rest[:i], proj
	default:
		key, err := parseKey(s)
		if err != nil {
			return nil, fmt.Errorf("bad %s %q: want a key (0x1234, 4660, -5), id:N or ftok:PATH:PROJ", k.arg, s)
		}
		r.form, r.key = byKey, key
	}
	return r, nil
}

// reason says in a few words why an operation on the object r names
// failed.
func (k ipcKind) reason(r *segRef, err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, unix.EIDRM):
		return "no such " + k.noun
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
	case r.form == byID && errors.Is(err, unix.EINVAL):
		// IPC_STAT of an id that is not one of this kind.
		return "no such " + k.noun
	}
	return errnoText(err)
}

// fail turns an error about r into one ready to print: "OP REF: REASON".
func (k ipcKind) fail(op string, r *segRef, err error) error {
	return fmt.Errorf("%s %v: %s", op, r, k.reason(r, err))
}

// find returns the id of the object r names, with get (semget or msgget
// with no flags) for a key and stat (IPC_STAT) to check an id:N. The error
// is ready to print.
func (k ipcKind) find(sys *shmmap.System, op string, r *segRef, get func(key int) (int, error), stat func(id int) error) (int, error) {
	if r.form == byID {
		if err := stat(r.id); err != nil {
			return 0, k.fail(op, r, err)
		}
		return r.id, nil
	}
	if err := r.resolveKey(sys, op); err != nil {
		return 0, err
	}
	if r.key == shmmap.IPCPrivate {
		return 0, fmt.Errorf("%s %v: no such %s (key 0 is IPC_PRIVATE: name a private %s by id:N)", op, r, k.noun, k.noun)
	}
	id, err := get(int(r.key))
	if err != nil {
		return 0, k.fail(op, r, err)
	}
	return id, nil
}

// intFlag is a flag holding a signed number (decimal, or hex with 0x).
type intFlag struct {
	v   int64
	set bool
}

// String returns the number in decimal.
func (n *intFlag) String() string {
	if n == nil {
		return "0"
	}
	return strconv.FormatInt(n.v, 10)
}

// Set parses a number.
func (n *intFlag) Set(s string) error {
	v, err := parseNum(s, 64)
	if err != nil {
		return err
	}
	n.v, n.set = v, true
	return nil
}

// runGroup dispatches a command with subcommands (sem, msg, posix mq).
func runGroup(e *env, c *command, subs []*command, args []string) error {
	if len(args) > 0 {
		if sub := lookup(subs, args[0]); sub != nil {
			return sub.run(e, sub, args[1:])
		}
	}
	pos, err := e.parse(c, newFlagSet(c.name), args)
	if err != nil {
		return err
	}
	names := make([]string, len(subs))
	for i, s := range subs {
		names[i] = s.name[strings.LastIndexByte(s.name, ' ')+1:]
	}
	if len(pos) == 0 {
		return usagef(c, "missing %s", strings.Join(names, ", "))
	}
	return usagef(c, "unknown command %q: want %s", pos[0], strings.Join(names, ", "))
}
