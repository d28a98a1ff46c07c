package main

import (
	"fmt"
	"strings"
)

// The batch rows: BenchmarkStreamBatch/ring-WRITER-READER/SIZE, the ring
// with WriteBatch/ReadBatch (shmring_write_batch/shmring_read_batch in C),
// 32 messages a batch.
func batchRow(dir, size string) string {
	return fmt.Sprintf("BenchmarkStreamBatch/ring-%s/%s", dir, size)
}

// batchTargets: at 64 B, the batch calls carry at least twice the messages
// per second of the one-message calls, in every direction.
func batchTargets() []target {
	var ts []target
	for _, d := range streamDirections {
		ts = append(ts, target{Name: "batch ≥ 2× one-message ring at 64 B", Row: batchRow(d, "64B"), Base: streamRow("ring", d, "64B"), MinTP: 2})
	}
	return ts
}

func writeBatchSection(w *strings.Builder, res *results) {
	fmt.Fprintf(w, "\n## Streaming with the batch calls\n\n")
	fmt.Fprintf(w, "The ring rows above with WriteBatch / shmring_write_batch of 32 messages and ReadBatch / shmring_read_batch of up to 32: one store of the position per batch on each side instead of one per message. Higher is better.\n\n")
	fmt.Fprintf(w, "| size | writer→reader | messages/s (median) | GB/s median | min–max | × one-message ring, same direction (median, min–max) |\n|---|---|---|---|---|---|\n")
	for _, s := range streamSizes {
		for _, d := range streamDirections {
			row := batchRow(d, s.Name)
			v := res.mbs[row]
			if len(v) == 0 {
				continue
			}
			lo, hi := v.minMax()
			r := ratio(v, res.mbs[streamRow("ring", d, s.Name)])
			rlo, rhi := r.minMax()
			fmt.Fprintf(w, "| %s | %s | %s | %.3f | %.3f–%.3f | %.2f× (%.2f–%.2f) |\n", s.Name, strings.Replace(d, "-", "→", 1),
				fmtCount(res.ext["msgs/s"][row].median()), v.median()/1e3, lo/1e3, hi/1e3, r.median(), rlo, rhi)
		}
	}
}
