package procmaps

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

// kline lays out a line the way a 64-bit kernel does, written independently
// of Mapping.String: the fields and their trailing space padded to 72 bytes,
// one more space, then the name.
func kline(fields, name string) string {
	return fmt.Sprintf("%-72s %s", fields+" ", name)
}

// articleLine is the System V line from the article the project follows.
const articleLine = "7f23d0f28000-7f23d0f29000 rw-s 00000000 00:01 4                          /SYSV00001235 (deleted)"

var parseTests = []struct {
	name string
	line string
	want Mapping
	// canon is what String returns, if it differs from line.
	canon string
}{
	{
		name: "article sysv",
		line: articleLine,
		want: Mapping{Start: 0x7f23d0f28000, End: 0x7f23d0f29000, Perms: Perms{Read: true, Write: true, Shared: true},
			Dev: Dev{0, 1}, Inode: 4, Pathname: "/SYSV00001235 (deleted)"},
	},
	{
		name: "sysv negative key",
		line: "7f93d31ae000-7f93d31af000 rw-s 00000000 00:01 3                          /SYSVffffffff (deleted)",
		want: Mapping{Start: 0x7f93d31ae000, End: 0x7f93d31af000, Perms: Perms{Read: true, Write: true, Shared: true},
			Dev: Dev{0, 1}, Inode: 3, Pathname: "/SYSVffffffff (deleted)"},
	},
	{
		name: "executable text",
		line: "55f318c58000-55f318c59000 r-xp 00001000 fe:00 18500                      /root/.pyenv/versions/3.11.7/bin/python3.11",
		want: Mapping{Start: 0x55f318c58000, End: 0x55f318c59000, Perms: Perms{Read: true, Exec: true},
			Offset: 0x1000, Dev: Dev{0xfe, 0}, Inode: 18500, Pathname: "/root/.pyenv/versions/3.11.7/bin/python3.11"},
	},
	{
		name: "heap",
		line: "55f34d0ad000-55f34d25d000 rw-p 00000000 00:00 0                          [heap]",
		want: Mapping{Start: 0x55f34d0ad000, End: 0x55f34d25d000, Perms: Perms{Read: true, Write: true}, Pathname: "[heap]"},
	},
	{
		name: "stack",
		line: "7ffd50b28000-7ffd50b49000 rw-p 00000000 00:00 0                          [stack]",
		want: Mapping{Start: 0x7ffd50b28000, End: 0x7ffd50b49000, Perms: Perms{Read: true, Write: true}, Pathname: "[stack]"},
	},
	{
		name: "vdso",
		line: "7f93d31bf000-7f93d31c1000 r-xp 00000000 00:00 0                          [vdso]",
		want: Mapping{Start: 0x7f93d31bf000, End: 0x7f93d31c1000, Perms: Perms{Read: true, Exec: true}, Pathname: "[vdso]"},
	},
	{
		name: "vsyscall",
		line: "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]",
		want: Mapping{Start: 0xffffffffff600000, End: 0xffffffffff601000, Perms: Perms{Exec: true}, Pathname: "[vsyscall]"},
	},
	{
		name: "anonymous",
		line: "7f93d236a000-7f93d249d000 rw-p 00000000 00:00 0 ",
		want: Mapping{Start: 0x7f93d236a000, End: 0x7f93d249d000, Perms: Perms{Read: true, Write: true}},
	},
	{
		name:  "anonymous with newline",
		line:  "7f93d236a000-7f93d249d000 rw-p 00000000 00:00 0 \n",
		want:  Mapping{Start: 0x7f93d236a000, End: 0x7f93d249d000, Perms: Perms{Read: true, Write: true}},
		canon: "7f93d236a000-7f93d249d000 rw-p 00000000 00:00 0 ",
	},
	{
		name:  "anonymous without trailing space",
		line:  "7f93d236a000-7f93d249d000 ---p 00000000 00:00 0",
		want:  Mapping{Start: 0x7f93d236a000, End: 0x7f93d249d000},
		canon: "7f93d236a000-7f93d249d000 ---p 00000000 00:00 0 ",
	},
	{
		name:  "anonymous with trailing blanks",
		line:  "7f93d236a000-7f93d249d000 rw-p 00000000 00:00 0      ",
		want:  Mapping{Start: 0x7f93d236a000, End: 0x7f93d249d000, Perms: Perms{Read: true, Write: true}},
		canon: "7f93d236a000-7f93d249d000 rw-p 00000000 00:00 0 ",
	},
	{
		name: "spaces in name, deleted",
		line: "7f93d255f000-7f93d2560000 rw-s 00000000 fe:00 9978570                    /tmp/procmaps deleted file (deleted)",
		want: Mapping{Start: 0x7f93d255f000, End: 0x7f93d2560000, Perms: Perms{Read: true, Write: true, Shared: true},
			Dev: Dev{0xfe, 0}, Inode: 9978570, Pathname: "/tmp/procmaps deleted file (deleted)"},
	},
	{
		name: "memfd",
		line: "7f93d255e000-7f93d255f000 rw-s 00000000 00:01 1031                       /memfd:procmaps x (deleted)",
		want: Mapping{Start: 0x7f93d255e000, End: 0x7f93d255f000, Perms: Perms{Read: true, Write: true, Shared: true},
			Dev: Dev{0, 1}, Inode: 1031, Pathname: "/memfd:procmaps x (deleted)"},
	},
	{
		name: "shared anonymous",
		line: "7f93d2537000-7f93d2538000 rw-s 00000000 00:01 1032                       /dev/zero (deleted)",
		want: Mapping{Start: 0x7f93d2537000, End: 0x7f93d2538000, Perms: Perms{Read: true, Write: true, Shared: true},
			Dev: Dev{0, 1}, Inode: 1032, Pathname: "/dev/zero (deleted)"},
	},
	{
		name: "escaped newline kept",
		line: `7f93d2538000-7f93d2539000 r--s 00000000 fe:00 9978571                    /tmp/new\012line (deleted)`,
		want: Mapping{Start: 0x7f93d2538000, End: 0x7f93d2539000, Perms: Perms{Read: true, Shared: true},
			Dev: Dev{0xfe, 0}, Inode: 9978571, Pathname: `/tmp/new\012line (deleted)`},
	},
	{
		name: "name with leading spaces",
		line: kline("7f93d31b0000-7f93d31b7000 r--s 00000000 fe:00 325737", "   leading"),
		want: Mapping{Start: 0x7f93d31b0000, End: 0x7f93d31b7000, Perms: Perms{Read: true, Shared: true},
			Dev: Dev{0xfe, 0}, Inode: 325737, Pathname: "   leading"},
	},
	{
		name: "name of spaces only",
		line: kline("7f93d31b0000-7f93d31b7000 r--s 00000000 fe:00 325737", "  "),
		want: Mapping{Start: 0x7f93d31b0000, End: 0x7f93d31b7000, Perms: Perms{Read: true, Shared: true},
			Dev: Dev{0xfe, 0}, Inode: 325737, Pathname: "  "},
	},
	{
		name: "name with trailing spaces, tab and CR",
		line: kline("7f93d31b0000-7f93d31b7000 r--s 00000000 fe:00 325737", "/tmp/a\tb\rc  "),
		want: Mapping{Start: 0x7f93d31b0000, End: 0x7f93d31b7000, Perms: Perms{Read: true, Shared: true},
			Dev: Dev{0xfe, 0}, Inode: 325737, Pathname: "/tmp/a\tb\rc  "},
	},
	{
		name: "anon name",
		line: kline("7f93d31b0000-7f93d31b7000 rw-p 00000000 00:00 0", "[anon:procmaps test]"),
		want: Mapping{Start: 0x7f93d31b0000, End: 0x7f93d31b7000, Perms: Perms{Read: true, Write: true}, Pathname: "[anon:procmaps test]"},
	},
	{
		// Fields and their space take 71 bytes: one space of padding, one more.
		name: "fields end at 71",
		line: "7fffffff0000-7fffffff1000 rw-s 7fffffffffff0000 fe:00 1234567890123456   /x",
		want: Mapping{Start: 0x7fffffff0000, End: 0x7fffffff1000, Perms: Perms{Read: true, Write: true, Shared: true},
			Offset: 0x7fffffffffff0000, Dev: Dev{0xfe, 0}, Inode: 1234567890123456, Pathname: "/x"},
	},
	{
		// Exactly 72 bytes: no padding, just seq_pad's space.
		name: "fields end at 72",
		line: "7fffffff0000-7fffffff1000 rw-s 7fffffffffff0000 fe:00 12345678901234567  /x",
		want: Mapping{Start: 0x7fffffff0000, End: 0x7fffffff1000, Perms: Perms{Read: true, Write: true, Shared: true},
			Offset: 0x7fffffffffff0000, Dev: Dev{0xfe, 0}, Inode: 12345678901234567, Pathname: "/x"},
	},
	{
		name: "long fields, two spaces before the name",
		line: "ffffffffff600000-ffffffffff601000 r-xs ffffffffffff0000 fff:fffff 18446744073709551615  /long",
		want: Mapping{Start: 0xffffffffff600000, End: 0xffffffffff601000, Perms: Perms{Read: true, Exec: true, Shared: true},
			Offset: 0xffffffffffff0000, Dev: Dev{0xfff, 0xfffff}, Inode: 18446744073709551615, Pathname: "/long"},
	},
	{
		name: "long fields, name with a leading space",
		line: "ffffffffff600000-ffffffffff601000 r-xs ffffffffffff0000 fff:fffff 18446744073709551615   /long",
		want: Mapping{Start: 0xffffffffff600000, End: 0xffffffffff601000, Perms: Perms{Read: true, Exec: true, Shared: true},
			Offset: 0xffffffffffff0000, Dev: Dev{0xfff, 0xfffff}, Inode: 18446744073709551615, Pathname: " /long"},
	},
	{
		name: "long fields, anonymous",
		line: "ffffffffff600000-ffffffffff601000 r-xs ffffffffffff0000 fff:fffff 18446744073709551615 ",
		want: Mapping{Start: 0xffffffffff600000, End: 0xffffffffff601000, Perms: Perms{Read: true, Exec: true, Shared: true},
			Offset: 0xffffffffffff0000, Dev: Dev{0xfff, 0xfffff}, Inode: 18446744073709551615},
	},
	{
		// A 32-bit kernel pads to byte 48, then one space.
		name:  "32-bit kernel layout",
		line:  "08048000-08056000 r-xp 00000000 03:0c 64593      /usr/sbin/gpm",
		want:  Mapping{Start: 0x08048000, End: 0x08056000, Perms: Perms{Read: true, Exec: true}, Dev: Dev{3, 0xc}, Inode: 64593, Pathname: "/usr/sbin/gpm"},
		canon: kline("08048000-08056000 r-xp 00000000 03:0c 64593", "/usr/sbin/gpm"),
	},
	{
		name:  "single space before name",
		line:  "00400000-00452000 r-xp 00000000 08:02 173521 /usr/bin/dbus-daemon",
		want:  Mapping{Start: 0x00400000, End: 0x00452000, Perms: Perms{Read: true, Exec: true}, Dev: Dev{8, 2}, Inode: 173521, Pathname: "/usr/bin/dbus-daemon"},
		canon: kline("00400000-00452000 r-xp 00000000 08:02 173521", "/usr/bin/dbus-daemon"),
	},
	{
		name:  "extra leading zeros",
		line:  "0000000000001000-0000000000002000 rw-p 0000000000000000 000:0000 00 ",
		want:  Mapping{Start: 0x1000, End: 0x2000, Perms: Perms{Read: true, Write: true}},
		canon: "00001000-00002000 rw-p 00000000 00:00 0 ",
	},
}

