package shmtest

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// Diff compares two Results and returns "" when they are equal (with
// go-cmp; Files that are nil and empty are equal), or else a description
// of each difference, one field at a time:
//
//   - Status: both values and what they mean (an exit code or a signal);
//   - Stdout, Stderr: both lengths, the offset, line and column of the
//     first differing byte, and the bytes around it from each side, quoted
//     and aligned, with a caret under the difference;
//   - each file of Files: missing on one side, or the offset of the first
//     differing byte and the hexdump -C row holding it from each side.
//
// The number of differing bytes is given when there are more.
func Diff(want, got Result) string {
	if cmp.Equal(want, got, cmpopts.EquateEmpty()) {
		return ""
	}
	var b strings.Builder
	if want.Status != got.Status {
		fmt.Fprintf(&b, "Status: want %d (%s), got %d (%s)\n", want.Status, statusMeaning(want.Status), got.Status, statusMeaning(got.Status))
	}
	textDiff(&b, "Stdout", want.Stdout, got.Stdout)
	textDiff(&b, "Stderr", want.Stderr, got.Stderr)
	names := make([]string, 0, len(want.Files)+len(got.Files))
	for name := range want.Files {
		names = append(names, name)
	}
	for name := range got.Files {
		if _, ok := want.Files[name]; !ok {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		w, inWant := want.Files[name]
		g, inGot := got.Files[name]
		label := fmt.Sprintf("Files[%q]", name)
		switch {
		case !inGot:
			fmt.Fprintf(&b, "%s: want %d bytes, got no such file\n", label, len(w))
		case !inWant:
			fmt.Fprintf(&b, "%s: want no such file, got %d bytes\n", label, len(g))
		default:
			binaryDiff(&b, label, w, g)
		}
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// Compare fails the test (t.Errorf) with Diff's description if want and got
// differ, and reports whether they are equal.
func Compare(t testing.TB, want, got Result) bool {
	t.Helper()
	if d := Diff(want, got); d != "" {
		t.Errorf("shmtest.Compare: the results differ (want is the first, got the second):\n%s", d)
		return false
	}
	return true
}

func statusMeaning(s int) string {
	if sig, ok := signalOf(s); ok {
		return "killed by " + signalName(sig)
	}
	if s == 0 {
		return "success"
	}
	return "exit code"
}

// firstDiff returns the first offset where a and b differ (the shorter
// length if one is a prefix of the other) and how many bytes of the common
// length differ.
func firstDiff(a, b []byte) (first, count int) {
	n := min(len(a), len(b))
	first = -1
	for i := range n {
		if a[i] != b[i] {
			if first < 0 {
				first = i
			}
			count++
		}
	}
	if first < 0 {
		first = n
	}
	return first, count
}

func textDiff(b *strings.Builder, field, want, got string) {
	if want == got {
		return
	}
	off, count := firstDiff([]byte(want), []byte(got))
	line := strings.Count(want[:off], "\n") + 1
	col := off - strings.LastIndexByte(want[:off], '\n')
	fmt.Fprintf(b, "%s: want %d bytes, got %d; first difference at byte %d (line %d, column %d)", field, len(want), len(got), off, line, col)
	if count > 1 {
		fmt.Fprintf(b, ", %d bytes differ", count)
	}
	if len(want) != len(got) && off == min(len(want), len(got)) {
		fmt.Fprintf(b, ", the %s one is a prefix of the other", shorter(len(want), len(got)))
	}
	b.WriteString("\n")
	const before, after = 24, 24
	start := max(0, off-before)
	ellipsis := ""
	if start > 0 {
		ellipsis = "…"
	}
	prefix := ellipsis + quoteBody(want[start:off])
	show := func(name, s string) {
		end := min(len(s), off+after)
		more := ""
		if end < len(s) {
			more = "…"
		}
		fmt.Fprintf(b, "  %s: \"%s%s\"%s\n", name, prefix, quoteBody(s[off:end]), more)
	}
	show("want", want)
	show("got ", got)
	fmt.Fprintf(b, "  %s^\n", strings.Repeat(" ", len("want: \"")+len([]rune(prefix))))
}

func shorter(w, g int) string {
	if w < g {
		return "wanted"
	}
	return "got"
}

// quoteBody quotes s as Go would, without the surrounding quotes.
func quoteBody(s string) string {
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}

func binaryDiff(b *strings.Builder, label string, want, got []byte) {
	if string(want) == string(got) {
		return
	}
	off, count := firstDiff(want, got)
	fmt.Fprintf(b, "%s: want %d bytes, got %d; first difference at offset %#x (%d)", label, len(want), len(got), off, off)
	if count > 1 {
		fmt.Fprintf(b, ", %d bytes differ", count)
	}
	if len(want) != len(got) && off == min(len(want), len(got)) {
		fmt.Fprintf(b, ", the %s one is a prefix of the other", shorter(len(want), len(got)))
	}
	b.WriteString("\n")
	row := off &^ 15
	fmt.Fprintf(b, "  want %s\n", hexRow(want, row))
	fmt.Fprintf(b, "  got  %s\n", hexRow(got, row))
	col := 10 + 3*(off-row)
	if off-row >= 8 {
		col++
	}
	fmt.Fprintf(b, "  %s^^\n", strings.Repeat(" ", len("want ")+col))
}

// hexRow formats the 16 bytes of data at row as hexdump -C does.
func hexRow(data []byte, row int) string {
	var hexes, ascii strings.Builder
	for i := range 16 {
		if i == 8 {
			hexes.WriteByte(' ')
		}
		if row+i >= len(data) {
			hexes.WriteString("   ")
			continue
		}
		c := data[row+i]
		fmt.Fprintf(&hexes, "%02x ", c)
		if c >= 0x20 && c < 0x7f {
			ascii.WriteByte(c)
		} else {
			ascii.WriteByte('.')
		}
	}
	if row >= len(data) {
		return fmt.Sprintf("%08x  %s (end of file)", row, hexes.String())
	}
	return fmt.Sprintf("%08x  %s |%s|", row, hexes.String(), ascii.String())
}
