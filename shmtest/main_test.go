package shmtest_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/shmmap/shmmap/shmtest"
)

// TestMain is what shmtest.Main does, plus a check that RemoveBuilds did
// remove the programs.
func TestMain(m *testing.M) {
	code := m.Run()
	dir := shmtest.BuildDir()
	shmtest.RemoveBuilds()
	if _, err := os.Stat(dir); dir != "" && err == nil {
		fmt.Fprintln(os.Stderr, "RemoveBuilds left", dir)
		code = 1
	}
	os.Exit(code)
}
