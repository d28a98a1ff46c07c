package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/shmmap/shmmap/impls"
	"github.com/shmmap/shmmap/shmtest"
)

// ftokC is a C program printing the key glibc's ftok(argv[1], atoi(argv[2]))
// returns, as shmmap ftok prints keys.
const ftokC = `#include <stdio.h>
#include <stdlib.h>
#include <sys/ipc.h>

int main(int argc, char **argv) {
    key_t key = ftok(argv[1], atoi(argv[2]));
    if (key == -1) {
        perror("ftok");
        return 1;
    }
    printf("0x%08x\n", (unsigned int)key);
    return 0;
}
`

// TestFtokMatchesC: shmmap ftok prints the key C's ftok gives, for files,
// directories and devices, with project ids small and large (0x80 and above
// give negative keys; only the low 8 bits count), given as numbers or as a
// character; --json carries the same key.
func TestFtokMatchesC(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "ftok.c")
	if err := os.WriteFile(src, []byte(ftokC), 0o600); err != nil {
		t.Fatal(err)
	}
	cFtok := shmtest.BuildC(t, src)
	file := filepath.Join(dir, "a file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	type projCase struct{ arg, c string } // as given to shmmap, and to C's atoi
	projs := []projCase{{"1", "1"}, {"A", "65"}, {"65", "65"}, {"0x41", "65"}, {"z", "122"}, {"0x80", "128"}, {"255", "255"}, {"256", "256"}, {"0", "0"}, {"-1", "-1"}}
	paths := []string{file, dir, "/", "/dev/null"}
	want := map[[2]string]string{} // path, proj -> what C printed
	for _, path := range paths {
		for _, p := range projs {
			res := runProg(t, runOpts{}, cFtok, path, p.c)
			if res.Status != 0 {
				t.Fatalf("C ftok(%q, %s): %+v", path, p.c, res)
			}
			want[[2]string{path, p.arg}] = res.Stdout
		}
	}
	for _, impl := range impls.All() {
		for _, path := range paths {
			for _, p := range projs {
				want := want[[2]string{path, p.arg}]
				got := runShmmap(t, runOpts{}, "-impl", impl.Name, "ftok", path, p.arg)
				if got.Status != 0 || got.Stdout != want || got.Stderr != "" {
					t.Errorf("%s: shmmap ftok %q %s: %+v; C's ftok printed %q", impl.Name, path, p.arg, got, want)
				}
			}
		}
	}
	for _, p := range projs {
		var j struct {
			Path string `json:"path"`
			Proj int    `json:"proj"`
			Key  string `json:"key"`
		}
		out := mustShmmap(t, "ftok", "--json", file, p.arg)
		if err := json.Unmarshal([]byte(out), &j); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		if proj, _ := strconv.Atoi(p.c); j.Path != file || j.Proj != proj || j.Key+"\n" != want[[2]string{file, p.arg}] {
			t.Errorf("shmmap ftok --json %q %s: %+v; want path, proj %d and key %q", file, p.arg, j, proj, want[[2]string{file, p.arg}])
		}
	}
}
