// Package bench measures shmmap against C and against other Go packages, in
// one `go test -bench` run per round, and cmd/report turns several
// interleaved rounds into BENCHMARKS.md and charts (run `make bench` from
// the repository root).
//
// It is its own module so the library keeps its two dependencies: the peers
// (github.com/gen2brain/shm, github.com/edsrzf/mmap-go, golang.org/x/exp/mmap)
// and gonum.org/v1/plot are required here only.
//
// C figures come from small C programs (c/*.c) that time their own loops;
// their benchmarks run them once per b.N and report the C program's
// ns/op in place of the process-spawning time.
package bench
