// Command report runs the benchmarks of this module in interleaved rounds
// and writes BENCHMARKS.md (at the repository root), the raw `go test
// -bench` output (for benchstat) and the charts (streaming, and
// request/response). `make bench` runs it; nothing in the report is edited
// by hand. With -from it rewrites the report and the charts from the raw
// output of an earlier run, without running anything.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

func main() {
	rounds := flag.Int("rounds", 5, "interleaved rounds (at least 5)")
	benchtime := flag.String("benchtime", "300ms", "go test -benchtime per benchmark per round")
	out := flag.String("o", "../BENCHMARKS.md", "report file")
	raw := flag.String("raw", "results/raw.txt", "raw go test -bench output, all rounds")
	chart := flag.String("chart", "results/streaming.svg", "streaming throughput chart")
	ppChart := flag.String("pingpong-chart", "results/pingpong.svg", "request/response chart")
	from := flag.String("from", "", "write the report, raw output aside, from this raw output of earlier rounds instead of running them")
	flag.Parse()
	if *from != "" {
		perRound, err := readRounds(*from)
		if err != nil {
			log.Fatal(err)
		}
		res := collect(perRound)
		var md strings.Builder
		writeReport(&md, res, len(perRound), *benchtime, 0, *from, *chart, *ppChart)
		if err := os.WriteFile(*out, []byte(md.String()), 0o644); err != nil {
			log.Fatal(err)
		}
		if err := drawCharts(res, *chart, *ppChart); err != nil {
			log.Fatal(err)
		}
		return
	}
	if *rounds < 5 {
		log.Fatal("report: at least 5 rounds")
	}
	if err := os.MkdirAll(filepath.Dir(*raw), 0o755); err != nil {
		log.Fatal(err)
	}
	var all bytes.Buffer
	var perRound [][]sample
	start := time.Now()
	for r := 1; r <= *rounds; r++ {
		// Each round runs every row once, in the same order, so slow
		// drifts of the machine hit all rows alike and ratios are taken
		// within a round.
		cmd := exec.Command("go", "test", "-run", "^$", "-bench", ".", "-count", "1", "-benchtime", *benchtime, ".")
		var buf bytes.Buffer
		cmd.Stdout = io.MultiWriter(&buf, &all)
		cmd.Stderr = os.Stderr
		log.Printf("round %d/%d", r, *rounds)
		if err := cmd.Run(); err != nil {
			os.Stdout.Write(buf.Bytes())
			log.Fatalf("round %d: %v", r, err)
		}
		s, err := parse(&buf)
		if err != nil {
			log.Fatal(err)
		}
		perRound = append(perRound, s)
	}
	if err := os.WriteFile(*raw, all.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
	res := collect(perRound)
	var md strings.Builder
	writeReport(&md, res, *rounds, *benchtime, time.Since(start), *raw, *chart, *ppChart)
	if err := os.WriteFile(*out, []byte(md.String()), 0o644); err != nil {
		log.Fatal(err)
	}
	if err := drawCharts(res, *chart, *ppChart); err != nil {
		log.Fatal(err)
	}
	fmt.Print(md.String())
}

// results holds each row's values by round: results[family/sub] = series.
type results struct {
	ns  map[string]series
	mbs map[string]series
	ext map[string]map[string]series // unit -> row -> series
	row []string                     // rows in first-seen order
}

func collect(rounds [][]sample) *results {
	res := &results{ns: map[string]series{}, mbs: map[string]series{}, ext: map[string]map[string]series{}}
	for _, round := range rounds {
		for _, s := range round {
			key := s.Family + "/" + s.Sub
			if _, seen := res.ns[key]; !seen {
				res.row = append(res.row, key)
			}
			res.ns[key] = append(res.ns[key], s.NsOp)
			res.mbs[key] = append(res.mbs[key], s.MBs)
			for unit, v := range s.Extra {
				if res.ext[unit] == nil {
					res.ext[unit] = map[string]series{}
				}
				res.ext[unit][key] = append(res.ext[unit][key], v)
			}
		}
	}
	return res
}

// readRounds splits the raw output of several rounds (each begins with
// go test's "goos:" line) and parses each.
func readRounds(path string) ([][]sample, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var rounds [][]sample
	for _, part := range strings.Split("\n"+string(b), "\ngoos:")[1:] {
		s, err := parse(strings.NewReader(part))
		if err != nil {
			return nil, err
		}
		rounds = append(rounds, s)
	}
	return rounds, nil
}

// drawCharts draws the streaming chart and the request/response chart.
func drawCharts(res *results, stream, pingPong string) error {
	if err := drawChart(res, stream); err != nil {
		return err
	}
	return drawPingPongChart(res, pingPong)
}
