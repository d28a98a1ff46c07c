package ring_test

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shmmap/shmmap/shmtest"
)

// TestCringWakeSpin runs cring/testdata/wakespin.c, the C ring's twin of
// TestWakeSpinCoversPeerWakeUp and TestWakeSpinSlowPeer: shmring__block
// spins through a woken peer's wake-up only after a wake-up of this program
// within wake_spin_us and a quick last wait, and a peer that does not
// answer within the spin costs one spin and clears quick. It runs 64-bit,
// and 32-bit where the machine can (the timestamp is a 64-bit atomic).
func TestCringWakeSpin(t *testing.T) {
	src := filepath.Join("..", "cring", "testdata", "wakespin.c")
	builds := map[string][]string{"64-bit": nil}
	if ok, reason := shmtest.CanRun32(); ok {
		builds["32-bit"] = []string{"-m32"}
	} else {
		t.Logf("no 32-bit run: %s", reason)
	}
	for name, cflags := range builds {
		t.Run(name, func(t *testing.T) {
			out, err := exec.Command(shmtest.BuildC(t, src, cflags...)).CombinedOutput()
			if err != nil || strings.TrimSpace(string(out)) != "ok" {
				t.Fatalf("wakespin: %v\n%s", err, out)
			}
		})
	}
}
