package procmaps_test

import (
	"fmt"
	"log"

	"github.com/shmmap/shmmap/procmaps"
)

func ExampleParseLine() {
	// A System V segment with key 0x1235 and shmid 4, attached read-write.
	line := "7f23d0f28000-7f23d0f29000 rw-s 00000000 00:01 4                          /SYSV00001235 (deleted)"
	m, err := procmaps.ParseLine(line)
	if err != nil {
		log.Fatal(err)
	}
	key, shmid, ok := m.SysV()
	fmt.Printf("sysv=%v key=%#x shmid=%d\n", ok, key, shmid)
	fmt.Printf("perms=%s shared=%v len=%d deleted=%v\n", m.PermString(), m.Perms.Shared, m.Len(), m.Deleted())
	fmt.Println(m.String() == line)
	// Output:
	// sysv=true key=0x1235 shmid=4
	// perms=rw-s shared=true len=4096 deleted=true
	// true
}

func ExampleMapping_SysV() {
	// The kernel prints the int key_t with %08x, so this is the key -1.
	m, err := procmaps.ParseLine("7f93d31ae000-7f93d31af000 r--s 00000000 00:01 3                          /SYSVffffffff (deleted)")
	if err != nil {
		log.Fatal(err)
	}
	key, shmid, ok := m.SysV()
	fmt.Println(key, shmid, ok, m.PermString())
	// Output: -1 3 true r--s
}

func ExampleSelf() {
	ms, err := procmaps.Self()
	if err != nil {
		log.Fatal(err)
	}
	for _, m := range ms {
		if key, shmid, ok := m.SysV(); ok {
			fmt.Printf("segment key %#x shmid %d at %#x, %d bytes, %s\n", key, shmid, m.Start, m.Len(), m.PermString())
		}
	}
}
