package main

import (
	"bytes"
	"flag"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shmmap/shmmap"
)

// TestParseSeg: every form of SEG, and the garbage that must be refused.
func TestParseSeg(t *testing.T) {
	good := map[string]segRef{
		"0x1234":          {form: byKey, key: 0x1234},
		"0X1234":          {form: byKey, key: 0x1234},
		"4660":            {form: byKey, key: 0x1234},
		"0004660":         {form: byKey, key: 0x1234}, // decimal, not octal
		"-5":              {form: byKey, key: -5},
		"0xfffffffb":      {form: byKey, key: -5},
		"4294967291":      {form: byKey, key: -5},
		"-2147483648":     {form: byKey, key: -1 << 31},
		"0":               {form: byKey, key: shmmap.IPCPrivate},
		"id:0":            {form: byID, id: 0},
		"id:2147483647":   {form: byID, id: 1<<31 - 1},
		"ftok:/etc:A":     {form: byFtok, path: "/etc", proj: 'A'},
		"ftok:/etc:65":    {form: byFtok, path: "/etc", proj: 65},
		"ftok:/etc:1":     {form: byFtok, path: "/etc", proj: 1},
		"ftok:/etc:0x80":  {form: byFtok, path: "/etc", proj: 0x80},
		"ftok:/a:b c:d:Z": {form: byFtok, path: "/a:b c:d", proj: 'Z'},
	}
	for s, want := range good {
		got, err := parseSeg(s)
		if err != nil {
			t.Errorf("parseSeg(%q): %v", s, err)
			continue
		}
		want.text = s
		if d := cmp.Diff(want, *got, cmp.AllowUnexported(segRef{})); d != "" {
			t.Errorf("parseSeg(%q) (-want +got):\n%s", s, d)
		}
	}
	for _, s := range []string{"", "x", "0x", "0x12zz", "--5", "+-5", "1_000", "0b101", "0o17", "4294967296", "-2147483649", "0x100000000",
		"id:", "id:-1", "id:x", "id:0x10", "id:2147483648", "ftok:", "ftok:/etc", "ftok::A", "ftok:/etc:", "ftok:/etc:AB", "ftok:/etc:é", "ftok:/etc::", "key:5"} {
		if got, err := parseSeg(s); err == nil {
			t.Errorf("parseSeg(%q) = %+v, want an error", s, got)
		}
	}
}

// TestParseInterspersed: flags before, between and after the arguments,
// -- ending the flags, and negative numbers taken as arguments.
func TestParseInterspersed(t *testing.T) {
	cases := []struct {
		args      []string
		pos       []string
		offset    string
		hex, json bool
	}{
		{[]string{"0x1234"}, []string{"0x1234"}, "0", false, false},
		{[]string{"--offset", "5", "0x1234", "--hex"}, []string{"0x1234"}, "5", true, false},
		{[]string{"0x1234", "-offset=7", "-json"}, []string{"0x1234"}, "7", false, true},
		{[]string{"-5", "--offset", "-0"}, []string{"-5"}, "0", false, false},
		{[]string{"--hex", "--", "--json", "-x"}, []string{"--json", "-x"}, "0", true, false},
		{[]string{"a", "-", "b"}, []string{"a", "-", "b"}, "0", false, false},
	}
	for _, c := range cases {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		var offset numFlag
		fs.Var(&offset, "offset", "")
		hex := fs.Bool("hex", false, "")
		asJSON := fs.Bool("json", false, "")
		pos, err := parseInterspersed(fs, c.args)
		if err != nil {
			t.Errorf("%q: %v", c.args, err)
			continue
		}
		if d := cmp.Diff(c.pos, pos); d != "" || offset.String() != c.offset || *hex != c.hex || *asJSON != c.json {
			t.Errorf("%q: positional %q offset %s hex %v json %v; want %q %s %v %v", c.args, pos, &offset, *hex, *asJSON, c.pos, c.offset, c.hex, c.json)
		}
	}
	for _, args := range [][]string{{"--nope"}, {"--offset"}, {"--offset", "x"}, {"--offset", "-3"}, {"---hex"}} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(new(bytes.Buffer))
		var offset numFlag
		fs.Var(&offset, "offset", "")
		fs.Bool("hex", false, "")
		if _, err := parseInterspersed(fs, args); err == nil {
			t.Errorf("%q: parsed, want an error", args)
		}
	}
}

// TestHexDumper: the dump of random bytes, runs of equal lines, partial
// lines and every start offset is byte for byte what hexdump -C prints.
func TestHexDumper(t *testing.T) {
	hexdump, err := exec.LookPath("hexdump")
	if err != nil {
		t.Skip("hexdump is not installed")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	file := filepath.Join(t.TempDir(), "data")
	zeros := make([]byte, 100)
	random := make([]byte, 300)
	for i := range random {
		random[i] = byte(rng.IntN(256))
	}
	data := bytes.Join([][]byte{random[:40], zeros, []byte("a line of text\x00\x01\x7f\x80\xff"), zeros, bytes.Repeat([]byte("0123456789abcdef"), 5), random[40:]}, nil)
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, r := range [][2]int{{0, len(data)}, {0, 1}, {0, 15}, {0, 16}, {0, 17}, {3, 100}, {40, 100}, {40, 116}, {47, 200}, {100, len(data) - 100}, {len(data) - 1, 1}} {
		var got bytes.Buffer
		d := newHexDumper(&got, int64(r[0]))
		// Written in uneven pieces, as io.Copy may.
		chunk := data[r[0] : r[0]+r[1]]
		for len(chunk) > 0 {
			n := min(len(chunk), 1+rng.IntN(40))
			d.Write(chunk[:n])
			chunk = chunk[n:]
		}
		if err := d.Close(); err != nil {
			t.Fatal(err)
		}
		want, err := exec.Command(hexdump, "-C", "-s", strconv.Itoa(r[0]), "-n", strconv.Itoa(r[1]), file).Output()
		if err != nil {
			t.Fatal(err)
		}
		if got.String() != string(want) {
			t.Errorf("offset %d length %d:\n%s\nhexdump -C:\n%s", r[0], r[1], got.String(), want)
		}
	}
}
