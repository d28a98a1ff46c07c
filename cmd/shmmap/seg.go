package main

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"math"
	"strconv"
	"strings"
	"syscall"

	"github.com/shmmap/shmmap"
	"golang.org/x/sys/unix"
)

// segHelp explains SEG, for the help texts.
const segHelp = `SEG names a segment: a key in hex (0x1234) or decimal (4660), negative
allowed (-5); id:N for the segment with shmid N (private segments, and
segments removed while attached, have only an id); or ftok:PATH:PROJ for the
key ftok(PATH, PROJ) gives, PROJ a number (65, 0x41) or one character (A).`

// segForm says how a SEG names its segment.
type segForm int

// The forms of SEG.
const (
	byKey  segForm = iota // a key
	byID                  // id:N
	byFtok                // ftok:PATH:PROJ
)

// segRef is a segment as named on the command line.
type segRef struct {
	text string // as given
	form segForm
	key  shmmap.Key // byKey, and byFtok once resolved
	id   int        // byID
	path string     // byFtok
	proj int        // byFtok
	// resolved is set once a byFtok key has been computed.
	resolved bool
}

// parseSeg parses a SEG argument. The error says what is wrong and what a
// SEG looks like.
func parseSeg(s string) (*segRef, error) {
	r := &segRef{text: s}
	switch {
	case strings.HasPrefix(s, "id:"):
		id, err := strconv.ParseInt(s[len("id:"):], 10, 32)
		if err != nil || id < 0 {
			return nil, fmt.Errorf("bad SEG %q: id:N needs a shmid, a decimal number from 0 to %d", s, math.MaxInt32)
		}
		r.form, r.id = byID, int(id)
	case strings.HasPrefix(s, "ftok:"):
		rest := s[len("ftok:"):]
		i := strings.LastIndexByte(rest, ':')
		if i <= 0 {
			return nil, fmt.Errorf("bad SEG %q: want ftok:PATH:PROJ", s)
		}
		proj, err := parseProj(rest[i+1:])
		if err != nil {
			return nil, fmt.Errorf("bad SEG %q: %v", s, err)
		}
		r.form, r.path, r.proj = byFtok, rest[:i], proj
	default:
		key, err := parseKey(s)
		if err != nil {
			return nil, fmt.Errorf("bad SEG %q: want a key (0x1234, 4660, -5), id:N or ftok:PATH:PROJ", s)
		}
		r.form, r.key = byKey, key
	}
	return r, nil
}

// parseKey parses a key: hex with 0x or decimal, from the most negative
// key_t to 0xffffffff (the 32 bits as ipcs prints them).
func parseKey(s string) (shmmap.Key, error) {
	v, err := parseNum(s, 64)
	if err != nil {
		return 0, err
	}
	if v < math.MinInt32 || v > math.MaxUint32 {
		return 0, fmt.Errorf("%q is out of the range of a key", s)
	}
	return shmmap.Key(int32(uint32(v))), nil
}

// parseProj parses ftok's project id: a number, or a single character
// standing for its byte value as in C's ftok(path, 'A').
func parseProj(s string) (int, error) {
	if v, err := parseNum(s, 32); err == nil {
		return int(v), nil
	}
	if len(s) == 1 {
		return int(s[0]), nil
	}
	return 0, fmt.Errorf("PROJ %q is neither a number nor a single character", s)
}

// String names the segment in messages: "key 0x00001234", "id 3", or
// "key 0x4101e2a5 (ftok /etc/x A)".
func (r *segRef) String() string {
	switch {
	case r.form == byID:
		return fmt.Sprintf("id %d", r.id)
	case r.form == byFtok && r.resolved:
		return fmt.Sprintf("key %v (ftok %s %s)", r.key, r.path, r.text[strings.LastIndexByte(r.text, ':')+1:])
	case r.form == byFtok:
		return r.text
	}
	return "key " + r.key.String()
}

// resolveKey computes the key of a byFtok reference (byKey has one already).
// The error is ready to print: "OP ftok PATH: no such file or directory".
func (r *segRef) resolveKey(sys *shmmap.System, op string) error {
	if r.form != byFtok || r.resolved {
		return nil
	}
	key, err := sys.Ftok(r.path, r.proj)
	if err != nil {
		return fmt.Errorf("%s %s: ftok %s: %s", op, r.text, r.path, errnoText(err))
	}
	r.key, r.resolved = key, true
	return nil
}

// open finds the segment. The error is ready to print, naming op, the
// segment and the reason.
func (r *segRef) open(sys *shmmap.System, op string) (*shmmap.Segment, error) {
	if r.form == byID {
		seg, err := sys.OpenSegmentID(r.id)
		if err != nil {
			return nil, r.fail(op, err)
		}
		return seg, nil
	}
	if err := r.resolveKey(sys, op); err != nil {
		return nil, err
	}
	if r.key == shmmap.IPCPrivate {
		return nil, fmt.Errorf("%s %v: no such segment (key 0 is IPC_PRIVATE: name a private segment by id:N)", op, r)
	}
	seg, err := sys.OpenSegment(r.key)
	if err != nil {
		return nil, r.fail(op, err)
	}
	return seg, nil
}

// openArg is the common start of the subcommands on one segment: parse
// the flags in fset and the one SEG argument, and open the segment.
func openArg(e *env, c *command, fset *flag.FlagSet, args []string) (*segRef, *shmmap.Segment, error) {
	pos, err := e.parse(c, fset, args)
	if err != nil {
		return nil, nil, err
	}
	if err := wantArgs(c, pos, "SEG"); err != nil {
		return nil, nil, err
	}
	ref, err := parseSeg(pos[0])
	if err != nil {
		return nil, nil, usagef(c, "%v", err)
	}
	seg, err := ref.open(e.system(), c.name)
	if err != nil {
		return nil, nil, err
	}
	return ref, seg, nil
}

// attachArg is openArg that also attaches the segment in mode (cat,
// write). The caller detaches.
func attachArg(e *env, c *command, fset *flag.FlagSet, args []string, mode shmmap.AttachMode) (*segRef, *shmmap.Attachment, error) {
	ref, seg, err := openArg(e, c, fset, args)
	if err != nil {
		return nil, nil, err
	}
	att, err := seg.Attach(mode)
	if err != nil {
		return nil, nil, ref.fail(c.name, err)
	}
	return ref, att, nil
}

// fail turns an error of the library about r into one ready to print:
// "OP SEGMENT: REASON".
func (r *segRef) fail(op string, err error) error {
	return fmt.Errorf("%s %v: %s", op, r, r.reason(err))
}

// reason says in a few words why an operation on r failed.
func (r *segRef) reason(err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "no such segment"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
	case r.form == byID && errors.Is(err, unix.EINVAL):
		// IPC_STAT of an id that is not a segment's.
		return "no such segment"
	case errors.Is(err, fs.ErrExist):
		return "segment already exists"
	}
	return errnoText(err)
}

// errnoText is the errno behind err in words ("no such file or
// directory"), or err's own text if there is none.
func errnoText(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno.Error()
	}
	return err.Error()
}
