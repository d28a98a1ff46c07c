package main

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shmmap/shmmap"
	"github.com/shmmap/shmmap/impls"
	"github.com/shmmap/shmmap/shmtest"
)

// segSnapshot is what must not change when a command fails: every
// segment's identity, size, mode, state and bytes.
type segSnapshot struct {
	Key             shmmap.Key
	ID              int
	Size            int64
	Mode            string
	Nattch          int
	Removed, Locked bool
	UID, GID        int
	Contents        []byte
}

// snapshot returns every segment of the namespace, with its contents.
func snapshot(t *testing.T) []segSnapshot {
	t.Helper()
	infos, err := shmmap.ListSegments()
	if err != nil {
		t.Fatal(err)
	}
	var snap []segSnapshot
	for _, in := range infos {
		seg, err := shmmap.OpenSegmentID(in.ID)
		if err != nil {
			t.Fatal(err)
		}
		a, err := seg.Attach(shmmap.AttachReadOnly)
		if err != nil {
			t.Fatal(err)
		}
		snap = append(snap, segSnapshot{Key: in.Key, ID: in.ID, Size: in.Size, Mode: in.Mode.String(), Nattch: in.Nattch,
			Removed: in.Removed, Locked: in.Locked, UID: in.UID, GID: in.GID, Contents: bytes.Clone(a.Bytes())})
		a.Detach()
	}
	return snap
}

