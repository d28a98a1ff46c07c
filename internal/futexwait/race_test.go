//go:build race

package futexwait

const raceEnabled = true
