package main

import (
	"fmt"
	"image/color"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// The request/response rows: BenchmarkPingPong/KIND/SIZE (bench/pingpong_test.go).
var (
	ppSizes = []struct {
		Name, Label string
		Bytes       float64
	}{
		{"100B", "100 B", 100},
		{"5476B", "5.5 KB", 5476},
		{"87396B", "87 KB", 87396},
		{"1398116B", "1.4 MB", 1398116},
	}
	// ppKinds are the measured transports, with the number of memcpys of
	// the payload a round trip needs (the bound is that many memcpy rows).
	ppKinds = []struct {
		Kind, Label string
		Copies      float64
	}{
		{"ring-zerocopy", "ring, zero-copy", 2},
		{"ring-copy", "ring, Write/Read", 4},
		{"socket", "Unix socket", 4},
		{"chan", "Go channels", 2},
	}
)

func ppRow(kind, size string) string { return "BenchmarkPingPong/" + kind + "/" + size }

// pingPongTargets: issue 14's goals for the largest payload, the
// zero-copy round trip within 1.15× two memcpys and the copy API within
// 1.15× four, the memcpy measured in the same round.
func pingPongTargets() []target {
	big := ppSizes[len(ppSizes)-1].Name
	return []target{
		{Name: "zero-copy ≤ 1.15× two memcpys", Row: ppRow("ring-zerocopy", big), Base: ppRow("memcpy", big), Scale: 2, Max: 1.15},
		{Name: "copy API ≤ 1.15× four memcpys", Row: ppRow("ring-copy", big), Base: ppRow("memcpy", big), Scale: 4, Max: 1.15},
	}
}

func writePingPongSection(w *strings.Builder, res *results) {
	fmt.Fprintf(w, "\n## Request/response in one process (ping-pong)\n\n")
	fmt.Fprintf(w, "Under `RunParallel` (one client goroutine per P), each client has its own server goroutine and connection and sends a request, the server answers with a response of the same size, raw payloads. ")
	fmt.Fprintf(w, "The ring rows use two rings (2 MiB each, in one memfd) per client: *Write / Read* copies four times per round trip (into the ring, out of it, each way); ")
	fmt.Fprintf(w, "*ClaimContext+Commit / ReadFunc* copies twice (the client copies its request into the claimed room with `ring.Copy`, the server copies the request in place straight into the response's claimed room, the client reads the response in place). ")
	fmt.Fprintf(w, "Client and server are goroutines of one process, so a blocked ring call parks in the ring's lot and is woken by a channel hand-off, not a futex (package ring, \"lot.go\"); *sleeps per round trip* counts those parks. ")
	fmt.Fprintf(w, "The Unix-domain socket pair (`net.UnixConn`) writes and reads each message whole. ")
	fmt.Fprintf(w, "*chan* is the floor of an in-process hand-off, no shared memory and no futex: the client copies its request into a buffer and sends it on a channel, the server copies it into a response buffer and sends that back (two copies, as the zero-copy ring, with the Go scheduler's own wake-ups). ")
	fmt.Fprintf(w, "*memcpy* is `copy()` between two buffers of the payload size per goroutine, in the same `RunParallel` shape, both buffers warm in the copying core's caches as the client's own buffers are: the optimistic bound, since the ring's lines were last touched by the other side's core. ")
	fmt.Fprintf(w, "The bound of a row is its number of copies × the memcpy row of the same round. ns/op is wall time per round trip over all clients (a throughput figure, like the memcpy row's). Lower is better.\n\n")
	fmt.Fprintf(w, "| payload | row | per round trip (median) | min–max | × bound (median, min–max) | × socket (median) | sleeps per round trip |\n|---|---|---|---|---|---|---|\n")
	for _, s := range ppSizes {
		mc := res.ns[ppRow("memcpy", s.Name)]
		for _, k := range ppKinds {
			ns := res.ns[ppRow(k.Kind, s.Name)]
			if len(ns) == 0 {
				continue
			}
			lo, hi := ns.minMax()
			bound := "—"
			if len(mc) > 0 {
				r := ratio(ns, mc.times(k.Copies))
				rlo, rhi := r.minMax()
				bound = fmt.Sprintf("%.2f× %.0f memcpys (%.2f–%.2f)", r.median(), k.Copies, rlo, rhi)
			}
			sock, sleeps := "—", "—"
			if strings.HasPrefix(k.Kind, "ring") {
				sock = fmt.Sprintf("%.2f×", ratio(ns, res.ns[ppRow("socket", s.Name)]).median())
				if v := res.ext["sleeps/op"][ppRow(k.Kind, s.Name)]; len(v) > 0 {
					sleeps = fmt.Sprintf("%.3f", v.median())
				}
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s–%s | %s | %s | %s |\n", s.Label, k.Kind, fmtNs(ns.median()), fmtNs(lo), fmtNs(hi), bound, sock, sleeps)
		}
		if len(mc) > 0 {
			lo, hi := mc.minMax()
			fmt.Fprintf(w, "| %s | memcpy | %s | %s–%s | — | — | — |\n", s.Label, fmtNs(mc.median()), fmtNs(lo), fmtNs(hi))
		}
	}
}

// drawPingPongChart plots the median time per round trip against the
// payload size for each transport, with the copy bounds dashed, on log-log
// axes.
func drawPingPongChart(res *results, path string) error {
	p := plot.New()
	p.Title.Text = "Request/response in one process (medians)"
	p.X.Label.Text = "payload size, each way"
	p.Y.Label.Text = "µs per round trip"
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	var ticks []plot.Tick
	for _, s := range ppSizes {
		ticks = append(ticks, plot.Tick{Value: s.Bytes, Label: s.Label})
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	legend := plot.NewLegend()
	colors := map[string]color.Color{
		"ring-zerocopy": color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff},
		"ring-copy":     color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
		"socket":        color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
		"chan":          color.RGBA{R: 0x7f, G: 0x7f, B: 0x7f, A: 0xff},
	}
	dashes := []vg.Length{vg.Points(4), vg.Points(3)}
	line := func(xys plotter.XYs, c color.Color, dashed bool, name string) error {
		if len(xys) == 0 {
			return nil
		}
		l, pts, err := plotter.NewLinePoints(xys)
		if err != nil {
			return err
		}
		l.Color, pts.Color = c, c
		l.Width = vg.Points(1.5)
		if dashed {
			l.Dashes = dashes
			pts.Shape = draw.BoxGlyph{}
		}
		p.Add(l, pts)
		legend.Add(name, l, pts)
		return nil
	}
	for _, k := range ppKinds {
		var xys plotter.XYs
		for _, s := range ppSizes {
			if v := res.ns[ppRow(k.Kind, s.Name)].median(); v > 0 {
				xys = append(xys, plotter.XY{X: s.Bytes, Y: v / 1e3})
			}
		}
		if err := line(xys, colors[k.Kind], false, k.Label); err != nil {
			return err
		}
	}
	for _, k := range ppKinds[:2] {
		var xys plotter.XYs
		for _, s := range ppSizes {
			if v := res.ns[ppRow("memcpy", s.Name)].median(); v > 0 {
				xys = append(xys, plotter.XY{X: s.Bytes, Y: k.Copies * v / 1e3})
			}
		}
		if err := line(xys, colors[k.Kind], true, fmt.Sprintf("%.0f × memcpy", k.Copies)); err != nil {
			return err
		}
	}
	p.Add(plotter.NewGrid())
	p.X.Min, p.X.Max = ppSizes[0].Bytes/2, ppSizes[len(ppSizes)-1].Bytes*2
	return saveWithLegend(p, legend, 7*vg.Inch, 4.5*vg.Inch, path)
}
