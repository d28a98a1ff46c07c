package layout

import "runtime"

// ABIFlags returns the C compiler flags that select the ABI of the running
// Go binary on an x86 compiler: -m32 for GOARCH=386, -m64 for
// GOARCH=amd64, none on other architectures (whose C compiler targets the
// machine's own ABI). Pass them to Check so that a test checks the layout
// of the binary it runs in:
//
//	err := layout.Check(Stats{}, "stats.h", "struct stats", layout.ABIFlags()...)
func ABIFlags() []string {
	switch runtime.GOARCH {
	case "386":
		return []string{"-m32"}
	case "amd64":
		return []string{"-m64"}
	}
	return nil
}
