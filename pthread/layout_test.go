//go:build amd64 || 386

// The C mirrors of struct __pthread_mutex_s (cMutex) exist for the two
// ABIs the package is tested on: x86-64 and i386.

package pthread_test

import (
	"path/filepath"
	"reflect"
	"testing"
	"unsafe"

	"github.com/shmmap/shmmap/layout"
	"github.com/shmmap/shmmap/layout/layouttest"
	"github.com/shmmap/shmmap/pthread"
)

// TestMutexLayout checks struct __pthread_mutex_s field by field against
// the C compiler's, for this binary's ABI and, with Also386, for i386
// too; and that MutexSize and MutexAlign are sizeof and _Alignof
// pthread_mutex_t.
func TestMutexLayout(t *testing.T) {
	layouttest.Also386(t)
	cflags := layouttest.CFlags(t)
	if err := layout.Check(cMutex{}, filepath.Join("testdata", "mutex.h"), cMutexType, cflags...); err != nil {
		t.Error(err)
	}
	l, err := layout.Measure(filepath.Join("testdata", "mutex.h"), "struct pthread_test_mutex", cflags...)
	if err != nil {
		t.Fatal(err)
	}
	if l.Size != pthread.MutexSize || l.Align != pthread.MutexAlign {
		t.Errorf("C pthread_mutex_t: size %d, align %d; Go MutexSize %d, MutexAlign %d", l.Size, l.Align, pthread.MutexSize, pthread.MutexAlign)
	}
	// The offsets the package uses are the mirror's, which are C's.
	rt := reflect.TypeFor[cMutex]()
	for i := range rt.NumField() {
		f := rt.Field(i)
		if off, ok := pthread.Offsets[f.Tag.Get("c")]; ok && off != f.Offset {
			t.Errorf("the package puts %s at %d, C at %d", f.Tag.Get("c"), off, f.Offset)
		}
	}
	if unsafe.Sizeof(cMutex{}) != pthread.MutexSize {
		t.Errorf("the Go mirror is %d bytes, MutexSize %d", unsafe.Sizeof(cMutex{}), pthread.MutexSize)
	}
}
