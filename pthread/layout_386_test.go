package pthread_test

// cMutex mirrors struct __pthread_mutex_s on i386
// (sysdeps/x86/nptl/bits/struct_mutex.h): __kind and __nusers trade
// places, and the singly linked robust list shares a union with the
// elision data.
type cMutex struct {
	Lock   int32   `c:"__lock"`
	Count  uint32  `c:"__count"`
	Owner  int32   `c:"__owner"`
	Kind   int32   `c:"__kind"`
	Nusers uint32  `c:"__nusers"`
	U      [4]byte `c:"u"` // union { __elision_data; __list }
}

// cMutexType is the C struct cMutex is checked against: a copy of glibc's
// with the union named (testdata/mutex.h asserts that it is).
const cMutexType = "struct pthread_test_mutex_i386"
