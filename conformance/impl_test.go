package conformance

import (
	"reflect"
	"testing"

	"github.com/shmmap/shmmap/impls"
)

// TestImplComplete: every call of the contract is set in every
// implementation, so none can be nil at run time.
func TestImplComplete(t *testing.T) {
	for _, sys := range impls.All() {
		v := reflect.ValueOf(sys)
		for i := range v.NumField() {
			f := v.Field(i)
			if f.Kind() == reflect.Func && f.IsNil() {
				t.Errorf("%s: sysapi.Impl.%s is not set", sys.Name, v.Type().Field(i).Name)
			}
		}
	}
}
