package main

import (
	"bufio"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// sample is one benchmark result line of one round.
type sample struct {
	Family string // BenchmarkShmCycle
	Sub    string // purego
	NsOp   float64
	MBs    float64 // 0 if not reported
	Extra  map[string]float64
}

var gomaxprocsSuffix = regexp.MustCompile(`-\d+$`)

// parse reads `go test -bench` output and returns its result lines.
func parse(r io.Reader) ([]sample, error) {
	var out []sample
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := gomaxprocsSuffix.ReplaceAllString(f[0], "")
		family, sub, _ := strings.Cut(name, "/")
		s := sample{Family: family, Sub: sub, Extra: map[string]float64{}}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			switch f[i+1] {
			case "ns/op":
				s.NsOp = v
			case "MB/s":
				s.MBs = v
			default:
				s.Extra[f[i+1]] = v
			}
		}
		out = append(out, s)
	}
	return out, sc.Err()
}
