/*
 * arena.c - blocks of memory handed out by bumping a pointer.
 * A block that cannot hold a large request is followed by one sized to it.
 */
#include "common/arena.h"

#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "common/mem.h"

#define ARENA_ALIGN 16

struct ep_arena_block {
    struct ep_arena_block *next; /* older block */
    size_t size;                 /* usable bytes in data */
    size_t used;                 /* bytes handed out */
    _Alignas(ARENA_ALIGN) unsigned char data[];
};

void ep_arena_init(struct ep_arena *arena, size_t block_size, size_t max_bytes)
{
    assert(arena != NULL);
    arena->head = NULL;
    arena->block_size = block_size < 256 ? 256 : block_size;
    arena->max_bytes = max_bytes;
    arena->used_bytes = 0;
}

void ep_arena_deinit(struct ep_arena *arena)
{
    struct ep_arena_block *block;

    if (arena == NULL)
        return;
    while (arena->head != NULL) {
        block = arena->head;
        arena->head = block->next;
        ep_free(block);
    }
    arena->used_bytes = 0;
}

void ep_arena_reset(struct ep_arena *arena)
{
    struct ep_arena_block *block;

    assert(arena != NULL);
    while (arena->head != NULL && arena->head->next != NULL) {
        block = arena->head;
        arena->head = block->next;
        arena->used_bytes -= block->size;
        ep_free(block);
    }
    if (arena->head != NULL)
        arena->head->used = 0;
}

static struct ep_arena_block *arena_grow(struct ep_arena *arena, size_t need)
{
    struct ep_arena_block *block;
    size_t size = need > arena->block_size ? need : arena->block_size;

    if (size > arena->max_bytes - arena->used_bytes ||
        arena->used_bytes > arena->max_bytes)
        return NULL;
    block = ep_malloc(sizeof(*block) + size);
    if (block == NULL)
        return NULL;
    block->size = size;
    block->used = 0;
    block->next = arena->head;
    arena->head = block;
    arena->used_bytes += size;
    return block;
}

void *ep_arena_alloc(struct ep_arena *arena, size_t size)
{
    struct ep_arena_block *block = arena->head;
    size_t start;

    if (size > SIZE_MAX - ARENA_ALIGN)
        return NULL;
    size = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (size == 0)
        size = ARENA_ALIGN;
    if (block == NULL || block->size - block->used < size) {
        block = arena_grow(arena, size);
        if (block == NULL)
            return NULL;
    }
    start = block->used;
    block->used += size;
    return block->data + start;
}

void *ep_arena_calloc(struct ep_arena *arena, size_t count, size_t size)
{
    void *p;

    if (size != 0 && count > SIZE_MAX / size)
        return NULL;
    p = ep_arena_alloc(arena, count * size);
    if (p != NULL)
        memset(p, 0, count * size);
    return p;
}

char *ep_arena_strndup(struct ep_arena *arena, const char *s, size_t n)
{
    char *copy;

    if (s == NULL || n == SIZE_MAX)
        return NULL;
    copy = ep_arena_alloc(arena, n + 1);
    if (copy == NULL)
        return NULL;
    memcpy(copy, s, n);
    copy[n] = '\0';
    return copy;
}

char *ep_arena_strdup(struct ep_arena *arena, const char *s)
{
    if (s == NULL)
        return NULL;
    return ep_arena_strndup(arena, s, strlen(s));
}
