package shmtest_test

import "testing"

// The whole-file examples' test functions, run as the tests they are.

func TestExampleReaders(t *testing.T)       { testReaders(t) }
func TestExampleNoLeaks(t *testing.T)       { testSharedSegment(t) }
func TestExamplePrivateDevShm(t *testing.T) { testFixedPOSIXName(t) }
