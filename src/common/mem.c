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

static atomic_long fail_countdown;   /* 0: off; k: the kth next call fails */
static atomic_long allocation_count; /* allocations attempted so far */

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

void *ep_malloc(size_t size)
{
    if (should_fail())
        return NULL;
    return malloc(size == 0 ? 1 : size);
}

void *ep_calloc(size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        return NULL;
    if (should_fail())
        return NULL;
    return calloc(count == 0 ? 1 : count, size == 0 ? 1 : size);
}

void *ep_reallocarray(void *ptr, size_t count, size_t size)
{
    size_t total;

    if (size != 0 && count > SIZE_MAX / size)
        return NULL;
    total = count * size;
    if (should_fail())
        return NULL;
    return realloc(ptr, total == 0 ? 1 : total);
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
