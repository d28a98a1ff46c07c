package procmaps

import (
	"math"
	"strconv"
	"strings"
)

// Perms holds the permission column of a mapping, such as "rw-s".
type Perms struct {
	Read  bool // 'r'
	Write bool // 'w'
	Exec  bool // 'x'
	// Shared is true for 's', a shared mapping (VM_MAYSHARE, as made by
	// MAP_SHARED or shmat), and false for 'p', a private one.
	Shared bool
}

// String returns the permissions as the kernel prints them, for example
// "rw-s" or "r-xp".
func (p Perms) String() string {
	return string(p.appendTo(make([]byte, 0, 4)))
}

func (p Perms) appendTo(b []byte) []byte {
	c := [4]byte{'-', '-', '-', 'p'}
	if p.Read {
		c[0] = 'r'
	}
	if p.Write {
		c[1] = 'w'
	}
	if p.Exec {
		c[2] = 'x'
	}
	if p.Shared {
		c[3] = 's'
	}
	return append(b, c[:]...)
}

// Dev is the device column of a mapping: the major and minor numbers of
// the device holding the mapped file, both 0 for an anonymous mapping.
type Dev struct {
	Major uint32
	Minor uint32
}

// String returns the device as the kernel prints it, for example "fe:00".
func (d Dev) String() string {
	return string(d.appendTo(nil))
}

func (d Dev) appendTo(b []byte) []byte {
	b = appendHex(b, uint64(d.Major), 2)
	b = append(b, ':')
	return appendHex(b, uint64(d.Minor), 2)
}

// Mapping is one line of /proc/PID/maps.
type Mapping struct {
	Start  uint64 // first address of the mapping
	End    uint64 // first address after the mapping
	Perms  Perms  // permissions
	Offset uint64 // offset in the mapped file, in bytes; 0 if none
	Dev    Dev    // device of the mapped file
	// Inode is the inode number of the mapped file, 0 if none. For a
	// System V shared memory segment it is the shmid.
	Inode uint64
	// Pathname is the name of the mapping exactly as the kernel printed
	// it, or "" for an anonymous mapping. See the package documentation
	// for what the kernel does and does not escape.
	Pathname string
}

// deletedSuffix is what d_path appends to the name of an unlinked file.
const deletedSuffix = " (deleted)"

// padWidth is the width to which the kernel pads the fields before the
// name: 25 + sizeof(void *)*6 - 1 on a 64-bit kernel.
const padWidth = 25 + 8*6 - 1

// Len returns the size of the mapping in bytes, End - Start.
func (m Mapping) Len() uint64 {
	return m.End - m.Start
}

// PermString returns the permissions as the kernel prints them, for example
// "rw-s".
func (m Mapping) PermString() string {
	return m.Perms.String()
}

// Deleted reports whether the pathname ends in " (deleted)", which the
// kernel appends to the name of a file that has been unlinked (and to the
// names of memfd, System V and MAP_SHARED|MAP_ANONYMOUS mappings, whose
// files never had a link). A file whose name really ends in " (deleted)"
// cannot be told apart.
func (m Mapping) Deleted() bool {
	return strings.HasSuffix(m.Pathname, deletedSuffix)
}

// SysV reports whether m is an attached System V shared memory segment and,
// if so, returns its key and shmid.
//
// The kernel names a segment's file "SYSV" followed by the key printed with
// %08x, so the pathname must be "/SYSV", exactly 8 lower-case hex digits,
// and optionally " (deleted)" (always present on current kernels). The key
// is a C key_t, an int, so /SYSVffffffff is the key -1. The shmid is the
// inode column; ok is false if it does not fit an int32, as shmids do.
// Segments created with IPC_PRIVATE have the key 0. The name is fixed when
// the segment is created, so a segment removed with IPC_RMID but still
// attached keeps its original key here, although IPC_STAT then reports the
// key as 0. A regular file named like /SYSV00001234 in the root directory
// cannot be told apart by its name; its device differs.
func (m Mapping) SysV() (key int32, shmid int, ok bool) {
	name := strings.TrimSuffix(m.Pathname, deletedSuffix)
	digits, found := strings.CutPrefix(name, "/SYSV")
	if !found || len(digits) != 8 || m.Inode > math.MaxInt32 {
		return 0, 0, false
	}
	v, ok := parseHex(digits, 8, 32)
	if !ok {
		return 0, 0, false
	}
	return int32(uint32(v)), int(m.Inode), true
}

// String formats m the way the kernel prints it in /proc/PID/maps on a
// 64-bit kernel, without a trailing newline, so that ParseLine(m.String())
// returns m. As the kernel does, it ends a line without a name with a space,
// and pads a line with a name so that the name starts at byte 73, or after
// two spaces if the fields are longer. A newline in the pathname, which the
// parser never returns, is written as `\012`, as the kernel writes it.
func (m Mapping) String() string {
	b := make([]byte, 0, padWidth+1+len(m.Pathname))
	b = appendHex(b, m.Start, 8)
	b = append(b, '-')
	b = appendHex(b, m.End, 8)
	b = append(b, ' ')
	b = m.Perms.appendTo(b)
	b = append(b, ' ')
	b = appendHex(b, m.Offset, 8)
	b = append(b, ' ')
	b = m.Dev.appendTo(b)
	b = append(b, ' ')
	b = strconv.AppendUint(b, m.Inode, 10)
	b = append(b, ' ')
	if m.Pathname == "" {
		return string(b)
	}
	for len(b) < padWidth {
		b = append(b, ' ')
	}
	b = append(b, ' ')
	for i := 0; i < len(m.Pathname); i++ {
		if c := m.Pathname[i]; c == '\n' {
			b = append(b, `\012`...)
		} else {
			b = append(b, c)
		}
	}
	return string(b)
}

// appendHex appends v in lower-case hex, zero-padded to at least width
// digits, as the kernel's seq_put_hex_ll and %08lx do.
func appendHex(b []byte, v uint64, width int) []byte {
	var buf [16]byte
	d := strconv.AppendUint(buf[:0], v, 16)
	for i := len(d); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, d...)
}
