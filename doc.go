// Package shmmap is System V shared memory and memory-mapped files for Go,
// interoperating with C byte for byte: the segments, keys, POSIX shared
// memory objects and mapped files it makes are the ones C programs make with
// shmget, ftok, shm_open and mmap, and the other way round.
//
// # The API
//
// Segments: CreateSegment (IPC_CREAT|IPC_EXCL: you know you created it),
// OpenSegment (never creates; the size is the segment's real size),
// OpenOrCreateSegment (says which happened), OpenSegmentID; keys from Ftok,
// identical to glibc's, or IPCPrivate. A Segment is attached with Attach,
// which returns an Attachment: ReadAt and WriteAt (io.ReaderAt, io.WriterAt)
// with bounds checks, Len, Bytes for zero-copy access, and Detach. Stat
// decodes IPC_STAT into Go types; Remove (IPC_RMID) happens only when asked.
//
// Mappings: Map maps an *os.File (or part of it, at any offset) MapShared,
// MapPrivate (copy-on-write) or MapReadOnly; MapFile maps a path. A Mapping
// has the same ReadAt, WriteAt, Len and Bytes, plus Sync, Advise, Lock,
// Unlock and Close. ShmOpen and ShmUnlink are glibc's shm_open and
// shm_unlink; Memfd makes anonymous memory a child process can inherit.
//
// Semaphores: CreateSemaphores, OpenSemaphores and OpenOrCreateSemaphores
// give a SemaphoreSet — the System V semaphores legacy C code pairs with a
// segment — with Wait, Post, TryWait, WaitContext (a deadline becomes
// semtimedop's timeout), Lock and Unlock (SEM_UNDO: the kernel releases the
// lock of a process that dies holding it) and Op for several operations at
// once. ListSegments lists every segment as ipcs -m does.
//
// Safety: ReadAt and WriteAt never crash the process. Offsets are checked
// first; a write to read-only memory returns ErrReadOnly; a fault — SIGBUS
// when another process truncated the file under the mapping or a tmpfs is
// full, SIGSEGV on a protected page — is caught (runtime/debug.SetPanicOnFault)
// and returned as an error matching ErrFault. After Detach or Close every
// method returns ErrClosed; Detach and Close are idempotent. Bytes is the
// escape hatch: the slice is the shared memory itself and must not be used
// after Detach or Close, nor written when read-only.
//
// Errors carry the operation and the key, id or path (*SegmentError, or
// *fs.PathError for files) and wrap the errno, so errors.Is(err,
// fs.ErrNotExist), errors.Is(err, fs.ErrExist), errors.Is(err,
// fs.ErrPermission) and errors.Is(err, unix.EINVAL) work.
//
// Implementations: the package-level functions use purego (system calls, no
// cgo). Using(cshim.Impl) gives the same API over glibc through cgo; the two
// are held to each other by the conformance suite.
//
// # The article's programs in Go
//
// The writer creates key 0x1234, 1024 bytes, mode 0600, and copies a message
// in:
//
//	seg, _, err := shmmap.OpenOrCreateSegment(0x1234, 1024, 0o600)
//	if err != nil {
//		log.Fatal(err)
//	}
//	shm, err := seg.Attach(shmmap.AttachReadWrite)
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer shm.Detach()
//	shm.WriteAt([]byte("shared memory here!\n"), 0)
//	time.Sleep(30 * time.Second)
//
// The reader finds it, attaches it read-only and prints 20 bytes:
//
//	seg, err := shmmap.OpenSegment(0x1234)
//	if err != nil {
//		log.Fatal(err) // "shmget key 0x00001234: no such file or directory"
//	}
//	shm, err := seg.Attach(shmmap.AttachReadOnly)
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer shm.Detach()
//	buf := make([]byte, 20)
//	shm.ReadAt(buf, 0)
//	fmt.Printf("%s\n", bytes.TrimRight(buf, "\x00"))
//
// The mmap program maps mmap.txt shared, prints it, and overwrites it
// through the mapping; the file sees the change:
//
//	m, err := shmmap.MapFile("mmap.txt", shmmap.MapShared)
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer m.Close()
//	fmt.Printf("read from mem: %s", m.Bytes())
//	m.WriteAt([]byte("txt changed!\n"), 0)
//
// Faithful ports, byte for byte the C programs' behaviour, are in cmd/writer,
// cmd/reader and cmd/mmap.
//
// # The rest of the module
//
//   - sysapi: the contract — one Go function per C call — that the two
//     implementations fulfil.
//   - cshim: the contract through libc and cgo.
//   - purego: the contract through system calls (golang.org/x/sys/unix),
//     without cgo.
//   - impls: picks an implementation by name ("purego" or "cshim").
//   - procmaps: a parser for /proc/PID/maps that decodes System V segments.
//   - conformance: one suite run unchanged over both implementations.
//   - c-reference: the article's C programs, verbatim.
package shmmap
