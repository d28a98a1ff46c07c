//go:build cgo

package impls

import "github.com/shmmap/shmmap/cshim"

func init() { builtin["cshim"] = cshim.Impl }