func TestParseLine(t *testing.T) {
	for _, tt := range parseTests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseLine(tt.line)
			if err != nil {
				t.Fatalf("ParseLine(%q): %v", tt.line, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("ParseLine(%q) mismatch (-want +got):\n%s", tt.line, diff)
			}
			canon := tt.canon
			if canon == "" {
				canon = tt.line
			}
			if s := got.String(); s != canon {
				t.Errorf("String() =\n%q, want\n%q", s, canon)
			}
			again, err := ParseLine(got.String())
			if err != nil {
				t.Fatalf("ParseLine(String()): %v", err)
			}
			if diff := cmp.Diff(got, again); diff != "" {
				t.Errorf("round trip mismatch (-first +second):\n%s", diff)
			}
		})
	}
}

func TestParseLineErrors(t *testing.T) {
	const good = "7f23d0f28000-7f23d0f29000 rw-s 00000000 00:01 4 "
	bad := []string{
		"",
		"\n",
		"garbage",
		"7f23d0f28000",
		"7f23d0f28000-7f23d0f29000",
		"7f23d0f28000-7f23d0f29000 rw-s",
		"7f23d0f28000-7f23d0f29000 rw-s 00000000",
		"7f23d0f28000-7f23d0f29000 rw-s 00000000 00:01",
		"7f23d0f29000-7f23d0f28000 rw-s 00000000 00:01 4 ",                    // start > end
		"7f23d0f28000-7f23d0f28000 rw-s 00000000 00:01 4 ",                    // empty
		"7F23D0F28000-7F23D0F29000 rw-s 00000000 00:01 4 ",                    // upper case
		"7f23d0f2800g-7f23d0f29000 rw-s 00000000 00:01 4 ",                    // not hex
		"1000-2000 rw-s 00000000 00:01 4 ",                                    // too few digits
		"-7f23d0f28000-7f23d0f29000 rw-s 00000000 00:01 4 ",                   // sign
		"+7f23d0f28000-7f23d0f29000 rw-s 00000000 00:01 4 ",                   // sign
		"10000000000000000-20000000000000000 rw-s 00000000 00:01 4 ",          // > 64 bits
		"7f23d0f28000-7f23d0f29000 rw-S 00000000 00:01 4 ",                    // nommu 'S'
		"7f23d0f28000-7f23d0f29000 rwxx 00000000 00:01 4 ",                    // bad share flag
		"7f23d0f28000-7f23d0f29000 wr-s 00000000 00:01 4 ",                    // letters swapped
		"7f23d0f28000-7f23d0f29000 rw- 00000000 00:01 4 ",                     // short perms
		"7f23d0f28000-7f23d0f29000 rw-sp 00000000 00:01 4 ",                   // long perms
		"7f23d0f28000-7f23d0f29000 rw-s 0000000 00:01 4 ",                     // short offset
		"7f23d0f28000-7f23d0f29000 rw-s 0x000000 00:01 4 ",                    // 0x prefix
		"7f23d0f28000-7f23d0f29000 rw-s 00000000 0001 4 ",                     // no ':'
		"7f23d0f28000-7f23d0f29000 rw-s 00000000 0:01 4 ",                     // short major
		"7f23d0f28000-7f23d0f29000 rw-s 00000000 00: 4 ",                      // empty minor
		"7f23d0f28000-7f23d0f29000 rw-s 00000000 100000000:01 4 ",             // major > 32 bits
		"7f23d0f28000-7f23d0f29000 rw-s 00000000 00:01:02 4 ",                 // extra ':'
		"7f23d0f28000-7f23d0f29000 rw-s 00000000 00:01 4a ",                   // inode not decimal
		"7f23d0f28000-7f23d0f29000 rw-s 00000000 00:01 -4 ",                   // negative inode
		"7f23d0f28000-7f23d0f29000 rw-s 00000000 00:01 +4 ",                   // signed inode
		"7f23d0f28000-7f23d0f29000 rw-s 00000000 00:01 18446744073709551616 ", // > 64 bits
		"7f23d0f28000-7f23d0f29000 rw-s 00000000 00:01  4 ",                   // double space
		"7f23d0f28000-7f23d0f29000  rw-s 00000000 00:01 4 ",                   // double space
		" 7f23d0f28000-7f23d0f29000 rw-s 00000000 00:01 4 ",                   // leading space
		"7f23d0f28000-7f23d0f29000\trw-s 00000000 00:01 4 ",                   // tab
		"7f23d0f28000-7f23d0f29000 rw-s 00000000 00:01 4\t/x",                 // tab after inode
		good + "/a\n" + good + "/b",                                           // two lines
		good + "/a\n\n",                                                       // two newlines
	}
	for _, line := range bad {
		m, err := ParseLine(line)
		if err == nil {
			t.Errorf("ParseLine(%q) = %+v, want error", line, m)
			continue
		}
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("ParseLine(%q) error %T %v, want *ParseError", line, err, err)
			continue
		}
		if pe.Line != 0 || pe.Reason == "" || pe.Text != strings.TrimSuffix(line, "\n") {
			t.Errorf("ParseLine(%q): ParseError %+v", line, pe)
		}
		if !strings.HasPrefix(err.Error(), "procmaps: ") {
			t.Errorf("error %q lacks the package prefix", err)
		}
	}
}

