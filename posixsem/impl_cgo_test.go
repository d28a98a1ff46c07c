//go:build cgo

package posixsem_test

import (
	"io/fs"

	"github.com/shmmap/shmmap/posixsem"
	"github.com/shmmap/shmmap/posixsem/csem"
)

func init() {
	impls = append(impls, impl{
		name: "glibc",
		open: func(name string, flag int, perm fs.FileMode, value uint32) (posixsem.Sem, error) {
			s, err := csem.Open(name, flag, perm, value)
			if err != nil {
				return nil, err
			}
			return s, nil
		},
		unlink: csem.Unlink,
		init: func(mem []byte, value uint32) (posixsem.Sem, error) {
			s, err := csem.Init(mem, value)
			if err != nil {
				return nil, err
			}
			return s, nil
		},
		at: func(mem []byte) (posixsem.Sem, error) {
			s, err := csem.At(mem)
			if err != nil {
				return nil, err
			}
			return s, nil
		},
	})
}
