package layouttest

import "encoding/binary"

// elf386Exit0 returns a complete 32-bit x86 Linux executable of 93 bytes:
// an ELF header, one loadable segment, and the instructions
//
//	mov eax, 1   ; exit
//	xor ebx, ebx ; status 0
//	int 0x80
//
// A kernel without ia32 emulation refuses to execute it (ENOEXEC).
func elf386Exit0() []byte {
	const (
		base   = 0x08048000
		ehsize = 52
		phsize = 32
	)
	code := []byte{0xb8, 0x01, 0x00, 0x00, 0x00, 0x31, 0xdb, 0xcd, 0x80}
	total := uint32(ehsize + phsize + len(code))
	le := binary.LittleEndian
	b := []byte{0x7f, 'E', 'L', 'F', 1 /* 32-bit */, 1 /* little-endian */, 1 /* version */, 0 /* System V */}
	b = append(b, make([]byte, 8)...)
	b = le.AppendUint16(b, 2)                  // e_type: ET_EXEC
	b = le.AppendUint16(b, 3)                  // e_machine: EM_386
	b = le.AppendUint32(b, 1)                  // e_version
	b = le.AppendUint32(b, base+ehsize+phsize) // e_entry: the code
	b = le.AppendUint32(b, ehsize)             // e_phoff
	b = le.AppendUint32(b, 0)                  // e_shoff: no sections
	b = le.AppendUint32(b, 0)                  // e_flags
	b = le.AppendUint16(b, ehsize)             // e_ehsize
	b = le.AppendUint16(b, phsize)             // e_phentsize
	b = le.AppendUint16(b, 1)                  // e_phnum
	b = le.AppendUint16(b, 40)                 // e_shentsize
	b = le.AppendUint16(b, 0)                  // e_shnum
	b = le.AppendUint16(b, 0)                  // e_shstrndx
	b = le.AppendUint32(b, 1)                  // p_type: PT_LOAD
	b = le.AppendUint32(b, 0)                  // p_offset: the whole file
	b = le.AppendUint32(b, base)               // p_vaddr
	b = le.AppendUint32(b, base)               // p_paddr
	b = le.AppendUint32(b, total)              // p_filesz
	b = le.AppendUint32(b, total)              // p_memsz
	b = le.AppendUint32(b, 5)                  // p_flags: R+X
	b = le.AppendUint32(b, 0x1000)             // p_align
	return append(b, code...)
}