func TestParse(t *testing.T) {
	var in strings.Builder
	var want []Mapping
	for _, tt := range parseTests {
		in.WriteString(strings.TrimSuffix(tt.line, "\n"))
		in.WriteByte('\n')
		want = append(want, tt.want)
	}
	got, err := Parse(strings.NewReader(in.String()))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("Parse mismatch (-want +got):\n%s", diff)
	}

	// The last line need not end in a newline.
	got, err = Parse(strings.NewReader(articleLine))
	if err != nil || len(got) != 1 || got[0].Inode != 4 {
		t.Fatalf("Parse(one line, no newline) = %+v, %v", got, err)
	}

	got, err = Parse(strings.NewReader(""))
	if err != nil || len(got) != 0 {
		t.Fatalf("Parse(\"\") = %+v, %v", got, err)
	}
}

func TestParseLongLine(t *testing.T) {
	// Far beyond bufio.Scanner's 64 KiB limit and PATH_MAX.
	name := "/" + strings.Repeat("d/", 100_000) + "file with spaces (deleted)"
	line := kline("7f23d0f28000-7f23d0f29000 rw-s 00000000 fe:00 42", name)
	in := "7f23d0f27000-7f23d0f28000 rw-p 00000000 00:00 0 \n" + line + "\n" + articleLine + "\n"
	ms, err := Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 3 || ms[1].Pathname != name || ms[1].Inode != 42 || ms[2].Inode != 4 {
		t.Fatalf("Parse of a %d-byte line went wrong: %d mappings", len(line), len(ms))
	}
	if ms[1].String() != line {
		t.Error("String() of the long line differs from the input")
	}
	// A reader that returns one byte at a time must give the same result.
	ms2, err := Parse(iotest.OneByteReader(strings.NewReader(in)))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ms, ms2); diff != "" {
		t.Fatalf("one-byte reader mismatch (-want +got):\n%s", diff)
	}
}

