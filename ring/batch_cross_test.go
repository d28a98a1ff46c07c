package ring_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/shmmap/shmmap/ring"
)

// TestStreamBatch streams the test messages between separate processes
// with the batch calls — WriteBatch and shmring_write_batch in batches of
// 32, ReadBatch and shmring_read_batch taking up to 16 — every writer
// language with every reader language, over a small ring (so batches wrap
// and wait for room), and with a batch writer against a one-message reader
// and the reverse, and a 32-bit C end where the machine runs one. The
// reference is C to C with one message per call, run
// first in the same test: every pair's count and checksum total, on both
// sides, must equal its.
func TestStreamBatch(t *testing.T) {
	const n = 100000
	run := func(t *testing.T, prod, cons string, pb, cb []string) (sent, got string) {
		t.Helper()
		med := newMedium(t, "file", ring.Size(1<<14))
		common := append([]string{"-n", fmt.Sprint(n), "-s", "11"}, med.args...)
		ctx := guard(t, 60*time.Second)
		cp, ca := side(t, cons, "consumer", append(append(common, "-i"), cb...)...)
		c := start(t, ctx, cons+" consumer", cp, ca...)
		c.expect("ready")
		pp, pa := side(t, prod, "producer", append(common, pb...)...)
		p := start(t, ctx, prod+" producer", pp, pa...)
		p.expect("ready")
		return p.finish(), c.finish()
	}
	var want string
	t.Run("reference/C-to-C", func(t *testing.T) {
		sent, got := run(t, "C", "C", nil, nil)
		if totals(sent) != totals(got) {
			t.Fatalf("producer: %s\nconsumer: %s", sent, got)
		}
		want = totals(got)
	})
	if want == "" {
		t.Fatal("no reference")
	}
	batch, single := []string{"-b", "32"}, []string(nil)
	readBatch := []string{"-b", "16"}
	type pairRun struct {
		prod, cons string
		pb, cb     []string
	}
	runs := []pairRun{
		{"C", "Go", batch, readBatch}, {"Go", "C", batch, readBatch},
		{"Go", "Go", batch, readBatch}, {"C", "C", batch, readBatch},
		{"C", "Go", batch, single}, {"Go", "C", single, readBatch},
		{"Go", "Go", single, readBatch}, {"Go", "Go", batch, single},
	}
	for _, p := range m32Pairs(t) {
		runs = append(runs, pairRun{p.prod, p.cons, batch, readBatch})
	}
	for _, c := range runs {
		name := fmt.Sprintf("%s%s-to-%s%s", c.prod, mode(c.pb), c.cons, mode(c.cb))
		t.Run(name, func(t *testing.T) {
			sent, got := run(t, c.prod, c.cons, c.pb, c.cb)
			if totals(sent) != want || totals(got) != want {
				t.Fatalf("want %s (C to C)\nproducer: %s\nconsumer: %s", want, sent, got)
			}
		})
	}
}

func mode(flags []string) string {
	if len(flags) == 0 {
		return "(one)"
	}
	return "(batch)"
}
