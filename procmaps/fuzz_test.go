package procmaps

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzParseLine checks that ParseLine never panics, fails only with a
// *ParseError, and that what it accepts survives String and ParseLine
// again. The committed corpus in testdata/fuzz/FuzzParseLine holds real
// lines from a 64-bit kernel.
func FuzzParseLine(f *testing.F) {
	for _, tt := range parseTests {
		f.Add(tt.line)
	}
	if raw, err := os.ReadFile("/proc/self/maps"); err == nil {
		for _, line := range strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n") {
			f.Add(line)
		}
	}
	f.Fuzz(func(t *testing.T, line string) {
		m, err := ParseLine(line)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("ParseLine(%q) error %T, want *ParseError", line, err)
			}
			_ = err.Error()
			return
		}
		if m.Start >= m.End {
			t.Fatalf("ParseLine(%q) accepted the range %x-%x", line, m.Start, m.End)
		}
		s := m.String()
		again, err := ParseLine(s)
		if err != nil {
			t.Fatalf("ParseLine(%q) = %+v, but ParseLine(String() = %q): %v", line, m, s, err)
		}
		if diff := cmp.Diff(m, again); diff != "" {
			t.Fatalf("round trip of %q via %q (-first +second):\n%s", line, s, diff)
		}
		if s2 := again.String(); s2 != s {
			t.Fatalf("String() not stable: %q then %q", s, s2)
		}
		// Parse of the same line, as a file, agrees.
		ms, err := Parse(strings.NewReader(line))
		if err != nil || len(ms) != 1 {
			t.Fatalf("Parse(%q) = %v, %v; ParseLine accepted it", line, ms, err)
		}
		if diff := cmp.Diff(m, ms[0]); diff != "" {
			t.Fatalf("Parse and ParseLine differ on %q:\n%s", line, diff)
		}
		_, _, _ = m.SysV()
	})
}
