/*
 * arena.h - a bump allocator for work with one lifetime.
 *
 * An HTTP request, a cart evaluation, a sync run and a compiled promotion
 * set each allocate from their own arena and release everything with one
 * ep_arena_deinit (or ep_arena_reset, which keeps the first block for the
 * next piece of work). Allocations are 16-byte aligned. An arena has a
 * maximum total size set at init; past it, allocation fails with NULL.
 * Not thread-safe: one arena belongs to one thread at a time.
 */
#ifndef EP_ARENA_H
#define EP_ARENA_H

#include <stddef.h>

struct ep_arena_block;

struct ep_arena {
    struct ep_arena_block *head; /* newest block; owned */
    size_t block_size;           /* default size of a new block, bytes */
    size_t max_bytes;            /* limit on all blocks together, bytes */
    size_t used_bytes;           /* bytes in all blocks now */
};

/* Initializes an empty arena; nothing is allocated until first use. */
void ep_arena_init(struct ep_arena *arena, size_t block_size, size_t max_bytes);

/* Frees every block; the arena may be initialized again. NULL is a no-op. */
void ep_arena_deinit(struct ep_arena *arena);

/* Frees all but the first block and empties it, ready for reuse. */
void ep_arena_reset(struct ep_arena *arena);

/* Returns size bytes, 16-byte aligned, or NULL when out of memory/limit. */
void *ep_arena_alloc(struct ep_arena *arena, size_t size);

/* Like ep_arena_alloc for count * size bytes, zeroed, overflow-checked. */
void *ep_arena_calloc(struct ep_arena *arena, size_t count, size_t size);

/* Copies s into the arena; NULL when s is NULL or on failure. */
char *ep_arena_strdup(struct ep_arena *arena, const char *s);

/* Copies n bytes of s and a NUL into the arena; NULL on failure. */
char *ep_arena_strndup(struct ep_arena *arena, const char *s, size_t n);

#endif
