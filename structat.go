package shmmap

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"unsafe"
)

// StructAt returns a *T over mem at byte offset off: the struct lives in the
// memory itself, so what one process stores through it the other processes
// sharing the memory see at once, and the reverse. mem is typically an
// Attachment's or a Mapping's Bytes, or any other mapped memory.
//
// The pointer is valid only as long as the memory is mapped: like the slice
// Bytes returns, it must not be used after Detach, Close or munmap; using it
// afterwards, or writing through it when the memory is attached
// AttachReadOnly or mapped MapReadOnly, crashes the process (the memory is
// unmapped or write-protected). StructAt cannot tell read-only memory from
// a []byte: only read through such a pointer.
//
// StructAt refuses, with an error and never a panic:
//
//   - a T that holds pointers, unsafe.Pointer, strings, slices, maps,
//     interfaces, channels or funcs anywhere, through every struct field and
//     array element type (even of zero-length arrays): what they point to
//     is in one process's memory and means nothing in another's, and the
//     garbage collector does not look into shared memory. The error names
//     the field, as in "field Recs[].Name is a string". The sync/atomic
//     types Int32, Int64, Uint32, Uint64, Uintptr and Bool are plain
//     integers and are allowed; atomic.Pointer and atomic.Value hold a
//     pointer and an interface and are refused. The types of package sync
//     (Mutex, RWMutex, WaitGroup, Once, ...) are refused too: their waiters
//     sleep on this process's Go runtime, so another process would never
//     wake them; use a SemaphoreSet or package posixsem instead. The
//     verdict is computed once per type and cached.
//   - an off that is negative or not inside mem (so nil or empty mem is
//     always refused), or a T that does not fit: off+size(T) > len(mem),
//     computed without overflow. These errors match ErrOutOfRange and
//     unix.EINVAL.
//   - an address &mem[off] that is not a multiple of T's alignment
//     (reflect's Align; memory from mmap or shmat is page-aligned, so this
//     is off % align). This error matches unix.EINVAL.
//
// A zero-size T is allowed at any offset inside mem (0 <= off < len(mem));
// the pointer then points at mem[off], never past the end of mem.
//
// # Sharing with other processes
//
// The memory is shared with other processes, so plain fields race with
// them exactly as they would with another goroutine, and the race detector
// cannot see the other process. Use the sync/atomic types for every field
// another process writes while this one reads or writes it (counters,
// flags, indexes), or guard the fields with a lock both sides take: a
// System V semaphore (SemaphoreSet.Lock) or a POSIX semaphore (package
// posixsem). C's atomics on the same addresses are the same CPU
// instructions, so these pair up:
//
//	Go                  C
//	atomic.Uint64       _Atomic uint64_t, or uint64_t used only through
//	                    __atomic_* builtins (__atomic_fetch_add(&p->n, 1,
//	                    __ATOMIC_SEQ_CST)) or atomic_fetch_add
//	atomic.Int64        _Atomic int64_t
//	atomic.Uint32       _Atomic uint32_t
//	atomic.Int32        _Atomic int32_t
//	atomic.Bool         _Atomic uint32_t (atomic.Bool is 4 bytes; C's
//	                    _Atomic _Bool is 1)
//
// Go's sync/atomic operations are sequentially consistent, as C's
// memory_order_seq_cst (the default of atomic_fetch_add and of _Atomic
// operators).
//
// The layouts must match byte for byte: the same field types, sizes and
// offsets in the Go struct and the C struct, including padding. Prefer
// fixed-size types (uint32, int64, [16]byte) to int, uint and uintptr,
// whose size changes with the architecture, and declare a field another
// process might set to a byte other than 0 or 1 as uint8, not bool.
// Measure the C side rather than assume it: the layout package,
// github.com/shmmap/shmmap/layout, compares a Go struct type with the C
// compiler's layout of a struct declared in a header, member by member
// (layout.Check); test with it on every ABI you ship.
//
// On 32-bit x86 (GOARCH=386, gcc -m32) 64-bit fields are where layouts part:
// a plain uint64_t inside a C struct is 4-aligned, and so is a plain uint64
// inside a Go struct, but C's _Atomic uint64_t is 8-aligned (GCC 11.1 and
// later; earlier GCC 4-aligned it), and so is Go's atomic.Uint64. So
// struct { uint32_t a; uint64_t b; } puts b at offset 4 on 386 and at 8 on
// amd64, while struct { uint32_t a; _Atomic uint64_t b; } puts b at 8 on
// both, as Go's struct { A uint32; B atomic.Uint64 } does. A 64-bit counter
// shared across ABIs, or with a C compiler you do not control, should be
// atomic.Uint64 on the Go side and _Atomic uint64_t (or
// _Alignas(8) uint64_t) on the C side, at an offset that is a multiple of 8.
func StructAt[T any](mem []byte, off int) (*T, error) {
	t := reflect.TypeFor[T]()
	if err := structAtVerdict(t); err != nil {
		return nil, err
	}
	if off < 0 || off >= len(mem) {
		if len(mem) == 0 {
			return nil, structAtErr(t, fmt.Sprintf("offset %d: the memory is empty", off), ErrOutOfRange, syscall.EINVAL)
		}
		return nil, structAtErr(t, fmt.Sprintf("offset %d is outside the memory (%d bytes)", off, len(mem)), ErrOutOfRange, syscall.EINVAL)
	}
	size := t.Size()
	if size > uintptr(len(mem)-off) {
		return nil, structAtErr(t, fmt.Sprintf("%d bytes at offset %d do not fit in the memory (%d bytes)", size, off, len(mem)), ErrOutOfRange, syscall.EINVAL)
	}
	p := unsafe.Pointer(&mem[off])
	if align := uintptr(t.Align()); uintptr(p)%align != 0 {
		return nil, structAtErr(t, fmt.Sprintf("offset %d (address %#x) is not aligned to %d bytes", off, uintptr(p), align), syscall.EINVAL)
	}
	return (*T)(p), nil
}

