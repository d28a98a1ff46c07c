// Package conformance holds the conformance suite that runs unchanged
// against every implementation of the sysapi call set built into the test
// binary (purego always, cshim with cgo) and compares their results with
// go-cmp. cshim calls libc, so where both are present purego is held to
// libc's behaviour call by call. The package has no non-test code.
package conformance
