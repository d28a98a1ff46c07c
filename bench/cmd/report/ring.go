package main

import (
	"fmt"
	"image/color"
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// The streaming rows: BenchmarkStream/TRANSPORT-WRITER-READER/SIZE.
var (
	streamTransports = []string{"ring", "pipe", "socket"}
	streamDirections = []string{"Go-Go", "Go-C", "C-Go", "C-C"}
	streamSizes      = []struct {
		Name  string
		Bytes float64
	}{{"64B", 64}, {"4KiB", 4096}, {"64KiB", 65536}}
)

func streamRow(transport, dir, size string) string {
	return fmt.Sprintf("BenchmarkStream/%s-%s/%s", transport, dir, size)
}

// ringTargets: the Go ring keeps up with the C ring in every direction and
// size, and the ring (blocking wait on, the default) beats a pipe tenfold on
// small messages.
func ringTargets() []target {
	var ts []target
	for _, s := range streamSizes {
		for _, d := range []string{"Go-Go", "Go-C", "C-Go"} {
			ts = append(ts, target{Name: "Go ring ≥ 0.9× C ring", Row: streamRow("ring", d, s.Name), Base: streamRow("ring", "C-C", s.Name), MinTP: 0.9})
		}
	}
	for _, d := range streamDirections {
		ts = append(ts, target{Name: "ring ≥ 10× pipe at 64 B", Row: streamRow("ring", d, "64B"), Base: streamRow("pipe", d, "64B"), MinTP: 10})
	}
	return ts
}

func writeRingSections(w *strings.Builder, res *results, chart, ppChart string) {
	fmt.Fprintf(w, "\n## Streaming between two processes\n\n")
	fmt.Fprintf(w, "A writer process sends COUNT messages to a reader process; the reader times the first to the last. ")
	fmt.Fprintf(w, "The ring is package ring (Go) and cring/ring.h (C) in a 1 MiB memfd both map, with the default blocking wait (spin briefly, then sleep on a futex); ")
	fmt.Fprintf(w, "the pipe and the Unix-domain socket pair carry the same messages with write(2)/read(2). ")
	fmt.Fprintf(w, "The ring's writer and reader run on CPUs of their own (the first and the last this machine lets the benchmark use), in every direction: left to the scheduler, where the two processes ran decided the figure more than either did (bench/stream_test.go, runStream). ")
	fmt.Fprintf(w, "The pipe and socket rows are left to the scheduler, which runs their two ends in turn on one CPU: pinned apart, every blocked read would wait for a wake-up from the other CPU. ")
	fmt.Fprintf(w, "Both languages' ends keep their messages in a buffer whose following page is touched too: a copy out of a buffer followed by a page never touched was up to 30 %% slower, in C as in Go, and a fresh Go heap object often is while a malloc'ed C buffer seldom is (bench/internal/streamer, messageBuffer). Higher is better.\n\n")
	fmt.Fprintf(w, "<img src=\"bench/%s\" alt=\"streaming throughput vs message size\" width=\"49%%\"> <img src=\"bench/%s\" alt=\"request/response time vs payload size\" width=\"49%%\">\n\n", chart, ppChart)
	fmt.Fprintf(w, "Left: streaming (this section). Right: request/response in one process (see [below](#requestresponse-in-one-process-ping-pong)).\n\n")
	fmt.Fprintf(w, "| size | transport | writer→reader | messages/s (median) | GB/s median | min–max | × pipe, same direction (median, min–max) |\n|---|---|---|---|---|---|---|\n")
	for _, s := range streamSizes {
		for _, t := range streamTransports {
			for _, d := range streamDirections {
				row := streamRow(t, d, s.Name)
				v := res.mbs[row]
				if len(v) == 0 {
					continue
				}
				lo, hi := v.minMax()
				rel := "—"
				if t != "pipe" {
					r := ratio(v, res.mbs[streamRow("pipe", d, s.Name)])
					rlo, rhi := r.minMax()
					rel = fmt.Sprintf("%.1f× (%.1f–%.1f)", r.median(), rlo, rhi)
				}
				fmt.Fprintf(w, "| %s | %s | %s | %s | %.3f | %.3f–%.3f | %s |\n", s.Name, t, strings.Replace(d, "-", "→", 1),
					fmtCount(res.ext["msgs/s"][row].median()), v.median()/1e3, lo/1e3, hi/1e3, rel)
			}
		}
	}
	fmt.Fprintf(w, "\n## Round-trip latency, 64-byte message (ns per round trip, lower is better)\n\n")
	fmt.Fprintf(w, "Two rings (one each way) whose ends sleep on the futex when idle (blocking), the same with ends that only spin (spin), and two pipes.\n\n")
	fmt.Fprintf(w, "| row | median | min–max | × pipe C↔C (median, min–max) |\n|---|---|---|---|\n")
	base := res.ns["BenchmarkRoundTrip/pipe-C-C"]
	for _, row := range res.row {
		if !strings.HasPrefix(row, "BenchmarkRoundTrip/") {
			continue
		}
		ns := res.ns[row]
		lo, hi := ns.minMax()
		r := ratio(ns, base)
		rlo, rhi := r.minMax()
		fmt.Fprintf(w, "| %s | %s | %s–%s | %.3f× (%.3f–%.3f) |\n", strings.TrimPrefix(row, "BenchmarkRoundTrip/"), fmtNs(ns.median()), fmtNs(lo), fmtNs(hi), r.median(), rlo, rhi)
	}
}

// drawChart plots the median throughput against the message size for each
// transport, Go→Go and C→C, on log-log axes.
func drawChart(res *results, path string) error {
	p := plot.New()
	p.Title.Text = "Streaming between two processes (medians)"
	p.X.Label.Text = "message size (bytes)"
	p.Y.Label.Text = "GB/s"
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.X.Tick.Marker = plot.ConstantTicks([]plot.Tick{{Value: 64, Label: "64 B"}, {Value: 4096, Label: "4 KiB"}, {Value: 65536, Label: "64 KiB"}})
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	legend := plot.NewLegend()
	colors := map[string]color.Color{
		"ring":   color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
		"pipe":   color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff},
		"socket": color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
	}
	for _, t := range streamTransports {
		for _, d := range []string{"Go-Go", "C-C"} {
			var xys plotter.XYs
			for _, s := range streamSizes {
				if v := res.mbs[streamRow(t, d, s.Name)].median(); v > 0 {
					xys = append(xys, plotter.XY{X: s.Bytes, Y: v / 1e3})
				}
			}
			if len(xys) == 0 {
				continue
			}
			l, pts, err := plotter.NewLinePoints(xys)
			if err != nil {
				return err
			}
			l.Color, pts.Color = colors[t], colors[t]
			l.Width = vg.Points(1.5)
			if d == "C-C" {
				l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
				pts.Shape = draw.BoxGlyph{}
			}
			p.Add(l, pts)
			legend.Add(fmt.Sprintf("%s %s", t, strings.Replace(d, "-", "→", 1)), l, pts)
		}
	}
	p.Add(plotter.NewGrid())
	// Room around the first and last sizes for their tick labels.
	p.X.Min, p.X.Max = streamSizes[0].Bytes/1.6, streamSizes[len(streamSizes)-1].Bytes*1.6
	return saveWithLegend(p, legend, 7*vg.Inch, 4.5*vg.Inch, path)
}

// fmtCount prints a rate with an SI suffix.
func fmtCount(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2f M", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1f k", v/1e3)
	case math.IsNaN(v):
		return "—"
	}
	return fmt.Sprintf("%.0f", v)
}
