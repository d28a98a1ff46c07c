// Package layout checks that a Go struct has the memory layout of a C
// struct, field by field, as the C compiler lays the C one out. Most bugs
// between C and Go processes sharing memory are layout bugs: padding, long
// (8 bytes on x86-64, 4 on i386) taken for int64, a long long or double
// after an int (aligned to 8 on x86-64, to 4 inside structs on i386),
// a missing or extra field, trailing padding.
//
//	type Stats struct {
//		Name  [32]byte
//		Count int32
//		Total int64 `c:"total_bytes"`
//	}
//
//	err := layout.Check(Stats{}, "stats.h", "struct stats", layout.ABIFlags()...)
//
// Check returns nil when the layouts agree, a *Mismatch listing every
// difference in a table when they do not (errors.Is(err, ErrMismatch)),
// and a clear error for what cannot be compared (ErrUnsupported, ErrABI,
// ErrNotFound, *CompileError). Measure returns the C layout alone
// (Layout, whose String is the table shmmap layout prints), and GoDefs
// writes a Go struct for a C one with cgo -godefs (GoDefsTypes for several
// C types that are to share a Go package).
//
// # How the C side is measured
//
// Nothing C is linked or run, so -m32 works on a kernel that cannot
// execute 32-bit programs, and the package needs no cgo (it builds and
// works with CGO_ENABLED=0 and as GOARCH=386). The C compiler is the one
// Go uses, `go env CC` split into fields (CC may carry flags), or $CC, or
// cc; the flags given to Check follow CC's own. Small C files are
// compiled with -g -c in a temporary directory: the probe and the
// cross-check, and a third only when the probe does not compile:
//
//  1. The probe: #include "HEADER", a variable of the type, a pointer to
//     it (for a function type, of which the "variable" is a function and
//     has no DWARF), and an array of constants: sizeof(T), _Alignof(T) (C11's alignment, which the
//     debugging information does not carry; GCC's __alignof__ says 8 for a
//     double on i386, where struct members of that type are aligned to 4)
//     and sizeof(void *). The object's DWARF (debug/elf, debug/dwarf) gives
//     every member: name, type through typedefs and qualifiers (const,
//     volatile, _Atomic), offset, size, array dimensions, nested structs,
//     bitfields and unions; the constants are read from the object's data
//     section by symbol. (With -gsplit-dwarf the DWARF is in a .dwo file,
//     and the error says so.)
//
//  2. The cross-check: __builtin_offsetof and sizeof of every member path
//     found ("hdr.count", "recs[0].id"), as the compiler computes them,
//     compared with what was read from DWARF (any disagreement is an
//     error rather than a wrong answer), and each member's alignment in
//     its struct (__alignof__) and its type's (_Alignof), which tell a
//     packed or over-aligned member.
//
//  3. If the probe does not compile, the header alone: if that fails
//     too, the error is a *CompileError with the compiler's output;
//     otherwise the header does not declare the type (ErrNotFound, with
//     the compiler's message).
//
// A compiler that cannot be run at all is a *CompileError saying so
// (errors.Is(err, exec.ErrNotFound) where it is not installed).
//
// # What is compared
//
// The Go side is the running binary's own layout, from reflect. C members
// are matched to Go fields by the struct tag c:"name", or else by name
// ignoring case (and X_name for _name, as cgo -godefs names it). Go fields
// named _, tagged c:"-" or named Pad_cgo_N are padding: they are matched
// with nothing, but move what follows. A C11 anonymous struct member's
// members count as the outer struct's; so do an embedded Go struct's
// fields, and those of a field cgo named AnonN, unless a C member is named
// after it (then it is that member). A Go byte array may stand for a C
// struct or union, or an array of them, of the same size.
//
// Compared are the total size and alignment; every member's offset (within
// its struct) and size; kinds: integers of any signedness (char, enum,
// the sync/atomic integer types and atomic.Bool included) with integers,
// floating-point with floating-point, _Bool with bool (a Go bool where C
// has an integer is reported: Go requires 0 or 1), a C pointer with a Go
// integer of its size such as uintptr, a C struct or a named union with a
// Go byte array of its size (unions are opaque); for arrays, the element
// count (over all dimensions: int m[2][3] and [6]int32 agree, since the
// bytes do) and the element size; the members of nested structs and of the
// first element of arrays of structs, recursively. A C member with no Go
// field and a Go field with no C member are differences, except a flexible
// array member (x[]), which occupies nothing.
//
// Refused, with ErrUnsupported and the field named, rather than compared
// into a table no Go struct could clear: bitfields (their layout is the
// compiler's choice), anonymous unions (nothing to match them with; name
// them), a union, a function type or another non-struct as the type
// itself, complex numbers, integers wider than 8 bytes (__int128),
// floating-point numbers Go has no type for (long double, which is 16
// bytes on x86-64 and 12 on i386, _Float128, __float128, _Float16), a
// type or member aligned to more than 8 bytes (__attribute__((aligned(16))),
// _Alignas(16), a typedef so aligned: no Go type is aligned to more than
// 8), and a packed member, placed or aligned below its type's alignment
// (__attribute__((packed)), #pragma pack: Go aligns every field as its
// type; a packed flexible array member is let through, since it occupies
// nothing). In Go: pointers, unsafe.Pointer, atomic.Pointer, strings,
// slices, maps, interfaces, channels and functions, which have no meaning
// in another process's memory.
//
// Alignment up to 8 can be matched on every ABI: a C member aligned to 8
// (_Alignas(8) int32_t x) is matched by preceding the Go field with a
// padding field `_ [0]atomic.Int64`, which is aligned to 8 on 386 too
// (plain int64 and float64 are aligned to 4 there, like i386 C's long
// long and double inside structs).
//
// # Both ABIs
//
// Check compares with the binary it runs in, so a Go struct that is right
// on amd64 and wrong on 386 passes in a 64-bit test and fails in a 32-bit
// one: pass -m32 there (ABIFlags returns the flags for the running
// binary). A C compiler targeting another pointer size than the binary is
// refused with ErrABI, naming the flag to pass, rather than compared. To
// check both in one `go test` run on an amd64 machine, start the test with
// layouttest.Also386, which re-runs it as GOARCH=386 CGO_ENABLED=0 (a
// subtest, skipped with the reason where the kernel cannot run 32-bit
// programs or the C compiler lacks -m32), and take the flags from
// layouttest.CFlags:
//
//	func TestStatsLayout(t *testing.T) {
//		layouttest.Also386(t)
//		if err := layout.Check(Stats{}, "stats.h", "struct stats", layouttest.CFlags(t)...); err != nil {
//			t.Error(err)
//		}
//	}
//
// Run alone, `CGO_ENABLED=0 GOARCH=386 go test` checks the 32-bit layout
// only.
package layout
