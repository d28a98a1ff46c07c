//go:build !race

package purego_test

const raceEnabled = false
