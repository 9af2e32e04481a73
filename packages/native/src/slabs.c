/*
 * Slabs: the blocks a pass reads into. The bytes of a well-filled pass are
 * handed to JavaScript as a region of the slab (no copy); the next pass reads
 * past that region, so memory handed out is never written again. A slab whose
 * regions were all collected (their ArrayBuffers finalized) goes back to a
 * small pool and serves later passes: reads land in memory already mapped,
 * not in fresh pages faulted in one by one.
 */
#include <stdlib.h>

#include "native.h"

#define REGION_ALIGN 16

struct slab_pool *slab_pool_new(void)
{
    return calloc(1, sizeof(struct slab_pool));
}

struct slab *slab_get(struct slab_pool *p)
{
    struct slab *s = p->count > 0 ? p->free[--p->count] : malloc(sizeof(struct slab) + SLAB_SIZE);
    if (!s)
        return NULL;
    s->pool = p;
    s->refs = 1;
    s->pos = 0;
    p->live++;
    return s;
}

/* Drops one reference: the engine's (it moved on) or a region's (collected). */
void slab_release(struct slab *s)
{
    if (--s->refs > 0)
        return;
    struct slab_pool *p = s->pool;
    p->live--;
    if (!p->closed && p->count < SLAB_POOL_MAX)
        p->free[p->count++] = s;
    else
        free(s);
    if (p->closed && p->live == 0)
        free(p);
}

/* The finalizer of a region's ArrayBuffer: nothing in JavaScript can reach it any more. */
static void region_collected(napi_env env, void *data, void *hint)
{
    (void)env;
    (void)data;
    slab_release(hint);
}

/* Hands the `len` bytes read at s->data + s->pos to JavaScript as an ArrayBuffer of their own. */
int slab_hand_over(napi_env env, struct slab *s, size_t len, napi_value *result)
{
    if (napi_create_external_buffer(env, len, s->data + s->pos, region_collected, s, result) != napi_ok)
        return -1;
    s->refs++;
    size_t next = s->pos + ((len + REGION_ALIGN - 1) & ~(size_t)(REGION_ALIGN - 1));
    s->pos = next < SLAB_SIZE ? next : SLAB_SIZE;
    return 0;
}

void slab_pool_close(struct slab_pool *p)
{
    while (p->count > 0)
        free(p->free[--p->count]);
    p->closed = 1;
    if (p->live == 0)
        free(p);
}
