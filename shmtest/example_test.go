package shmtest_test

import (
	"fmt"
	"os/exec"

	"github.com/shmmap/shmmap/shmtest"
)

// Diff says which fields of two Results differ and where.
func ExampleDiff() {
	c := shmtest.Result{Stdout: "hello from C\n", Files: map[string][]byte{"mmap.txt": []byte("txt changed!\n")}}
	goRun := shmtest.Result{Stdout: "hello from Go\n", Status: 1, Files: map[string][]byte{"mmap.txt": []byte("txt changed?\n")}}
	fmt.Println(shmtest.Diff(c, goRun))
	fmt.Printf("%q\n", shmtest.Diff(c, c))
	// Output:
	// Status: want 0 (success), got 1 (exit code)
	// Stdout: want 13 bytes, got 14; first difference at byte 11 (line 1, column 12), 2 bytes differ
	//   want: "hello from C\n"
	//   got : "hello from Go\n"
	//                     ^
	// Files["mmap.txt"]: want 13 bytes, got 13; first difference at offset 0xb (11)
	//   want 00000000  74 78 74 20 63 68 61 6e  67 65 64 21 0a           |txt changed!.|
	//   got  00000000  74 78 74 20 63 68 61 6e  67 65 64 3f 0a           |txt changed?.|
	//                                                    ^^
	// ""
}

// Unprivileged runs a command as nobody (uid and gid 65534) with no
// supplementary groups; the test must run as root to start it.
func ExampleUnprivileged() {
	cmd := shmtest.Unprivileged(exec.Command("id", "-u"))
	c := cmd.SysProcAttr.Credential
	fmt.Println(c.Uid, c.Gid, len(c.Groups))
	// Output: 65534 65534 0
}

// ExitStatus reports a signal as a shell does.
func ExampleExitStatus() {
	cmd := exec.Command("sh", "-c", "kill -KILL $$")
	cmd.Run()
	fmt.Println(shmtest.ExitStatus(cmd.ProcessState))
	// Output: 137
}
