package shmtest

import "golang.org/x/sys/unix"

// Compiles returns how many times a compiler or go build has run in this
// test binary.
func Compiles() int64 { return compiles.Load() }

// BuildDir returns the directory of built programs ("" before the first
// build).
func BuildDir() string {
	builds.mu.Lock()
	defer builds.mu.Unlock()
	return builds.dir
}

// SweepBuildDirs removes the build directories of exited test binaries.
func SweepBuildDirs() { sweepBuildDirs() }

// BuildDirPrefix starts the name of every build directory.
const BuildDirPrefix = buildDirPrefix

// GoProgramName is the name BuildGo gives the program built from pkg in
// the working directory wd.
func GoProgramName(wd, pkg string) string { return goProgramName(wd, pkg) }

// Run32 runs a -m32 probe program as CanRun32 does and says why it failed.
func Run32(bin string) error { return run32(bin) }

// FailDevShmMount makes Isolate's tmpfs mount on /dev/shm fail with err
// until restore is called. Not for parallel tests.
func FailDevShmMount(err error) (restore func()) {
	mountTmpfs = func(string, string, string, uintptr, string) error { return err }
	return func() { mountTmpfs = unix.Mount }
}
