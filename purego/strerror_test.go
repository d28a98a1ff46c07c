package purego

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shmmap/shmmap/shmtest"
)

// TestMain removes the C programs the tests built.
func TestMain(m *testing.M) { shmtest.Main(m) }

// requireCC skips the test unless the C compiler Go uses (go env CC) is
// installed.
func requireCC(t *testing.T) {
	t.Helper()
	out, err := exec.Command("go", "env", "CC").Output()
	cc := strings.Fields(string(out))
	if err != nil || len(cc) == 0 {
		t.Skipf("no C compiler to compare with: go env CC: %v", err)
	}
	if _, err := exec.LookPath(cc[0]); err != nil {
		t.Skipf("no C compiler to compare with: %v", err)
	}
}

// TestStrerrorAgainstLibc compares Strerror with the running glibc's
// strerror for 0..300 and values C sees as negative, through a C program,
// so it runs with CGO_ENABLED=0 too.
func TestStrerrorAgainstLibc(t *testing.T) {
	requireCC(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "strerror.c")
	err := os.WriteFile(src, []byte(`#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv) {
	for (int i = 1; i < argc; i++) printf("%s\n", strerror(atoi(argv[i])));
	return 0;
}
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	exe := shmtest.BuildC(t, src)
	var nums []int64
	for e := int64(0); e <= 300; e++ {
		nums = append(nums, e)
	}
	nums = append(nums, 2147483647, -1, -133)
	args := make([]string, len(nums))
	for i, n := range nums {
		args[i] = strconv.FormatInt(n, 10)
	}
	res := shmtest.Run(t, exec.Command(exe, args...))
	if res.Status != 0 {
		t.Fatalf("the C program: %+v", res)
	}
	var want, got []string
	sc := bufio.NewScanner(strings.NewReader(res.Stdout))
	for i := 0; sc.Scan(); i++ {
		want = append(want, args[i]+": "+sc.Text())
		got = append(got, args[i]+": "+Strerror(syscall.Errno(uint32(int32(nums[i])))))
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Strerror differs from glibc %s's strerror (-libc +purego):\n%s", glibcVersion, d)
	}
}

// TestStrerrorTableCurrent regenerates the table and compares it with the
// committed one.
func TestStrerrorTableCurrent(t *testing.T) {
	out := filepath.Join(t.TempDir(), "table.go")
	cmd := exec.Command("go", "run", "./internal/gen/strerror", "-o", out)
	cmd.Dir = ".." // the module's root, from the package directory
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("cannot run the generator (no C compiler?): %v\n%s", err, b)
	}
	fresh, _ := os.ReadFile(out)
	committed, _ := os.ReadFile("strerror_table.go")
	if d := cmp.Diff(string(committed), string(fresh)); d != "" {
		t.Errorf("strerror_table.go is stale; run go generate ./purego (-committed +fresh):\n%s", d)
	}
}
