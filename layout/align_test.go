package layout_test

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/shmmap/shmmap/layout"
)

// alignRef prints, for each struct of testdata/align.h named on the
// command line of the test, "TYPE SIZE ALIGN" and "TYPE.MEMBER OFFSET
// FIELD-ALIGN TYPE-ALIGN": what the C compiler says, against which the
// refusals are checked.
const alignRef = `#include <stdio.h>
#include <stddef.h>
#include "%s"
#define T(s) printf("%%s %%zu %%zu\n", #s, sizeof(struct s), _Alignof(struct s))
#define M(s, m) printf("%%s.%%s %%zu %%zu %%zu\n", #s, #m, offsetof(struct s, m), __alignof__(((struct s *)0)->m), _Alignof(__typeof__(((struct s *)0)->m)))
int main(void) {
	T(al); M(al, x);
	T(al_type); M(al_type, x);
	T(pk); M(pk, x);
	T(pk_pragma); M(pk_pragma, a);
	T(pk_outer); M(pk_outer, in);
	T(pk_anon); M(pk_anon, a);
	T(pk_flex);
	T(al8); M(al8, x);
	return 0;
}
`

// alignFacts runs alignRef with the flags of this binary's ABI.
func alignFacts(t *testing.T) map[string][]int64 {
	t.Helper()
	out := runC(t, fmt.Sprintf(alignRef, testdata(t, "align.h")), cflags(t)...)
	facts := map[string][]int64{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		for _, s := range f[1:] {
			var v int64
			fmt.Sscan(s, &v)
			facts[f[0]] = append(facts[f[0]], v)
		}
	}
	return facts
}

// TestRefuseAlignment: a type or member aligned above 8 bytes, which no
// Go type is, and a packed member, which Go never places off its type's
// alignment, are refused with ErrUnsupported naming the member, by
// Measure, Check and GoDefs alike, rather than compared into a table
// that no Go struct could ever clear. The C program confirms each is what
// the test takes it for.
func TestRefuseAlignment(t *testing.T) {
	facts := alignFacts(t)
	// What makes each case unrepresentable, as the C compiler says.
	if a := facts["al.x"]; a[1] <= 8 {
		t.Fatalf("al.x aligned to %d", a[1])
	}
	if a := facts["al_type.x"]; a[2] <= 8 {
		t.Fatalf("al_type.x's type aligned to %d", a[2])
	}
	if a := facts["pk.x"]; a[0]%a[2] == 0 {
		t.Fatalf("pk.x at %d, its type aligned to %d", a[0], a[2])
	}
	if a := facts["pk_pragma.a"]; a[1] >= a[2] || facts["pk_pragma"][1] != 1 {
		t.Fatalf("pk_pragma.a aligned to %d, its type to %d", a[1], a[2])
	}
	if a := facts["pk_outer.in"]; a[0]%a[2] == 0 {
		t.Fatalf("pk_outer.in at %d, its type aligned to %d", a[0], a[2])
	}
	if a := facts["pk_anon.a"]; a[0]%a[2] == 0 {
		t.Fatalf("pk_anon.a at %d, its type aligned to %d", a[0], a[2])
	}
	cases := []struct {
		cType string
		want  []string
		all   bool // Check and GoDefs too, not only Measure
	}{
		{"struct al", []string{"field x", fmt.Sprintf("aligned to %d", facts["al.x"][1]), "more than 8"}, true},
		{"struct al_type", []string{"field x", fmt.Sprintf("aligned to %d", facts["al_type.x"][1]), "more than 8"}, false},
		{"struct pk", []string{"field x", fmt.Sprintf("offset %d", facts["pk.x"][0]), "packed"}, true},
		{"struct pk_pragma", []string{"field a", "packed", fmt.Sprintf("needs %d", facts["pk_pragma.a"][2])}, false},
		{"struct pk_outer", []string{"field in", "packed"}, false},
		{"struct pk_anon", []string{"field a", fmt.Sprintf("offset %d", facts["pk_anon.a"][0]), "packed"}, false},
	}
	header := testdata(t, "align.h")
	_, noGo := exec.LookPath("go")
	for _, c := range cases {
		errs := map[string]error{}
		_, errs["Measure"] = layout.Measure(header, c.cType, cflags(t)...)
		// Check and GoDefs measure as Measure does: the over-aligned and
		// the packed case reported show that they refuse too.
		if c.all {
			errs["Check"] = layout.Check(struct{ C byte }{}, header, c.cType, cflags(t)...)
			if noGo == nil {
				_, errs["GoDefs"] = layout.GoDefs("x", header, c.cType, cflags(t)...)
			}
		}
		for fn, err := range errs {
			if !errors.Is(err, layout.ErrUnsupported) || errors.Is(err, layout.ErrMismatch) {
				t.Errorf("%s %s: %v; want ErrUnsupported", fn, c.cType, err)
				continue
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%s %s: %q lacks %q", fn, c.cType, err, w)
				}
			}
		}
	}
}

// TestRefuseAlignedType: a struct aligned above 8 by an attribute on the
// type itself, with no member to blame, is refused naming the type.
func TestRefuseAlignedType(t *testing.T) {
	header := testdata(t, "pad.h")
	var align int64
	fmt.Sscan(runC(t, fmt.Sprintf("#include <stdio.h>\n#include \"%s\"\nint main(void) { printf(\"%%zu\\n\", _Alignof(struct aligned16)); return 0; }\n", header), cflags(t)...), &align)
	if align <= 8 {
		t.Fatalf("struct aligned16 aligned to %d", align)
	}
	_, err := layout.Measure(header, "struct aligned16", cflags(t)...)
	if want := fmt.Sprintf("struct aligned16 is aligned to %d", align); !errors.Is(err, layout.ErrUnsupported) || !strings.Contains(err.Error(), want) {
		t.Errorf("%v; want ErrUnsupported saying %q", err, want)
	}
}

// al8 is struct al8: C aligns x to 8; a zero-length array of
// atomic.Int64, aligned to 8 on every ABI (plain int64 is aligned to 4
// on 386), does the same in Go.
type al8 struct {
	C byte
	_ [0]atomic.Int64
	X int32
}

// pkFlex is struct pk_flex without its flexible array member.
type pkFlex struct{ C byte }

// TestAlignmentAccepted: alignment up to 8, and a packed struct whose
// only misaligned member is a flexible array member, are not refused,
// and a Go struct matching them passes, on each ABI.
func TestAlignmentAccepted(t *testing.T) {
	facts := alignFacts(t)
	if facts["al8.x"][1] != 8 || facts["pk_flex"][0] != 1 {
		t.Fatalf("al8.x aligned to %d, pk_flex %d bytes", facts["al8.x"][1], facts["pk_flex"][0])
	}
	if err := checkErr(t, al8{}, "align.h", "struct al8"); err != nil {
		t.Error(err)
	}
	if err := checkErr(t, pkFlex{}, "align.h", "struct pk_flex"); err != nil {
		t.Error(err)
	}
}
