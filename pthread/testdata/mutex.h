/* The header TestMutexLayout measures glibc's mutex types from. */
#include <pthread.h>

/* pthread_mutex_t is a union, which layout cannot measure as a whole: this
   struct has its size and alignment. */
struct pthread_test_mutex {
	pthread_mutex_t m;
};

#ifdef __i386__
#include <stddef.h>
/* On i386 glibc's struct __pthread_mutex_s ends in an anonymous union,
   which layout cannot match with a Go field. This copy names the union;
   the assertions tie every member to glibc's offset, so checking it is
   checking glibc's. */
struct pthread_test_mutex_i386 {
	int __lock;
	unsigned int __count;
	int __owner;
	int __kind;
	unsigned int __nusers;
	union {
		struct {
			short __espins;
			short __eelision;
		} __elision_data;
		__pthread_slist_t __list;
	} u;
};
#define PT_SAME(m) \
	_Static_assert(offsetof(struct pthread_test_mutex_i386, m) == offsetof(struct __pthread_mutex_s, m) && \
		sizeof(((struct pthread_test_mutex_i386 *)0)->m) == sizeof(((struct __pthread_mutex_s *)0)->m), #m)
PT_SAME(__lock);
PT_SAME(__count);
PT_SAME(__owner);
PT_SAME(__kind);
PT_SAME(__nusers);
_Static_assert(offsetof(struct pthread_test_mutex_i386, u.__list) == offsetof(struct __pthread_mutex_s, __list), "__list");
_Static_assert(offsetof(struct pthread_test_mutex_i386, u.__elision_data) == offsetof(struct __pthread_mutex_s, __elision_data), "__elision_data");
_Static_assert(sizeof(struct pthread_test_mutex_i386) == sizeof(struct __pthread_mutex_s), "size");
#endif
