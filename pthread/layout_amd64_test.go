package pthread_test

// cMutex mirrors struct __pthread_mutex_s on x86-64
// (sysdeps/x86/nptl/bits/struct_mutex.h).
type cMutex struct {
	Lock    int32  `c:"__lock"`
	Count   uint32 `c:"__count"`
	Owner   int32  `c:"__owner"`
	Nusers  uint32 `c:"__nusers"`
	Kind    int32  `c:"__kind"`
	Spins   int16  `c:"__spins"`
	Elision int16  `c:"__elision"`
	List    struct {
		Prev uintptr `c:"__prev"`
		Next uintptr `c:"__next"`
	} `c:"__list"`
}

// cMutexType is the C struct cMutex is checked against.
const cMutexType = "struct __pthread_mutex_s"
