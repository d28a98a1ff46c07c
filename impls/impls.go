// Package impls names the implementations of the sysapi call set that are
// built into the running binary: "purego" always, "cshim" only when the
// binary was built with cgo.
package impls

import (
	"errors"
	"fmt"
	"sort"

	"github.com/shmmap/shmmap/purego"
	"github.com/shmmap/shmmap/sysapi"
)

// DefaultName is the implementation used when none is asked for.
const DefaultName = "purego"

// ErrNotBuiltIn is returned by Lookup for a known implementation that this
// binary does not contain (cshim in a CGO_ENABLED=0 build).
var ErrNotBuiltIn = errors.New("implementation not built into this binary")

var builtin = map[string]sysapi.Impl{
	"purego": purego.Impl,
}

// known lists every implementation the project has, built in or not.
var known = []string{"cshim", "purego"}

// Lookup returns the implementation called name.
func Lookup(name string) (sysapi.Impl, error) {
	if impl, ok := builtin[name]; ok {
		return impl, nil
	}
	for _, k := range known {
		if k == name {
			return sysapi.Impl{}, fmt.Errorf("%s: %w (it needs cgo; this binary was built with CGO_ENABLED=0)", name, ErrNotBuiltIn)
		}
	}
	return sysapi.Impl{}, fmt.Errorf("unknown implementation %q (want cshim or purego)", name)
}

// All returns the implementations built into this binary, sorted by name.
func All() []sysapi.Impl {
	names := make([]string, 0, len(builtin))
	for n := range builtin {
		names = append(names, n)
	}
	sort.Strings(names)
	all := make([]sysapi.Impl, len(names))
	for i, n := range names {
		all[i] = builtin[n]
	}
	return all
}
