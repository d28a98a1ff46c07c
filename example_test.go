package shmmap_test

import (
	"errors"
	"fmt"
	"io/fs"
	"log"
	"os"
	"path/filepath"

	"github.com/shmmap/shmmap"
	"github.com/shmmap/shmmap/impls"
	"golang.org/x/sys/unix"
)

// The article's writer: create a segment, attach it and copy a message in.
func ExampleCreateSegment() {
	seg, err := shmmap.CreateSegment(shmmap.IPCPrivate, 1024, 0o600)
	if err != nil {
		log.Fatal(err)
	}
	defer seg.Remove() // nothing removes a segment implicitly

	shm, err := seg.Attach(shmmap.AttachReadWrite)
	if err != nil {
		log.Fatal(err)
	}
	defer shm.Detach()
	if _, err := shm.WriteAt([]byte("shared memory here!\n"), 0); err != nil {
		log.Fatal(err)
	}
	fmt.Println("segment size:", seg.Size(), "attached bytes:", shm.Len())
	// Output: segment size: 1024 attached bytes: 1024
}

// The article's reader: find the segment by key (never creating it), attach
// it read-only and read 20 bytes.
func ExampleOpenSegment() {
	key, cleanup := exampleKey()
	defer cleanup()
	writer, _ := shmmap.CreateSegment(key, 1024, 0o600)
	defer writer.Remove()
	w, _ := writer.Attach(shmmap.AttachReadWrite)
	w.WriteAt([]byte("shared memory here!\n"), 0)
	defer w.Detach()

	seg, err := shmmap.OpenSegment(key)
	if err != nil {
		log.Fatal(err)
	}
	shm, err := seg.Attach(shmmap.AttachReadOnly)
	if err != nil {
		log.Fatal(err)
	}
	defer shm.Detach()
	buf := make([]byte, 20)
	if _, err := shm.ReadAt(buf, 0); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%q\n", buf)

	_, err = shm.WriteAt([]byte("no"), 0)
	fmt.Println(errors.Is(err, shmmap.ErrReadOnly))
	// Output:
	// "shared memory here!\n"
	// true
}

// A missing segment is fs.ErrNotExist; the errno is there too.
func ExampleOpenSegment_notExist() {
	key, cleanup := exampleKey()
	defer cleanup()
	_, err := shmmap.OpenSegment(key)
	fmt.Println(errors.Is(err, fs.ErrNotExist), errors.Is(err, unix.ENOENT))
	// Output: true true
}

func ExampleOpenOrCreateSegment() {
	key, cleanup := exampleKey()
	defer cleanup()
	seg, created, err := shmmap.OpenOrCreateSegment(key, 4096, 0o600)
	if err != nil {
		log.Fatal(err)
	}
	defer seg.Remove()
	fmt.Println("created:", created)
	_, created, _ = shmmap.OpenOrCreateSegment(key, 4096, 0o600)
	fmt.Println("created:", created)
	// Output:
	// created: true
	// created: false
}

func ExampleSegment_Stat() {
	seg, err := shmmap.CreateSegment(shmmap.IPCPrivate, 5000, 0o640)
	if err != nil {
		log.Fatal(err)
	}
	defer seg.Remove()
	a, _ := seg.Attach(shmmap.AttachReadWrite)
	defer a.Detach()
	info, err := seg.Stat()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(info.Size, info.Mode, info.Nattch, info.CPID == os.Getpid(), !info.AttachTime.IsZero())
	// Output: 5000 -rw-r----- 1 true true
}

// C and Go agree on keys made with ftok.
func ExampleFtok() {
	dir, _ := os.MkdirTemp("", "ftok")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "project")
	os.WriteFile(path, nil, 0o600)

	key, err := shmmap.Ftok(path, 'A')
	if err != nil {
		log.Fatal(err)
	}
	high, _ := shmmap.Ftok(path, 0x80)
	fmt.Println(uint32(key)>>24 == 'A', high < 0)
	// Output: true true
}

// The article's mmap program: map a file shared, read it, overwrite it
// through the mapping and see the change in the file.
func ExampleMapFile() {
	dir, _ := os.MkdirTemp("", "mmap")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "mmap.txt")
	os.WriteFile(path, []byte("memory map me\n"), 0o600)

	m, err := shmmap.MapFile(path, shmmap.MapShared)
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	fmt.Printf("read from mem: %s", m.Bytes())
	if _, err := m.WriteAt([]byte("txt changed!\n"), 0); err != nil {
		log.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	fmt.Printf("read from file: %s", b)
	// Output:
	// read from mem: memory map me
	// read from file: txt changed!
	//
}

// Map part of a file, at an offset that need not be page-aligned.
func ExampleMap() {
	f, _ := os.CreateTemp("", "map")
	defer os.Remove(f.Name())
	defer f.Close()
	f.WriteString("0123456789abcdef")

	m, err := shmmap.Map(f, 10, 6, shmmap.MapPrivate)
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	m.WriteAt([]byte("ABC"), 0) // copy-on-write: the file keeps its bytes
	b, _ := os.ReadFile(f.Name())
	fmt.Printf("%s %s\n", m.Bytes(), b)
	// Output: ABCdef 0123456789abcdef
}

// POSIX shared memory that C programs open with shm_open("/name", ...).
func ExampleShmOpen() {
	name := fmt.Sprintf("/shmmap-example-%d", os.Getpid())
	f, err := shmmap.ShmOpen(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		log.Fatal(err)
	}
	defer shmmap.ShmUnlink(name)
	defer f.Close()
	if err := f.Truncate(4096); err != nil {
		log.Fatal(err)
	}
	m, err := shmmap.Map(f, 0, 0, shmmap.MapShared)
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	fmt.Println(f.Name() == "/dev/shm"+name, m.Len())

	_, err = shmmap.ShmOpen(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	fmt.Println(errors.Is(err, fs.ErrExist))
	// Output:
	// true 4096
	// true
}

// Anonymous shared memory for a child process: pass the file in
// exec.Cmd.ExtraFiles and the child maps descriptor 3.
func ExampleMemfd() {
	f, err := shmmap.Memfd("example", 4096)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	m, err := shmmap.Map(f, 0, 0, shmmap.MapShared)
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	fmt.Println(m.Len())
	// Output: 4096
}

// The same API over libc (cshim, when the binary has cgo) or over system
// calls (purego, the default).
func ExampleUsing() {
	for _, impl := range impls.All() {
		sys := shmmap.Using(impl)
		seg, err := sys.CreateSegment(shmmap.IPCPrivate, 100, 0o600)
		if err != nil {
			log.Fatal(err)
		}
		seg.Remove()
	}
	fmt.Println("ok")
	// Output: ok
}

// exampleKey returns a key no other segment on the machine uses, derived
// with Ftok from a fresh file, and a function that removes the file.
func exampleKey() (shmmap.Key, func()) {
	dir, err := os.MkdirTemp("", "key")
	if err != nil {
		log.Fatal(err)
	}
	path := filepath.Join(dir, "key")
	os.WriteFile(path, nil, 0o600)
	for proj := 1; proj < 256; proj++ {
		key, err := shmmap.Ftok(path, proj)
		if err != nil {
			log.Fatal(err)
		}
		if _, err := shmmap.OpenSegment(key); errors.Is(err, fs.ErrNotExist) {
			return key, func() { os.RemoveAll(dir) }
		}
	}
	log.Fatal("no free key")
	return 0, nil
}