// TestBadInput: every kind of bad input gives a message naming the command,
// the segment and the reason, status 1 for a failure and 2 for a usage
// error, nothing on stdout, and no change to any segment. The permission
// cases run as the unprivileged user against root's 0600 segment, which the
// C writer made.
func TestBadInput(t *testing.T) {
	// id stands for the shmid of the C writer's segment, known once each
	// case has made it.
	const id = "{id}"
	cshimMissing := true
	for _, impl := range impls.All() {
		if impl.Name == "cshim" {
			cshimMissing = false
		}
	}
	const noPID = "4194305" // above the largest pid_max Linux allows

	cases := []struct {
		name   string
		args   []string
		stdin  string
		nobody bool
		status int
		stderr string // the first line of stderr, exactly
	}{
		{"unknown key", []string{"stat", "0x4242"}, "", false, 1, "shmmap: stat key 0x00004242: no such segment"},
		{"unknown negative key", []string{"cat", "-5"}, "", false, 1, "shmmap: cat key 0xfffffffb: no such segment"},
		{"unknown id", []string{"stat", "id:77"}, "", false, 1, "shmmap: stat id 77: no such segment"},
		{"private key", []string{"stat", "0"}, "", false, 1, "shmmap: stat key 0x00000000: no such segment (key 0 is IPC_PRIVATE: name a private segment by id:N)"},
		{"rm unknown key", []string{"rm", "0x4242"}, "", false, 1, "shmmap: rm key 0x00004242: no such segment"},
		{"write unknown key", []string{"write", "0x4242"}, "data", false, 1, "shmmap: write key 0x00004242: no such segment"},
		{"ftok of a missing file", []string{"stat", "ftok:/nonexistent/file:A"}, "", false, 1, "shmmap: stat ftok:/nonexistent/file:A: ftok /nonexistent/file: no such file or directory"},

		{"stat as nobody", []string{"stat", "id:" + id}, "", true, 1, "shmmap: stat id " + id + ": permission denied"},
		{"cat as nobody", []string{"cat", "id:" + id}, "", true, 1, "shmmap: cat id " + id + ": permission denied"},
		{"cat by key as nobody", []string{"cat", "0x1234"}, "", true, 1, "shmmap: cat key 0x00001234: permission denied"},
		{"write as nobody", []string{"write", "id:" + id}, "evil", true, 1, "shmmap: write id " + id + ": permission denied"},
		{"write to 0644 as nobody", []string{"write", "0x5678"}, "evil", true, 1, "shmmap: write key 0x00005678: permission denied"},
		{"rm as nobody", []string{"rm", "--force", "id:" + id}, "", true, 1, "shmmap: rm id " + id + ": permission denied"},

		{"cat offset past the end", []string{"cat", "--offset", "1025", "0x1234"}, "", false, 1, "shmmap: cat key 0x00001234: offset 1025 is past the end of the segment (1024 bytes)"},
		{"cat length past the end", []string{"cat", "--offset", "1000", "--length", "25", "0x1234"}, "", false, 1, "shmmap: cat key 0x00001234: offset 1000 + length 25 is past the end of the segment (1024 bytes)"},
		{"write offset past the end", []string{"write", "--offset", "2000", "0x1234"}, "x", false, 1, "shmmap: write key 0x00001234: offset 2000 is past the end of the segment (1024 bytes); nothing written"},
		{"write too long", []string{"write", "0x1234", "--offset", "1020"}, "12345", false, 1, "shmmap: write key 0x00001234: stdin is longer than the 4 bytes that fit at offset 1020 (the segment is 1024 bytes); nothing written"},
		{"write too long at 0", []string{"write", "0x1234"}, strings.Repeat("z", 1025), false, 1, "shmmap: write key 0x00001234: stdin is longer than the 1024 bytes that fit at offset 0 (the segment is 1024 bytes); nothing written"},
		{"create an existing key", []string{"create", "0x1234", "10"}, "", false, 1, "shmmap: create key 0x00001234: a segment with this key already exists"},
		{"maps of no process", []string{"maps", noPID}, "", false, 1, "shmmap: maps pid " + noPID + ": no such process"},
		{"ftok of a missing file", []string{"ftok", "/nonexistent/file", "1"}, "", false, 1, "shmmap: ftok /nonexistent/file: no such file or directory"},
		{"posix rm of a missing object", []string{"posix", "rm", uniqueShmName("missing")}, "", false, 1, ""},

		{"garbage SEG", []string{"stat", "0x12zz"}, "", false, 2, `shmmap stat: bad SEG "0x12zz": want a key (0x1234, 4660, -5), id:N or ftok:PATH:PROJ`},
		{"garbage id", []string{"cat", "id:abc"}, "", false, 2, `shmmap cat: bad SEG "id:abc": id:N needs a shmid, a decimal number from 0 to 2147483647`},
		{"garbage ftok", []string{"rm", "ftok:nocolon"}, "", false, 2, `shmmap rm: bad SEG "ftok:nocolon": want ftok:PATH:PROJ`},
		{"garbage ftok proj", []string{"stat", "ftok:/etc:AB"}, "", false, 2, `shmmap stat: bad SEG "ftok:/etc:AB": PROJ "AB" is neither a number nor a single character`},
		{"key too big", []string{"stat", "0x100000000"}, "", false, 2, `shmmap stat: bad SEG "0x100000000": want a key (0x1234, 4660, -5), id:N or ftok:PATH:PROJ`},
		{"empty SEG", []string{"write", ""}, "x", false, 2, `shmmap write: bad SEG "": want a key (0x1234, 4660, -5), id:N or ftok:PATH:PROJ`},
		{"garbage PID", []string{"maps", "abc"}, "", false, 2, `shmmap maps: bad PID "abc": want a process id, a positive decimal number`},
		{"negative PID", []string{"maps", "-1"}, "", false, 2, `shmmap maps: bad PID "-1": want a process id, a positive decimal number`},
		{"negative offset", []string{"cat", "--offset", "-1", "0x1234"}, "", false, 2, `shmmap cat: invalid value "-1" for flag -offset: "-1" is negative`},
		{"garbage offset", []string{"write", "0x1234", "--offset", "ten"}, "x", false, 2, `shmmap write: invalid value "ten" for flag -offset: "ten" is not a number`},
		{"missing SEG", []string{"cat"}, "", false, 2, "shmmap cat: missing SEG"},
		{"extra argument", []string{"stat", "0x1234", "0x5678"}, "", false, 2, "shmmap stat: too many arguments: 0x5678"},
		{"unknown flag", []string{"ls", "--long"}, "", false, 2, "shmmap ls: flag provided but not defined: -long"},
		{"unknown command", []string{"frobnicate"}, "", false, 2, `shmmap: unknown command "frobnicate"`},
		{"no command", nil, "", false, 2, "shmmap: no command given"},
		{"bad size", []string{"create", "0x4242", "0"}, "", false, 2, `shmmap create: bad SIZE "0": want a number of bytes, at least 1`},
		{"bad mode", []string{"create", "0x4242", "10", "--mode", "0800"}, "", false, 2, `shmmap create: invalid value "0800" for flag -mode: "0800" is not an octal mode from 0000 to 0777`},
		{"create by id", []string{"create", "id:3", "10"}, "", false, 2, `shmmap create: bad KEY "id:3": want a key (0x1234, 4660, -5) or ftok:PATH:PROJ`},
		{"unknown implementation", []string{"-impl", "bogus", "stat", "0x1234"}, "", false, 2, `shmmap: -impl unknown implementation "bogus" (want cshim or purego)`},
	}
	if cshimMissing {
		cases = append(cases, struct {
			name   string
			args   []string
			stdin  string
			nobody bool
			status int
			stderr string
		}{"cshim not built in", []string{"ls", "-impl", "cshim"}, "", false, 2,
			"shmmap: -impl cshim: implementation not built into this binary (it needs cgo; this binary was built with CGO_ENABLED=0)"})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			shmtest.Isolate(t)
			startWriter(t, cWriter(t))
			seg, err := shmmap.OpenSegment(shmKey)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := shmmap.CreateSegment(0x5678, 100, 0o644); err != nil {
				t.Fatal(err)
			}
			fill := func(s string) string { return strings.ReplaceAll(s, id, strconv.Itoa(seg.ID())) }
			args := make([]string, len(c.args))
			for i, a := range c.args {
				args[i] = fill(a)
			}
			before := snapshot(t)
			res := runShmmap(t, runOpts{stdin: []byte(c.stdin), nobody: c.nobody}, args...)
			first, _, _ := strings.Cut(res.Stderr, "\n")
			want := fill(c.stderr)
			if res.Status != c.status || res.Stdout != "" || (want != "" && first != want) || !strings.HasPrefix(first, "shmmap") {
				t.Errorf("shmmap %q: status %d, stdout %q, stderr %q;\nwant status %d, no stdout, stderr starting %q",
					args, res.Status, res.Stdout, res.Stderr, c.status, want)
			}
			if d := cmp.Diff(before, snapshot(t)); d != "" {
				t.Errorf("shmmap %q changed the segments (-before +after):\n%s", args, d)
			}
		})
	}
}

