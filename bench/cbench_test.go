package bench

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/shmmap/shmmap/shmtest"
)

// cProgram returns the helper program bench/c/NAME.c (built with -O2, once
// per test binary, by shmtest.BuildC). The build is not part of any row:
// the timer stops while it runs.
func cProgram(b *testing.B, name string) string {
	b.Helper()
	b.StopTimer()
	defer b.StartTimer()
	return shmtest.BuildC(b, filepath.Join("c", name+".c"))
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

// TestMain removes the programs cProgram and goProgram built.
func TestMain(m *testing.M) { shmtest.Main(m) }

func mustf(b *testing.B, err error, format string, args ...any) {
	if err != nil {
		b.Fatalf("%s: %v", fmt.Sprintf(format, args...), err)
	}
}

// goProgram returns the Go helper program bench/internal/NAME (built once
// per test binary, by shmtest.BuildGo), with the timer stopped as
// cProgram does.
func goProgram(b *testing.B, name string) string {
	b.Helper()
	b.StopTimer()
	defer b.StartTimer()
	return shmtest.BuildGo(b, "./internal/"+name)
}
