// Package procmaps parses the Linux /proc/PID/maps file.
//
// Each line of the file describes one virtual memory area (VMA):
//
//	7f23d0f28000-7f23d0f29000 rw-s 00000000 00:01 4                          /SYSV00001235 (deleted)
//
// The fields are the address range, the permissions, the file offset, the
// device (major:minor, in hex), the inode and, for most mappings, a name.
// A System V shared memory segment shows up with the name /SYSVkkkkkkkk,
// where kkkkkkkk is the segment key, and with its shmid in the inode column;
// see [Mapping.SysV].
//
// # Layout of a line
//
// The kernel (fs/proc/task_mmu.c, show_vma_header_prefix and show_map_vma)
// prints the fields separated by single spaces and always ends them with a
// space, so a line without a name (an anonymous mapping) ends in "0 ". If
// the mapping has a name, it calls seq_pad, which pads the line with spaces
// to 25+6*sizeof(void *)-1 bytes, 72 on a 64-bit kernel, and then writes one
// more space. The name therefore starts at byte 73 of the line, or, when the
// fields are longer than 72 bytes, after two spaces (the one that ends the
// fields and the one seq_pad adds). The width depends on the kernel, not on
// the process: a 32-bit process on a 64-bit kernel sees the same layout.
//
// [ParseLine] uses that layout to find where the name starts, so names that
// begin with spaces survive. A line that does not follow it (one from a
// 32-bit kernel, which pads to byte 48, or one typed by hand) is still
// accepted, with the name taken to start at its first non-space byte after
// the inode; leading spaces of such a name cannot be told from padding.
//
// # Names are not unambiguous
//
// The name is kept exactly as the kernel printed it, in [Mapping.Pathname].
// The kernel escapes only the newline, which it prints as the four bytes
// `\012`; it escapes neither spaces nor backslashes. A file whose name holds
// the four bytes `\012` therefore looks the same as one whose name holds a
// newline. For a file that has been unlinked the kernel appends " (deleted)",
// so a file whose name really ends in " (deleted)" looks deleted. Pseudo
// names such as [heap], [stack], [vdso], [vsyscall], [anon:name] and
// /memfd:name (deleted) are kept as they are; nothing stops a real file from
// having such a name.
package procmaps

import (
	"errors"
	"fmt"
	"os"
	"strconv"
)

// ReadPID reads and parses /proc/pid/maps.
//
// Errors wrap the error of the os package, so errors.Is(err,
// fs.ErrNotExist) reports a process that does not exist and errors.Is(err,
// fs.ErrPermission) one whose maps may not be read. A malformed line gives a
// *[ParseError]. A process without an address space, such as a zombie or a
// kernel thread, has no mappings.
func ReadPID(pid int) ([]Mapping, error) {
	return readFile("/proc/" + strconv.Itoa(pid) + "/maps")
}

// Self reads and parses /proc/self/maps, the mappings of the calling
// process. Errors are as for [ReadPID].
func Self() ([]Mapping, error) {
	return readFile("/proc/self/maps")
}

func readFile(name string) ([]Mapping, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("procmaps: %w", err)
	}
	defer f.Close()
	ms, err := Parse(f)
	if err != nil {
		var pe *ParseError
		if errors.As(err, &pe) && pe.Path == "" {
			pe.Path = name
		}
		return nil, err
	}
	return ms, nil
}
