package shmmap

import (
	"github.com/shmmap/shmmap/purego"
	"github.com/shmmap/shmmap/sysapi"
)

// A System runs the API over one implementation of the C calls. The
// package-level functions use Default; Using gives the same API over another
// implementation, typically cshim.Impl to go through libc:
//
//	sys := shmmap.Using(cshim.Impl)
//	seg, err := sys.CreateSegment(key, 4096, 0o600)
type System struct {
	impl sysapi.Impl
}

// Using returns a System that makes its calls through impl.
func Using(impl sysapi.Impl) *System { return &System{impl: impl} }

// Default is the System the package-level functions use: purego, which
// needs no cgo.
var Default = Using(purego.Impl)

// Impl returns the implementation the System calls.
func (s *System) Impl() sysapi.Impl { return s.impl }
