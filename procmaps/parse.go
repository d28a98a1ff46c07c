package procmaps

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ParseError reports a line of a maps file that could not be parsed.
type ParseError struct {
	Path   string // file the line came from, if known (set by ReadPID and Self)
	Line   int    // 1-based line number, or 0 if the line was given to ParseLine
	Text   string // the offending line, without its newline
	Reason string // what is wrong with it
}

// maxErrText bounds how much of the offending line Error quotes.
const maxErrText = 160

// Error returns a one-line description quoting (the start of) the line.
func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString("procmaps: ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	text := e.Text
	more := ""
	if len(text) > maxErrText {
		text, more = text[:maxErrText], fmt.Sprintf("... (%d bytes)", len(e.Text))
	}
	fmt.Fprintf(&b, "%s: %q%s", e.Reason, text, more)
	return b.String()
}

// Parse parses a whole maps file, one [Mapping] per line. The last line
// need not end in a newline; an empty line is an error. Lines may be of any
// length, as pathnames longer than PATH_MAX can be. A malformed line gives a
// *[ParseError] with its line number; a read error is wrapped. On error no
// mappings are returned.
func Parse(r io.Reader) ([]Mapping, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var ms []Mapping
	for n := 1; ; n++ {
		line, err := br.ReadString('\n')
		if len(line) > 0 {
			m, perr := parseLine(strings.TrimSuffix(line, "\n"))
			if perr != nil {
				perr.Line = n
				return nil, perr
			}
			ms = append(ms, m)
		}
		if err == io.EOF {
			return ms, nil
		}
		if err != nil {
			return nil, fmt.Errorf("procmaps: reading line %d: %w", n, err)
		}
	}
}

// ParseLine parses one line of a maps file; a single trailing newline is
// allowed. The error is a *[ParseError].
//
// It is strict about the fields: the addresses and the offset must be at
// least 8 lower-case hex digits, the start must be below the end (the kernel
// never prints an empty mapping), the permissions must be [r-][w-][x-][sp],
// the device two hex numbers of at least 2 digits that fit in 32 bits each,
// and the inode a decimal number, all separated by single spaces. A line
// without a name may omit the kernel's trailing space, or have several.
// For where the name starts, see the package documentation.
func ParseLine(line string) (Mapping, error) {
	m, err := parseLine(strings.TrimSuffix(line, "\n"))
	if err != nil {
		return Mapping{}, err
	}
	return m, nil
}

// parseLine parses line, which has no trailing newline. It returns a
// *ParseError rather than an error so that Parse can set the line number.
func parseLine(line string) (Mapping, *ParseError) {
	fail := func(format string, args ...any) (Mapping, *ParseError) {
		return Mapping{}, &ParseError{Text: line, Reason: fmt.Sprintf(format, args...)}
	}
	if line == "" {
		return fail("empty line")
	}
	if strings.IndexByte(line, '\n') >= 0 {
		return fail("newline inside line")
	}

	var m Mapping
	rest := line
	var ok bool
	var f string

	if f, rest, ok = strings.Cut(rest, "-"); !ok {
		return fail("address range: no '-'")
	}
	if m.Start, ok = parseHex(f, 8, 64); !ok {
		return fail("start address %q: want at least 8 lower-case hex digits", f)
	}
	if f, rest, ok = strings.Cut(rest, " "); !ok {
		return fail("no space after address range")
	}
	if m.End, ok = parseHex(f, 8, 64); !ok {
		return fail("end address %q: want at least 8 lower-case hex digits", f)
	}
	if m.Start >= m.End {
		return fail("address range %x-%x is empty or reversed", m.Start, m.End)
	}

	if f, rest, ok = strings.Cut(rest, " "); !ok {
		return fail("no space after permissions")
	}
	if m.Perms, ok = parsePerms(f); !ok {
		return fail("permissions %q: want [r-][w-][x-][sp]", f)
	}

	if f, rest, ok = strings.Cut(rest, " "); !ok {
		return fail("no space after offset")
	}
	if m.Offset, ok = parseHex(f, 8, 64); !ok {
		return fail("offset %q: want at least 8 lower-case hex digits", f)
	}

	if f, rest, ok = strings.Cut(rest, " "); !ok {
		return fail("no space after device")
	}
	major, minor, ok := strings.Cut(f, ":")
	if !ok {
		return fail("device %q: no ':'", f)
	}
	maj, ok1 := parseHex(major, 2, 32)
	mnr, ok2 := parseHex(minor, 2, 32)
	if !ok1 || !ok2 {
		return fail("device %q: want major:minor in lower-case hex, 2 digits at least, 32 bits at most", f)
	}
	m.Dev = Dev{Major: uint32(maj), Minor: uint32(mnr)}

	f, rest, sep := strings.Cut(rest, " ")
	if !isDigits(f) {
		return fail("inode %q: want a decimal number", f)
	}
	ino, err := strconv.ParseUint(f, 10, 64)
	if err != nil {
		return fail("inode %q: out of range", f)
	}
	m.Inode = ino
	if !sep || rest == "" {
		return m, nil // anonymous, with or without the trailing space
	}

	// The fields, with the space that ends them, take the first fieldsEnd
	// bytes. The kernel pads them with spaces to padWidth and adds one more
	// space, so the name starts at nameStart.
	fieldsEnd := len(line) - len(rest)
	nameStart := max(padWidth, fieldsEnd) + 1
	if len(line) > nameStart && allSpaces(line[fieldsEnd:nameStart]) {
		m.Pathname = line[nameStart:]
		return m, nil
	}
	// Not the 64-bit kernel's layout: take the name to start at the first
	// non-space byte. Nothing but spaces means no name.
	m.Pathname = strings.TrimLeft(rest, " ")
	return m, nil
}

// parsePerms parses a permission field such as "rw-s".
func parsePerms(f string) (Perms, bool) {
	if len(f) != 4 {
		return Perms{}, false
	}
	var p Perms
	var ok [4]bool
	p.Read, ok[0] = flag(f[0], 'r')
	p.Write, ok[1] = flag(f[1], 'w')
	p.Exec, ok[2] = flag(f[2], 'x')
	switch f[3] {
	case 's':
		p.Shared, ok[3] = true, true
	case 'p':
		ok[3] = true
	}
	return p, ok == [4]bool{true, true, true, true}
}

// flag parses one permission letter, which is either on or '-'.
func flag(c, on byte) (set, ok bool) {
	return c == on, c == on || c == '-'
}

// parseHex parses s as lower-case hex of at least minDigits digits whose
// value fits in bits bits. Leading zeros beyond minDigits are allowed.
func parseHex(s string, minDigits, bits int) (uint64, bool) {
	if len(s) < minDigits {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return 0, false
		}
	}
	v, err := strconv.ParseUint(s, 16, bits)
	return v, err == nil
}

// isDigits reports whether s is a non-empty run of decimal digits.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// allSpaces reports whether s holds nothing but ' '.
func allSpaces(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != ' ' {
			return false
		}
	}
	return true
}
