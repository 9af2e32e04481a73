/*
 * The epoll set, its uv_poll_t on Node's loop, and the pass: collect ready
 * sockets, read them into the slab, hand the pass's bytes over as one
 * ArrayBuffer and enter JavaScript once.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "native.h"

#define EPOLL_BATCH 256

static void on_poll(uv_poll_t *handle, int status, int events);

int engine_start(struct engine *e)
{
    e->slabs = slab_pool_new();
    if (!e->slabs)
        return -ENOMEM;
    e->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (e->epfd < 0)
        return -errno;
    int rc = uv_poll_init(e->loop, &e->poll, e->epfd);
    if (rc != 0)
        return rc;
    e->poll.data = e;
    e->poll_active = 1;
    rc = uv_poll_start(&e->poll, UV_READABLE, on_poll);
    if (rc != 0)
        return rc;
    /* Nothing is open yet: the set alone does not keep Node alive. */
    uv_unref((uv_handle_t *)&e->poll);
    return 0;
}

static void on_poll_closed(uv_handle_t *handle)
{
    struct engine *e = handle->data;
    free(e);
}

/* Closes every socket and the set; frees the engine once libuv let go of the handle. */
void engine_stop(struct engine *e)
{
    for (int id = 1; id < e->slot_cap; id++) {
        struct obj *o = e->slots[id];
        if (o)
            engine_close_obj(e, o, 0);
    }
    free(e->slots);
    free(e->free_ids);
    free(e->deferred_ids);
    if (e->slab)
        slab_release(e->slab);
    if (e->slabs)
        slab_pool_close(e->slabs);
    if (e->epfd >= 0)
        close(e->epfd);
    if (e->poll_active) {
        uv_poll_stop(&e->poll);
        uv_close((uv_handle_t *)&e->poll, on_poll_closed);
    } else {
        free(e);
    }
}

void engine_update_ref(struct engine *e)
{
    if (!e->poll_active)
        return;
    if (e->refs > 0)
        uv_ref((uv_handle_t *)&e->poll);
    else
        uv_unref((uv_handle_t *)&e->poll);
}

void obj_set_ref(struct engine *e, struct obj *o, int on)
{
    if (o->refed == (unsigned)!!on)
        return;
    o->refed = !!on;
    e->refs += on ? 1 : -1;
    engine_update_ref(e);
}

/* Registers exactly the events the object wants now; an object wanting none leaves the set,
 * so a hang-up nobody is listening for cannot make the set spin. */
int engine_watch(struct engine *e, struct obj *o)
{
    uint32_t want = 0;
    if (o->kind == KIND_LISTENER) {
        if (o->reading)
            want = EPOLLIN;
    } else if (!o->failed) {
        if (o->connecting)
            want = EPOLLOUT;
        else {
            if (o->reading && !o->eof)
                want |= EPOLLIN;
            if (o->head)
                want |= EPOLLOUT;
        }
    }
    if (want == 0) {
        if (o->registered) {
            epoll_ctl(e->epfd, EPOLL_CTL_DEL, o->fd, NULL);
            o->registered = 0;
        }
        o->interest = 0;
        return 0;
    }
    if (o->registered && want == o->interest)
        return 0;
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = want;
    ev.data.u32 = (uint32_t)o->id;
    if (epoll_ctl(e->epfd, o->registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, o->fd, &ev) != 0)
        return -errno;
    o->registered = 1;
    o->interest = want;
    return 0;
}

void obj_set_reading(struct engine *e, struct obj *o, int on)
{
    o->reading = !!on;
    engine_watch(e, o);
}

/* Reports a failure once; the socket then stays out of the set until JavaScript closes it. */
void engine_fail(struct engine *e, struct obj *o, int err)
{
    o->failed = 1;
    o->eof = 1;
    o->error = err;
    write_discard(o);
    engine_push(e, o->id, EV_ERROR, err);
    engine_watch(e, o);
}

int engine_room(const struct engine *e, int records)
{
    return e->event_count + records <= EVENTS_CAP;
}

void engine_push(struct engine *e, int id, int kind, int value)
{
    int32_t *r = e->events + 3 * e->event_count++;
    r[0] = id;
    r[1] = kind;
    r[2] = value;
}

