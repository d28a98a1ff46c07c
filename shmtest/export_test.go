package shmtest

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