// TestHelp: -h on every command, and the help command, print the command's
// synopsis on stdout and exit 0.
func TestHelp(t *testing.T) {
	cases := map[string][]string{
		"usage: shmmap [-impl cshim|purego] COMMAND [ARGS]":       {"-h"},
		"usage: shmmap ls [--json]":                               {"ls", "-h"},
		"usage: shmmap stat [--json] SEG":                         {"stat", "--help"},
		"usage: shmmap create [--mode 0600] KEY SIZE":             {"create", "0x1", "-h"},
		"usage: shmmap rm [--force] SEG":                          {"help", "rm"},
		"usage: shmmap cat [--offset N] [--length N] [--hex] SEG": {"cat", "-h"},
		"usage: shmmap write [--offset N] SEG":                    {"write", "-h"},
		"usage: shmmap maps [--json] PID":                         {"maps", "-h"},
		"usage: shmmap ftok [--json] PATH PROJ":                   {"ftok", "-h"},
		"usage: shmmap posix ls|rm ...":                           {"posix", "-h"},
		"usage: shmmap posix ls [--json]":                         {"posix", "ls", "-h"},
		"usage: shmmap posix rm NAME...":                          {"help", "posix", "rm"},
	}
	for want, args := range cases {
		res := runShmmap(t, runOpts{}, args...)
		first, _, _ := strings.Cut(res.Stdout, "\n")
		if res.Status != 0 || res.Stderr != "" || first != want {
			t.Errorf("shmmap %q: status %d, first line %q, stderr %q; want 0, %q", args, res.Status, first, res.Stderr, want)
		}
	}
}
