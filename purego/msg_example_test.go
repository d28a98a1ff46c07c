package purego_test

import (
	"errors"
	"fmt"

	"github.com/shmmap/shmmap/purego"
	"golang.org/x/sys/unix"
)

// Messages come out of a System V queue by type: msgtyp > 0 takes the
// first message of that type, msgtyp < 0 the first of the lowest type up
// to -msgtyp, and 0 the first in the queue.
func ExampleMsgrcv() {
	id, err := purego.Msgget(unix.IPC_PRIVATE, unix.IPC_CREAT|0o600)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer purego.Msgctl(id, unix.IPC_RMID, nil)

	for _, m := range []struct {
		mtype int64
		text  string
	}{{3, "three"}, {1, "one"}, {2, "two"}} {
		if err := purego.Msgsnd(id, m.mtype, []byte(m.text), 0); err != nil {
			fmt.Println(err)
			return
		}
	}
	buf := make([]byte, 64)
	for _, msgtyp := range []int64{2, -3, 0} {
		mtype, n, err := purego.Msgrcv(id, buf, msgtyp, unix.IPC_NOWAIT)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("msgtyp %2d: type %d %q\n", msgtyp, mtype, buf[:n])
	}
	_, _, err = purego.Msgrcv(id, buf, 0, unix.IPC_NOWAIT)
	fmt.Println("empty:", errors.Is(err, unix.ENOMSG))
	// Output:
	// msgtyp  2: type 2 "two"
	// msgtyp -3: type 1 "one"
	// msgtyp  0: type 3 "three"
	// empty: true
}