func TestParseErrors(t *testing.T) {
	in := articleLine + "\n" + articleLine + "\nnot a mapping\n" + articleLine + "\n"
	ms, err := Parse(strings.NewReader(in))
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("Parse = %v, %v; want *ParseError", ms, err)
	}
	if ms != nil || pe.Line != 3 || pe.Text != "not a mapping" {
		t.Fatalf("Parse = %v, %+v", ms, pe)
	}
	if want := `procmaps: line 3: `; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %q does not start with %q", err, want)
	}

	// An empty line in the middle is an error.
	_, err = Parse(strings.NewReader(articleLine + "\n\n" + articleLine + "\n"))
	if !errors.As(err, &pe) || pe.Line != 2 {
		t.Fatalf("Parse with an empty line: %v", err)
	}

	// A read error is wrapped, not turned into a ParseError.
	boom := errors.New("boom")
	_, err = Parse(io.MultiReader(strings.NewReader(articleLine+"\n"), iotest.ErrReader(boom)))
	if !errors.Is(err, boom) || errors.As(err, &pe) {
		t.Fatalf("Parse with a failing reader: %v", err)
	}
}

func TestParseErrorMessage(t *testing.T) {
	long := strings.Repeat("x", 10_000)
	_, err := ParseLine(long)
	msg := err.Error()
	if len(msg) > 300 || !strings.Contains(msg, "(10000 bytes)") {
		t.Errorf("error for a long line is %d bytes: %.300s", len(msg), msg)
	}
	pe := &ParseError{Path: "/proc/1/maps", Line: 7, Text: "x", Reason: "bad"}
	if got, want := pe.Error(), `procmaps: /proc/1/maps: line 7: bad: "x"`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