void engine_close_obj(struct engine *e, struct obj *o, int abort)
{
    if (abort) {
        /* A zero linger time makes close() send RST and drop unsent data. */
        struct linger lg = { 1, 0 };
        setsockopt(o->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    close(o->fd); /* also takes it out of the set: we never duplicate it */
    write_discard(o);
    if (o->refed) {
        e->refs--;
        engine_update_ref(e);
    }
    obj_free(e, o);
}

int engine_release_obj(struct engine *e, struct obj *o)
{
    if (o->head)
        return -EBUSY;
    if (o->registered)
        epoll_ctl(e->epfd, EPOLL_CTL_DEL, o->fd, NULL);
    int fd = o->fd;
    if (o->refed) {
        e->refs--;
        engine_update_ref(e);
    }
    obj_free(e, o);
    return fd;
}

static void finish_connect(struct engine *e, struct obj *o)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(o->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
        err = errno;
    o->connecting = 0;
    if (err != 0) {
        o->failed = 1;
        o->eof = 1;
        o->error = err;
        write_discard(o);
        engine_push(e, o->id, EV_CONNECT_FAILED, err);
    } else {
        engine_push(e, o->id, EV_CONNECTED, 0);
        if (o->shut_pending && !o->head) {
            o->shut_pending = 0;
            engine_push(e, o->id, EV_OUTPUT_SHUT, shutdown(o->fd, SHUT_WR) == 0 ? 0 : errno);
        }
    }
    engine_watch(e, o);
}

static void read_conn(struct engine *e, struct obj *o)
{
    if (!e->slab && !(e->slab = slab_get(e->slabs)))
        return; /* out of memory: the bytes wait in the kernel */
    size_t room = SLAB_SIZE - e->slab->pos - e->slab_used;
    if (room < READ_MIN)
        return; /* level-triggered: the set reports it again next pass */
    size_t want = room < READ_MAX ? room : READ_MAX;
    for (;;) {
        ssize_t n = recv(o->fd, e->slab->data + e->slab->pos + e->slab_used, want, 0);
        if (n > 0) {
            e->slab_used += (size_t)n;
            engine_push(e, o->id, EV_DATA, (int)n);
            return;
        }
        if (n == 0) {
            o->eof = 1;
            engine_push(e, o->id, EV_EOF, 0);
            engine_watch(e, o);
            return;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            engine_fail(e, o, errno);
        return;
    }
}

static void on_ready(struct engine *e, struct obj *o, uint32_t events)
{
    if (o->kind == KIND_LISTENER) {
        if (o->reading)
            sock_accept_all(e, o);
        return;
    }
    if (o->failed)
        return;
    if (o->connecting) {
        finish_connect(e, o);
        return;
    }
    if (o->head && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
        write_drain(e, o);
    if (!o->failed && o->reading && !o->eof && (events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
        read_conn(e, o);
}

/* The pass's bytes as memory of their own, which native code never writes again. A well-filled pass is
 * handed over as its region of the slab (no copy; the next pass reads past it, or into another slab once
 * this one is nearly used up); a small read is copied into a right-sized buffer, and its slab room,
 * never handed out, serves the next pass. */
static napi_value hand_over(struct engine *e)
{
    napi_value result;
    void *data;
    if (e->slab_used >= SLAB_HANDOVER && slab_hand_over(e->env, e->slab, e->slab_used, &result) == 0) {
        if (SLAB_SIZE - e->slab->pos < READ_MAX) {
            slab_release(e->slab);
            e->slab = NULL;
        }
        return result;
    }
    if (napi_create_buffer_copy(e->env, e->slab_used, e->slab->data + e->slab->pos, &data, &result) != napi_ok)
        napi_get_undefined(e->env, &result);
    return result;
}

static void deliver(struct engine *e)
{
    napi_env env = e->env;
    napi_handle_scope scope;
    if (napi_open_handle_scope(env, &scope) != napi_ok)
        return;
    napi_value fn, recv, args[2], result;
    napi_get_reference_value(env, e->on_batch, &fn);
    napi_get_global(env, &recv);
    napi_create_int32(env, e->event_count, &args[0]);
    if (e->slab_used > 0)
        args[1] = hand_over(e);
    else {
        napi_get_undefined(env, &args[1]);
    }
    e->dispatching = 1;
    napi_status st = napi_make_callback(env, e->async_context, recv, fn, 2, args, &result);
    e->dispatching = 0;
    table_release_deferred(e);
    if (st == napi_pending_exception) {
        napi_value error;
        napi_get_and_clear_last_exception(env, &error);
        napi_fatal_exception(env, error);
    }
    napi_close_handle_scope(env, scope);
}

static void on_poll(uv_poll_t *handle, int status, int events)
{
    (void)status;
    (void)events;
    struct engine *e = handle->data;
    struct epoll_event ready[EPOLL_BATCH];
    e->event_count = 0;
    e->slab_used = 0;
    int n;
    do
        n = epoll_wait(e->epfd, ready, EPOLL_BATCH, 0);
    while (n < 0 && errno == EINTR);
    for (int i = 0; i < n; i++) {
        if (!engine_room(e, 4))
            break; /* the rest stays ready and comes in the next pass */
        struct obj *o = obj_get(e, (int)ready[i].data.u32);
        if (o)
            on_ready(e, o, ready[i].events);
    }
    if (e->event_count > 0)
        deliver(e);
}
