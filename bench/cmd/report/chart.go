package main

import (
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// saveWithLegend writes p to path (SVG) with legend drawn in a column of
// its own to the right of the plot, so that it never covers a line, and a
// margin on every side, so that no tick label at the ends of an axis is
// cut off. p's own legend is not used.
func saveWithLegend(p *plot.Plot, legend plot.Legend, w, h vg.Length, path string) error {
	c, err := draw.NewFormattedCanvas(w, h, "svg")
	if err != nil {
		return err
	}
	dc := draw.Crop(draw.New(c), vg.Points(6), -vg.Points(6), vg.Points(6), -vg.Points(6))
	legend.Top, legend.Left = true, true
	legend.Padding = vg.Points(5) // room between the entries' glyphs
	// The text is measured with the embedded font; viewers may substitute
	// a wider one, hence the slack.
	width := legend.Rectangle(dc).Size().X*1.15 + vg.Points(12)
	legendArea := dc
	legendArea.Min.X = dc.Max.X - width
	// The legend starts level with the top of the data area, below the
	// title.
	legendArea.Max.Y -= p.Title.TextStyle.Rectangle(p.Title.Text).Size().Y + p.Title.Padding + vg.Points(8)
	plotArea := dc
	plotArea.Max.X = legendArea.Min.X - vg.Points(6)
	p.Draw(plotArea)
	legend.Draw(legendArea)
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := c.WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