// structAtVerdicts caches, per reflect.Type, the error StructAt gives for
// the type itself (a structAtOK when it is plain data).
var structAtVerdicts sync.Map // reflect.Type → error or structAtOK

// structAtOK marks a type found to be plain data.
type structAtOK struct{}

// structAtVerdict returns nil if t may be placed in shared memory, or the
// error naming the first field that may not.
func structAtVerdict(t reflect.Type) error {
	if v, ok := structAtVerdicts.Load(t); ok {
		if err, isErr := v.(error); isErr {
			return err
		}
		return nil
	}
	var err error
	if path, what := structAtCheck(t, ""); what != "" {
		var where string
		switch {
		case path == "":
			where = "the type"
		case strings.HasPrefix(path, "[]"):
			where = "element " + path
		default:
			where = "field " + path
		}
		err = structAtErr(t, where+" is "+what, syscall.EINVAL)
	}
	if err != nil {
		structAtVerdicts.Store(t, err)
	} else {
		structAtVerdicts.Store(t, structAtOK{})
	}
	return err
}

// noGoPointers explains why pointer-like kinds are refused.
const noGoPointers = "shared memory cannot hold Go pointers (what they point to is in one process's memory, and the garbage collector does not look into shared memory)"

// structAtCheck walks t and returns the path of the first part of it that
// may not be placed in shared memory and what it is, or "" for what if
// there is none.
func structAtCheck(t reflect.Type, path string) (at, what string) {
	switch t.PkgPath() {
	case "sync/atomic":
		switch t.Name() {
		case "Int32", "Int64", "Uint32", "Uint64", "Uintptr", "Bool":
			return "", ""
		case "Value":
			return path, "a sync/atomic.Value: it holds an interface, and " + noGoPointers
		}
		if strings.HasPrefix(t.Name(), "Pointer[") {
			return path, "a sync/" + t.String() + ": it holds a pointer, and " + noGoPointers
		}
	case "sync", "internal/sync":
		return path, "a " + t.String() + ": its waiters sleep on this process's Go runtime, so it does not work across processes; use a SemaphoreSet (System V) or package posixsem"
	}
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return "", ""
	case reflect.Array:
		return structAtCheck(t.Elem(), path+"[]")
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			p := f.Name
			if path != "" {
				p = path + "." + f.Name
			}
			if at, what := structAtCheck(f.Type, p); what != "" {
				return at, what
			}
		}
		return "", ""
	case reflect.Pointer:
		return path, "a pointer (" + t.String() + "): " + noGoPointers
	case reflect.UnsafePointer:
		return path, "an unsafe.Pointer: " + noGoPointers
	case reflect.String:
		return path, "a string: " + noGoPointers
	case reflect.Slice:
		return path, "a slice (" + t.String() + "): " + noGoPointers
	case reflect.Map:
		return path, "a map (" + t.String() + "): " + noGoPointers
	case reflect.Interface:
		return path, "an interface (" + t.String() + "): " + noGoPointers
	case reflect.Chan:
		return path, "a channel (" + t.String() + "): " + noGoPointers
	case reflect.Func:
		return path, "a func (" + t.String() + "): " + noGoPointers
	}
	return path, "of kind " + t.Kind().String() + ", which StructAt does not know"
}

// structAtError is the error StructAt returns: the type, the reason, and
// the sentinel errors it matches.
type structAtError struct {
	typ    reflect.Type
	reason string
	errs   []error
}

func structAtErr(t reflect.Type, reason string, errs ...error) error {
	return &structAtError{typ: t, reason: reason, errs: errs}
}

func (e *structAtError) Error() string {
	return fmt.Sprintf("shmmap.StructAt[%v]: %s", e.typ, e.reason)
}

// Unwrap returns the sentinel errors: ErrOutOfRange and syscall.EINVAL, or
// syscall.EINVAL alone.
func (e *structAtError) Unwrap() []error { return e.errs }
