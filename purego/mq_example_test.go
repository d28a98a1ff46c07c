package purego_test

import (
	"fmt"
	"os"

	"github.com/shmmap/shmmap/purego"
	"github.com/shmmap/shmmap/sysapi"
	"golang.org/x/sys/unix"
)

// A POSIX message queue delivers the highest priority first, and its
// descriptor is a file descriptor that poll(2) reports readable while a
// message waits: the way to wait for one without a blocked thread.
func ExampleMqTimedreceive() {
	name := fmt.Sprintf("/purego-example-%d", os.Getpid())
	mqd, err := purego.MqOpen(name, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL, 0o600, &sysapi.MqAttr{Maxmsg: 4, Msgsize: 64})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer purego.MqUnlink(name)
	defer purego.Close(mqd)

	purego.MqTimedsend(mqd, []byte("low"), 1, nil)
	purego.MqTimedsend(mqd, []byte("high"), 7, nil)
	attr, _ := purego.MqGetattr(mqd)
	fmt.Println("queued:", attr.Curmsgs)

	buf := make([]byte, attr.Msgsize)
	for {
		fds := []unix.PollFd{{Fd: int32(mqd), Events: unix.POLLIN}}
		if n, err := unix.Poll(fds, 0); err != nil || n == 0 {
			break
		}
		n, prio, err := purego.MqTimedreceive(mqd, buf, nil)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("priority %d: %q\n", prio, buf[:n])
	}
	// Output:
	// queued: 2
	// priority 7: "high"
	// priority 1: "low"
}
