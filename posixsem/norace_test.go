//go:build !race

package posixsem_test

const raceEnabled = false
