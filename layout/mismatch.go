package layout

import (
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Difference is one way in which the Go type and the C type disagree:
// one row of the Mismatch table.
type Difference struct {
	// Field names the member: its C path ("hdr.count", "recs[0].id"), or
	// the Go path for a Go field with no C counterpart; "" for the whole
	// type (its size or alignment).
	Field string
	// COffset and CSize place the C member (for the whole type: -1 and
	// sizeof); both are -1 when C has no such member. Offsets are from the
	// start of the outermost type.
	COffset, CSize int64
	// GoOffset and GoSize are the same for the Go field.
	GoOffset, GoSize int64
	CType            string // the C member's type as C spells it ("" if none)
	GoType           string // the Go field's type ("" if none)
	Note             string // what differs, in words
}

// Mismatch is the error of Check when the layouts differ. Its message is
// a table of every difference, not only the first. It matches
// ErrMismatch with errors.Is.
type Mismatch struct {
	GoType string   // the Go struct type, as reflect names it: "main.Stats"
	CType  string   // the C type, as named: "struct stats"
	Header string   // the header, as given
	CFlags []string // the extra compiler flags
	// Differences lists every difference in the order of the C members:
	// first the whole type's size and alignment, then the members, then
	// the Go fields with no C counterpart.
	Differences []Difference
}

// Is reports whether target is ErrMismatch.
func (m *Mismatch) Is(target error) bool { return target == ErrMismatch }

// Error describes the two types and tabulates every difference: FIELD,
// C OFFSET, C SIZE, C TYPE, GO OFFSET, GO SIZE, GO TYPE, NOTE; "-" where
// a side has nothing.
func (m *Mismatch) Error() string {
	var b strings.Builder
	flags := ""
	if len(m.CFlags) > 0 {
		flags = " " + strings.Join(m.CFlags, " ")
	}
	n := len(m.Differences)
	plural := "s"
	if n == 1 {
		plural = ""
	}
	fmt.Fprintf(&b, "layout: Go %s does not match C %s (%s%s): %d difference%s\n", m.GoType, m.CType, m.Header, flags, n, plural)
	tw := tabwriter.NewWriter(&b, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "  FIELD\tC OFFSET\tC SIZE\tC TYPE\tGO OFFSET\tGO SIZE\tGO TYPE\tNOTE")
	num := func(v int64) string {
		if v < 0 {
			return "-"
		}
		return strconv.FormatInt(v, 10)
	}
	str := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	for _, d := range m.Differences {
		field := d.Field
		if field == "" {
			field = "(" + m.CType + ")"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", field,
			num(d.COffset), num(d.CSize), str(d.CType), num(d.GoOffset), num(d.GoSize), str(d.GoType), d.Note)
	}
	tw.Flush()
	return strings.TrimRight(b.String(), "\n")
}
