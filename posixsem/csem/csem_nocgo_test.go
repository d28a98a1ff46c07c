//go:build !cgo

package csem_test

import "testing"

func TestNeedsCgo(t *testing.T) {
	t.Skip("csem calls glibc through cgo; this test binary was built with CGO_ENABLED=0")
}
