package layout

import (
	"fmt"
	"strings"
	"text/tabwriter"
)

// String returns the layout as the shmmap layout command prints it: the
// type's size and alignment, then one row per member (FIELD, OFFSET,
// SIZE, TYPE), nested members by their paths, and a (padding) row for
// every gap the compiler left between members or at the end.
func (l *Layout) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: size %d, align %d (sizeof(void *) = %d)\n", l.Type, l.Size, l.Align, l.PtrSize)
	tw := tabwriter.NewWriter(&b, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "FIELD\tOFFSET\tSIZE\tTYPE")
	writeRows(tw, l.Fields, 0, l.Size)
	tw.Flush()
	return b.String()
}

// writeRows writes the rows of fields, members of the struct that spans
// [start, end), and its padding.
func writeRows(tw *tabwriter.Writer, fields []Field, start, end int64) {
	at := start
	pad := func(to int64) {
		if to > at {
			fmt.Fprintf(tw, "(padding)\t%d\t%d\t\n", at, to-at)
		}
	}
	for _, f := range fields {
		pad(f.Offset)
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\n", f.Path, f.Offset, f.Size, f.Type)
		if len(f.Fields) > 0 {
			// The members of the struct, or of the first element.
			elemEnd := f.Offset + f.Size
			if f.dims != nil {
				elemEnd = f.Offset + f.elemSize
			}
			writeRows(tw, f.Fields, f.Offset, elemEnd)
		}
		at = max(at, f.Offset+f.Size)
	}
	pad(end)
}
