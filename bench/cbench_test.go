package bench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/shmmap/shmmap/internal/testutil"
)

var (
	cBuild    sync.Once
	cDir      string
	cBuildErr error
)

// cProgram builds the helper programs once — bench/c/NAME.c (with -O2) and
// bench/internal/NAME — and returns the path of NAME.
func cProgram(b *testing.B, name string) string {
	b.Helper()
	// The first call builds everything; that is not part of any row.
	b.StopTimer()
	defer b.StartTimer()
	cBuild.Do(func() {
		cDir, cBuildErr = os.MkdirTemp("", "shmmap-bench-")
		if cBuildErr != nil {
			return
		}
		for _, n := range []string{"perop", "stream"} {
			if cBuildErr = testutil.BuildC(filepath.Join(cDir, n), filepath.Join("c", n+".c")); cBuildErr != nil {
				return
			}
		}
		for _, n := range []string{"streamer"} {
			cmd := exec.Command("go", "build", "-o", filepath.Join(cDir, n), "./internal/"+n)
			if out, err := cmd.CombinedOutput(); err != nil {
				cBuildErr = fmt.Errorf("go build ./internal/%s: %v\n%s", n, err, out)
				return
			}
		}
	})
	if cBuildErr != nil {
		b.Fatal(cBuildErr)
	}
	return filepath.Join(cDir, name)
}

// cBench runs the C program for b.N iterations (at least minIters, so a
// slow first round still measures a loop) and reports its own ns/op: the
// time of the loop alone, not of starting the process.
func cBench(b *testing.B, minIters int, prog string, op string, args ...string) float64 {
	b.Helper()
	iters := max(b.N, minIters)
	out, err := exec.Command(cProgram(b, prog), append([]string{op, strconv.Itoa(iters)}, args...)...).Output()
	if err != nil {
		b.Fatalf("%s %s: %v", prog, op, err)
	}
	ns, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil {
		b.Fatalf("%s %s printed %q", prog, op, out)
	}
	b.ReportMetric(ns, "ns/op")
	return ns
}

func TestMain(m *testing.M) {
	code := m.Run()
	if cDir != "" {
		os.RemoveAll(cDir)
	}
	os.Exit(code)
}

func mustf(b *testing.B, err error, format string, args ...any) {
	if err != nil {
		b.Fatalf("%s: %v", fmt.Sprintf(format, args...), err)
	}
}

// goProgram returns the path of the Go helper program NAME (see cProgram).
func goProgram(b *testing.B, name string) string { return cProgram(b, name) }
