/*
 * Ids of listeners and connections: small positive integers indexing a table.
 * An id freed while JavaScript handles a batch is not reused until that batch
 * is over, so a record of the batch can never name a newer socket.
 */
#include <stdlib.h>
#include <string.h>

#include "native.h"

static int grow(struct engine *e)
{
    int cap = e->slot_cap ? e->slot_cap * 2 : 256;
    struct obj **slots = realloc(e->slots, (size_t)cap * sizeof *slots);
    if (!slots)
        return -1;
    int *free_ids = realloc(e->free_ids, (size_t)cap * sizeof *free_ids);
    if (!free_ids) {
        e->slots = slots;
        return -1;
    }
    memset(slots + e->slot_cap, 0, (size_t)(cap - e->slot_cap) * sizeof *slots);
    /* Hand out low ids first: push the new ones in descending order. */
    for (int id = cap - 1; id >= (e->slot_cap ? e->slot_cap : 1); id--)
        free_ids[e->free_count++] = id;
    e->slots = slots;
    e->free_ids = free_ids;
    e->slot_cap = cap;
    return 0;
}

struct obj *obj_new(struct engine *e, enum obj_kind kind, int fd)
{
    if (e->free_count == 0 && grow(e) != 0)
        return NULL;
    struct obj *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->kind = kind;
    o->fd = fd;
    o->id = e->free_ids[--e->free_count];
    e->slots[o->id] = o;
    e->open_objects++;
    return o;
}

struct obj *obj_get(struct engine *e, int id)
{
    if (id <= 0 || id >= e->slot_cap)
        return NULL;
    return e->slots[id];
}

void obj_free(struct engine *e, struct obj *o)
{
    e->slots[o->id] = NULL;
    e->open_objects--;
    if (e->dispatching) {
        if (e->deferred_count == e->deferred_cap) {
            int cap = e->deferred_cap ? e->deferred_cap * 2 : 64;
            int *d = realloc(e->deferred_ids, (size_t)cap * sizeof *d);
            if (!d) {
                /* Out of memory: leak the id rather than risk misrouting. */
                free(o);
                return;
            }
            e->deferred_ids = d;
            e->deferred_cap = cap;
        }
        e->deferred_ids[e->deferred_count++] = o->id;
    } else {
        e->free_ids[e->free_count++] = o->id;
    }
    free(o);
}

void table_release_deferred(struct engine *e)
{
    for (int i = 0; i < e->deferred_count; i++)
        e->free_ids[e->free_count++] = e->deferred_ids[i];
    e->deferred_count = 0;
}
