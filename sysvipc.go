package shmmap

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strconv"
	"strings"
)

// sysvipcRow is one line of a /proc/sysvipc table, read by column name.
type sysvipcRow struct {
	name   string         // the table's path, for errors
	line   int            // 1-based line number, for errors
	col    map[string]int // column name -> field index
	fields []string
	bad    error // the first malformed column read
}

// num parses column c as a decimal integer of the given bit size; a
// malformed value is remembered in r.bad and reads as 0.
func (r *sysvipcRow) num(c string, bits int) int64 {
	v, err := strconv.ParseInt(r.fields[r.col[c]], 10, bits)
	if err != nil && r.bad == nil {
		r.bad = fmt.Errorf("shmmap: %s line %d: column %s: %q is not a %d-bit decimal number", r.name, r.line, c, r.fields[r.col[c]], bits)
	}
	return v
}

// perms parses the perms column, an octal mode.
func (r *sysvipcRow) perms() uint32 {
	v, err := strconv.ParseUint(r.fields[r.col["perms"]], 8, 32)
	if err != nil && r.bad == nil {
		r.bad = fmt.Errorf("shmmap: %s line %d: column perms: %q is not an octal mode", r.name, r.line, r.fields[r.col["perms"]])
	}
	return uint32(v)
}

// parseSysvipc parses a table in the format of the files of /proc/sysvipc
// (shm, sem, msg): a header line naming the columns, then one line per
// object with as many space-separated fields. Columns are found by name,
// so a kernel that adds or reorders them is read correctly; a header
// without one of columns is an error. row turns a line into a T; the
// result is sorted by id. name is used in errors.
func parseSysvipc[T any](r io.Reader, name string, columns []string, row func(*sysvipcRow) T, id func(T) int) ([]T, error) {
	sc := bufio.NewScanner(r)
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return nil, &fs.PathError{Op: "read", Path: name, Err: err}
		}
		return nil, fmt.Errorf("shmmap: %s: no header line", name)
	}
	header := strings.Fields(sc.Text())
	col := map[string]int{}
	for i, h := range header {
		col[h] = i
	}
	for _, c := range columns {
		if _, ok := col[c]; !ok {
			return nil, fmt.Errorf("shmmap: %s: no %q column in the header %q", name, c, sc.Text())
		}
	}
	var out []T
	for line := 2; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		fields := strings.Fields(sc.Text())
		if len(fields) != len(header) {
			return nil, fmt.Errorf("shmmap: %s line %d: %d fields for %d columns: %q", name, line, len(fields), len(header), sc.Text())
		}
		r := sysvipcRow{name: name, line: line, col: col, fields: fields}
		v := row(&r)
		if r.bad != nil {
			return nil, r.bad
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	sort.Slice(out, func(i, j int) bool { return id(out[i]) < id(out[j]) })
	return out, nil
}
