//go:build !race

package pthread_test

const raceEnabled = false
