#include "AllocationCounter.h"
#include <execinfo.h>
#include <stddef.h>
#include <unistd.h>

#if defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
#define ALLOCATION_COUNTER_DISABLED 1
#endif
#endif

#ifdef ALLOCATION_COUNTER_DISABLED
int allocation_counter_available(void) { return 0; }
void allocation_counter_start(void) {}
long allocation_counter_stop(void) { return -1; }
#else

// glibc's own entry points, which the wrappers below forward to.
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *pointer, size_t size);
extern void *__libc_memalign(size_t alignment, size_t size);
extern void __libc_free(void *pointer);

static __thread int counting;
static __thread long allocations;

int allocation_counter_available(void) { return 1; }
void allocation_counter_start(void) { allocations = 0; counting = 1; }
long allocation_counter_stop(void) { counting = 0; return allocations; }

// Counts one, and writes where it came from to standard error (the first few): a test that
// finds an allocation then says which. Counting is off meanwhile (backtrace may allocate).
static void note(void) {
    allocations++;
    if (allocations > 4) return;
    counting = 0;
    void *frames[48];
    int count = backtrace(frames, 48);
    static const char header[] = "allocation_counter: an allocation while counting, from:\n";
    (void)!write(STDERR_FILENO, header, sizeof header - 1);
    backtrace_symbols_fd(frames, count, STDERR_FILENO);
    counting = 1;
}

void *malloc(size_t size) { if (counting) note(); return __libc_malloc(size); }
void *calloc(size_t count, size_t size) { if (counting) note(); return __libc_calloc(count, size); }
void *realloc(void *pointer, size_t size) { if (counting) note(); return __libc_realloc(pointer, size); }
void free(void *pointer) { __libc_free(pointer); }
void *memalign(size_t alignment, size_t size) { if (counting) note(); return __libc_memalign(alignment, size); }
void *aligned_alloc(size_t alignment, size_t size) { if (counting) note(); return __libc_memalign(alignment, size); }
int posix_memalign(void **result, size_t alignment, size_t size) {
    if (counting) note();
    void *pointer = __libc_memalign(alignment, size);
    if (!pointer) return 12;  // ENOMEM
    *result = pointer;
    return 0;
}
#endif
