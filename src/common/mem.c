/*
 * mem.c - checked allocation wrappers with a fault-injection counter.
 * The only file that calls malloc, realloc and free directly.
 */
#include "common/mem.h"

#include <jansson.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static atomic_long fail_countdown;      /* 0: off; k: the kth next call fails */
static atomic_long allocation_count;    /* allocations attempted so far */
static _Thread_local bool failure_seen; /* an allocation of this thread
                                          failed since the last reset */

static int should_fail(void)
{
    long left;

    atomic_fetch_add_explicit(&allocation_count, 1, memory_order_relaxed);
    left = atomic_load_explicit(&fail_countdown, memory_order_relaxed);
    if (left == 0)
        return 0;
    left = atomic_fetch_sub(&fail_countdown, 1);
    return left == 1;
}

/* Notes a failed allocation for ep_mem_failure_seen; returns NULL. */
static void *failed(void)
{
    failure_seen = true;
    return NULL;
}

void *ep_malloc(size_t size)
{
    void *p;

    if (should_fail())
        return failed();
    p = malloc(size == 0 ? 1 : size);
    return p != NULL ? p : failed();
}

void *ep_calloc(size_t count, size_t size)
{
    void *p;

    if (size != 0 && count > SIZE_MAX / size)
        return failed();
    if (should_fail())
        return failed();
    p = calloc(count == 0 ? 1 : count, size == 0 ? 1 : size);
    return p != NULL ? p : failed();
}

void *ep_reallocarray(void *ptr, size_t count, size_t size)
{
    size_t total;

    void *p;

    if (size != 0 && count > SIZE_MAX / size)
        return failed();
    total = count * size;
    if (should_fail())
        return failed();
    p = realloc(ptr, total == 0 ? 1 : total);
    return p != NULL ? p : failed();
}

char *ep_strndup(const char *s, size_t n)
{
    char *copy;

    if (s == NULL)
        return NULL;
    copy = ep_malloc(n + 1);
    if (copy == NULL)
        return NULL;
    memcpy(copy, s, n);
    copy[n] = '\0';
    return copy;
}

char *ep_strdup(const char *s)
{
    if (s == NULL)
        return NULL;
    return ep_strndup(s, strlen(s));
}

void ep_free(void *ptr)
{
    free(ptr);
}

void ep_mem_failure_reset(void)
{
    failure_seen = false;
}

bool ep_mem_failure_seen(void)
{
    return failure_seen;
}

void ep_mem_fail_at(long nth)
{
    atomic_store(&fail_countdown, nth < 0 ? 0 : nth);
}

long ep_mem_allocation_count(void)
{
    return atomic_load(&allocation_count);
}

void ep_mem_install_json_allocator(void)
{
    json_set_alloc_funcs(ep_malloc, ep_free);
}
