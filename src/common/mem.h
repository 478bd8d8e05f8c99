/*
 * mem.h - every heap allocation of edgepromo goes through here.
 *
 * The wrappers check size arithmetic for overflow and return NULL on
 * failure; they never abort. A test build can make the Nth allocation from
 * now fail (ep_mem_fail_at) to walk every failure path of a function.
 * jansson is pointed at these wrappers by ep_mem_install_json_allocator, so
 * its allocations count too. Thread-safe: the fault counter is atomic.
 */
#ifndef EP_MEM_H
#define EP_MEM_H

#include <stdbool.h>
#include <stddef.h>

/* malloc(size); NULL on failure or when size is 0 is allowed. */
void *ep_malloc(size_t size);

/* calloc(count, size) with an overflow check; NULL on failure. */
void *ep_calloc(size_t count, size_t size);

/*
 * Resizes ptr to count * size bytes with an overflow check. On failure
 * returns NULL and leaves ptr valid and unchanged.
 */
void *ep_reallocarray(void *ptr, size_t count, size_t size);

/* strdup(s); NULL on failure or when s is NULL. */
char *ep_strdup(const char *s);

/* strndup(s, n); NULL on failure. */
char *ep_strndup(const char *s, size_t n);

/* free(ptr); a no-op on NULL. */
void ep_free(void *ptr);

/*
 * Fault injection for tests: the nth allocation from now (1 = the next)
 * fails, and every one after it succeeds again. 0 disables injection.
 */
void ep_mem_fail_at(long nth);

/*
 * Whether an allocation of this thread failed since the last reset: a
 * library that hides out-of-memory behind another error (jansson reports a
 * parse error) is asked with this, so that no caller takes an allocation
 * failure for bad input.
 */
void ep_mem_failure_reset(void);
bool ep_mem_failure_seen(void);

/* Number of allocations made since the process started (for tests). */
long ep_mem_allocation_count(void);

/* Makes jansson allocate through ep_malloc/ep_free. Call once at start. */
void ep_mem_install_json_allocator(void);

#endif
