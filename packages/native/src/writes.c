/*
 * Writes: sent at once when nothing is queued; a remainder the kernel did not
 * take is copied into C-owned memory (the caller's buffer is free again when
 * the flush returns) and sent when the socket is writable, with completions
 * reported in a later pass.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "native.h"

#define DRAIN_IOV 64

static int queue_copy(struct obj *o, const unsigned char *data, size_t len)
{
    struct chunk *c = malloc(sizeof *c + len);
    if (!c)
        return -ENOMEM;
    c->next = NULL;
    c->off = 0;
    c->len = len;
    memcpy(c->data, data, len);
    if (o->tail)
        o->tail->next = c;
    else
        o->head = c;
    o->tail = c;
    o->queued_bytes += len;
    return 0;
}

void write_discard(struct obj *o)
{
    struct chunk *c = o->head;
    while (c) {
        struct chunk *next = c->next;
        free(c);
        c = next;
    }
    o->head = o->tail = NULL;
    o->queued_bytes = 0;
}

/* Called from JavaScript (a flush): never pushes records, the result says it all.
 * 1: handed to the kernel; 0: queued, completion reported later; <0: -errno. */
int write_one(struct engine *e, struct obj *o, const unsigned char *data, size_t len)
{
    if (o->kind != KIND_CONN)
        return -ENOTSOCK;
    if (o->failed)
        return -(o->error ? o->error : EPIPE);
    if (o->shut_pending)
        return -EPIPE;
    if (len == 0)
        return 1;
    if (o->head || o->connecting) {
        int rc = queue_copy(o, data, len);
        if (rc == 0)
            engine_watch(e, o);
        return rc;
    }
    size_t sent = 0;
    while (sent < len) {
        ssize_t n = send(o->fd, data + sent, len - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            sent += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        int err = n < 0 ? errno : EPIPE;
        o->failed = 1;
        o->eof = 1;
        o->error = err;
        engine_watch(e, o);
        return -err;
    }
    if (sent == len)
        return 1;
    int rc = queue_copy(o, data + sent, len - sent);
    if (rc == 0)
        engine_watch(e, o);
    return rc;
}

/* Called in a pass when the socket is writable. */
void write_drain(struct engine *e, struct obj *o)
{
    if (!engine_room(e, 2))
        return;
    while (o->head) {
        struct iovec iov[DRAIN_IOV];
        int count = 0;
        for (struct chunk *c = o->head; c && count < DRAIN_IOV; c = c->next) {
            iov[count].iov_base = c->data + c->off;
            iov[count].iov_len = c->len - c->off;
            count++;
        }
        struct msghdr msg;
        memset(&msg, 0, sizeof msg);
        msg.msg_iov = iov;
        msg.msg_iovlen = (size_t)count;
        ssize_t n = sendmsg(o->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            engine_fail(e, o, errno);
            return;
        }
        size_t left = (size_t)n;
        o->queued_bytes -= left;
        while (left > 0 && o->head) {
            struct chunk *c = o->head;
            size_t rest = c->len - c->off;
            if (left < rest) {
                c->off += left;
                left = 0;
                break;
            }
            left -= rest;
            o->head = c->next;
            if (!o->head)
                o->tail = NULL;
            free(c);
            o->drained++;
        }
        if (o->head && n == 0)
            break;
    }
    if (o->drained > 0) {
        engine_push(e, o->id, EV_DRAINED, o->drained);
        o->drained = 0;
    }
    if (!o->head && o->shut_pending) {
        o->shut_pending = 0;
        int err = shutdown(o->fd, SHUT_WR) == 0 ? 0 : errno;
        engine_push(e, o->id, EV_OUTPUT_SHUT, err);
        if (err != 0) {
            engine_fail(e, o, err);
            return;
        }
    }
    engine_watch(e, o);
}

/* Ends our output after every queued write: 0 (done now), 1 (deferred: an OUTPUT_SHUT record follows), or -errno. */
int obj_shutdown(struct engine *e, struct obj *o)
{
    (void)e;
    if (o->kind != KIND_CONN)
        return -ENOTSOCK;
    if (o->failed)
        return -(o->error ? o->error : EPIPE);
    if (o->head || o->connecting) {
        o->shut_pending = 1;
        return 1;
    }
    if (shutdown(o->fd, SHUT_WR) != 0)
        return -errno;
    return 0;
}

/* Moves the queued bytes, in order, into `out` (queued_bytes long) and forgets them. */
size_t write_take(struct obj *o, unsigned char *out)
{
    size_t n = 0;
    for (struct chunk *c = o->head; c; c = c->next) {
        memcpy(out + n, c->data + c->off, c->len - c->off);
        n += c->len - c->off;
    }
    write_discard(o);
    return n;
}
