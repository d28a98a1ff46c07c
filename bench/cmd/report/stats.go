package main

import (
	"fmt"
	"sort"
)

// series is one row's value in each round.
type series []float64

func (s series) median() float64 {
	if len(s) == 0 {
		return 0
	}
	c := append(series(nil), s...)
	sort.Float64s(c)
	if len(c)%2 == 1 {
		return c[len(c)/2]
	}
	return (c[len(c)/2-1] + c[len(c)/2]) / 2
}

func (s series) minMax() (lo, hi float64) {
	if len(s) == 0 {
		return 0, 0
	}
	lo, hi = s[0], s[0]
	for _, v := range s[1:] {
		lo, hi = min(lo, v), max(hi, v)
	}
	return lo, hi
}

// times returns s with every value multiplied by k.
func (s series) times(k float64) series {
	out := make(series, len(s))
	for i, v := range s {
		out[i] = v * k
	}
	return out
}

// ratio divides a by b round by round (a[i]/b[i]).
func ratio(a, b series) series {
	n := min(len(a), len(b))
	out := make(series, n)
	for i := range n {
		if b[i] != 0 {
			out[i] = a[i] / b[i]
		}
	}
	return out
}

func fmtNs(ns float64) string {
	switch {
	case ns >= 1e6:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.2f µs", ns/1e3)
	default:
		return fmt.Sprintf("%.1f ns", ns)
	}
}
