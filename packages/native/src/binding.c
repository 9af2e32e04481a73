/*
 * The Node-API surface. Every call is synchronous and cheap; failures are
 * returned as negative errno values (the loader turns them into errors), so
 * no call throws except on wrong argument types.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "native.h"

#define MAX_ARGS 8

struct call {
    napi_env env;
    struct engine *e;
    size_t argc;
    napi_value argv[MAX_ARGS];
    void *data; /* the function's own datum (an operation code) */
};

static int get_call(napi_env env, napi_callback_info info, struct call *c)
{
    c->env = env;
    c->argc = MAX_ARGS;
    if (napi_get_cb_info(env, info, &c->argc, c->argv, NULL, &c->data) != napi_ok)
        return -1;
    void *data = NULL;
    napi_get_instance_data(env, &data);
    c->e = data;
    if (!c->e) {
        napi_throw_error(env, "ERR_COMMIO_NATIVE", "init() was not called");
        return -1;
    }
    return 0;
}

static int32_t arg_int(struct call *c, size_t i)
{
    int32_t v = 0;
    if (i < c->argc)
        napi_get_value_int32(c->env, c->argv[i], &v);
    return v;
}

static int arg_bool(struct call *c, size_t i)
{
    bool v = false;
    if (i < c->argc)
        napi_get_value_bool(c->env, c->argv[i], &v);
    return v;
}

/* A numeric address; 0 when the argument is not a string. */
static int arg_host(struct call *c, size_t i, char *buf, size_t len)
{
    size_t got = 0;
    if (i >= c->argc || napi_get_value_string_utf8(c->env, c->argv[i], buf, len, &got) != napi_ok)
        return 0;
    return 1;
}

static napi_value num(napi_env env, int32_t v)
{
    napi_value r;
    napi_create_int32(env, v, &r);
    return r;
}

static struct obj *arg_obj(struct call *c, size_t i)
{
    return obj_get(c->e, arg_int(c, i));
}

static void engine_cleanup(void *arg)
{
    struct engine *e = arg;
    napi_delete_reference(e->env, e->on_batch);
    napi_delete_reference(e->env, e->events_ref);
    napi_delete_reference(e->env, e->write_ids_ref);
    napi_delete_reference(e->env, e->write_results_ref);
    napi_async_destroy(e->env, e->async_context);
    engine_stop(e);
}

static int32_t *shared_array(napi_env env, size_t length, napi_value *array, napi_ref *ref)
{
    void *data;
    napi_value ab;
    if (napi_create_arraybuffer(env, length * sizeof(int32_t), &data, &ab) != napi_ok ||
        napi_create_typedarray(env, napi_int32_array, length, ab, 0, array) != napi_ok ||
        napi_create_reference(env, *array, 1, ref) != napi_ok)
        return NULL;
    memset(data, 0, length * sizeof(int32_t));
    return data;
}

/* init(onBatch) -> { events, writeIds, writeResults }: once per Node environment. */
static napi_value js_init(napi_env env, napi_callback_info info)
{
    size_t argc = 1;
    napi_value fn;
    napi_get_cb_info(env, info, &argc, &fn, NULL, NULL);
    void *existing = NULL;
    napi_get_instance_data(env, &existing);
    if (existing) {
        napi_throw_error(env, "ERR_COMMIO_NATIVE", "init() was already called");
        return NULL;
    }
    struct engine *e = calloc(1, sizeof *e);
    if (!e) {
        napi_throw_error(env, "ERR_COMMIO_NATIVE", "out of memory");
        return NULL;
    }
    e->env = env;
    e->epfd = -1;
    napi_value result, events, ids, results, name;
    napi_create_object(env, &result);
    if (napi_get_uv_event_loop(env, &e->loop) != napi_ok || napi_create_reference(env, fn, 1, &e->on_batch) != napi_ok ||
        !(e->events = shared_array(env, EVENTS_CAP * 3, &events, &e->events_ref)) ||
        !(e->write_ids = shared_array(env, WRITES_CAP, &ids, &e->write_ids_ref)) ||
        !(e->write_results = shared_array(env, WRITES_CAP, &results, &e->write_results_ref))) {
        napi_throw_error(env, "ERR_COMMIO_NATIVE", "could not set up the binding");
        return NULL;
    }
    napi_create_string_utf8(env, "commio-native", NAPI_AUTO_LENGTH, &name);
    napi_async_init(env, NULL, name, &e->async_context);
    int rc = engine_start(e);
    if (rc != 0) {
        napi_throw_error(env, "ERR_COMMIO_NATIVE", strerror(rc < 0 ? -rc : rc));
        return NULL;
    }
    napi_set_instance_data(env, e, NULL, NULL);
    napi_add_env_cleanup_hook(env, engine_cleanup, e);
    napi_set_named_property(env, result, "events", events);
    napi_set_named_property(env, result, "writeIds", ids);
    napi_set_named_property(env, result, "writeResults", results);
    napi_value caps;
    napi_create_object(env, &caps);
    napi_set_named_property(env, caps, "events", num(env, EVENTS_CAP));
    napi_set_named_property(env, caps, "writes", num(env, WRITES_CAP));
    napi_set_named_property(env, result, "capacity", caps);
    return result;
}

/* listen(host, port, backlog, flags, keepAliveDelay) -> id | -errno */
static napi_value js_listen(napi_env env, napi_callback_info info)
{
    struct call c;
    char host[64];
    if (get_call(env, info, &c) != 0)
        return NULL;
    if (!arg_host(&c, 0, host, sizeof host))
        return num(env, -EINVAL);
    return num(env, sock_listen(c.e, host, arg_int(&c, 1), arg_int(&c, 2), arg_int(&c, 3), arg_int(&c, 4)));
}

/* adoptListener(fd, flags, keepAliveDelay) / adoptConnection(fd, flags, keepAliveDelay) -> id | -errno */
static napi_value js_adopt_listener(napi_env env, napi_callback_info info)
{
    struct call c;
    if (get_call(env, info, &c) != 0)
        return NULL;
    return num(env, sock_adopt_listener(c.e, arg_int(&c, 0), arg_int(&c, 1), arg_int(&c, 2)));
}

static napi_value js_adopt_connection(napi_env env, napi_callback_info info)
{
    struct call c;
    if (get_call(env, info, &c) != 0)
        return NULL;
    return num(env, sock_adopt_existing(c.e, arg_int(&c, 0), arg_int(&c, 1), arg_int(&c, 2)));
}

/* connect(host, port, localHost | null, localPort, flags, keepAliveDelay) -> id | -errno */
static napi_value js_connect(napi_env env, napi_callback_info info)
{
    struct call c;
    char host[64], local[64];
    if (get_call(env, info, &c) != 0)
        return NULL;
    if (!arg_host(&c, 0, host, sizeof host))
        return num(env, -EINVAL);
    int has_local = arg_host(&c, 2, local, sizeof local);
    return num(env, sock_connect(c.e, host, arg_int(&c, 1), has_local ? local : NULL, arg_int(&c, 3), arg_int(&c, 4),
                                 arg_int(&c, 5)));
}

/* Operations on one socket, all shaped (id, ...) -> 0 | result | -errno; one callback serves them. */
enum socket_op { OP_SET_READING = 1, OP_SET_REF, OP_SET_NODELAY, OP_SET_KEEPALIVE, OP_SHUTDOWN, OP_CLOSE, OP_RELEASE };

static int32_t run_op(struct call *c, struct obj *o, enum socket_op op)
{
    switch (op) {
    case OP_SET_READING: /* a connection reads, a listener accepts, only while on */
        obj_set_reading(c->e, o, arg_bool(c, 1));
        return 0;
    case OP_SET_REF:
        obj_set_ref(c->e, o, arg_bool(c, 1));
        return 0;
    case OP_SET_NODELAY:
        return sock_set_nodelay(o->fd, arg_bool(c, 1));
    case OP_SET_KEEPALIVE:
        return sock_set_keepalive(o->fd, arg_bool(c, 1), arg_int(c, 2));
    case OP_SHUTDOWN:
        return obj_shutdown(c->e, o);
    case OP_CLOSE: /* closed now; queued writes are dropped; abort: RST */
        engine_close_obj(c->e, o, arg_bool(c, 1));
        return 0;
    case OP_RELEASE: /* forgotten without closing: returns the descriptor (-EBUSY while writes are queued) */
        return engine_release_obj(c->e, o);
    }
    return -EINVAL;
}

static napi_value js_socket_op(napi_env env, napi_callback_info info)
{
    struct call c;
    if (get_call(env, info, &c) != 0)
        return NULL;
    struct obj *o = arg_obj(&c, 0);
    return num(env, o ? run_op(&c, o, (enum socket_op)(intptr_t)c.data) : -EBADF);
}

/* flush(count, buffers): writes buffers[i] to writeIds[i]; writeResults[i] gets
 * 1 (sent), 0 (queued: a DRAINED record follows) or -errno. Returns count. */
static napi_value js_flush(napi_env env, napi_callback_info info)
{
    struct call c;
    if (get_call(env, info, &c) != 0)
        return NULL;
    int32_t count = arg_int(&c, 0);
    if (count < 0 || count > WRITES_CAP || c.argc < 2) {
        napi_throw_range_error(env, "ERR_COMMIO_NATIVE", "flush: bad count");
        return NULL;
    }
    for (int32_t i = 0; i < count; i++) {
        napi_value item;
        napi_typedarray_type type;
        size_t length = 0, offset = 0;
        void *data = NULL;
        napi_value ab;
        if (napi_get_element(env, c.argv[1], (uint32_t)i, &item) != napi_ok ||
            napi_get_typedarray_info(env, item, &type, &length, &data, &ab, &offset) != napi_ok ||
            type != napi_uint8_array) {
            c.e->write_results[i] = -EINVAL;
            continue;
        }
        struct obj *o = obj_get(c.e, c.e->write_ids[i]);
        c.e->write_results[i] = o ? write_one(c.e, o, data, length) : -EBADF;
    }
    return num(env, count);
}

/* takeQueued(id) -> Buffer of the bytes not yet handed to the kernel (now forgotten by the addon) | -errno.
 * With release(), a keep-alive close hands back the socket and whatever it still had to send. */
static napi_value js_take_queued(napi_env env, napi_callback_info info)
{
    struct call c;
    if (get_call(env, info, &c) != 0)
        return NULL;
    struct obj *o = arg_obj(&c, 0);
    if (!o)
        return num(env, -EBADF);
    void *data;
    napi_value buffer;
    if (napi_create_buffer(env, o->queued_bytes, &data, &buffer) != napi_ok)
        return NULL;
    if (o->queued_bytes > 0)
        write_take(o, data);
    engine_watch(c.e, o);
    return buffer;
}

/* address(id, peer) -> { address, port, family } | -errno */
static napi_value js_address(napi_env env, napi_callback_info info)
{
    struct call c;
    if (get_call(env, info, &c) != 0)
        return NULL;
    struct obj *o = arg_obj(&c, 0);
    if (!o)
        return num(env, -EBADF);
    char host[64];
    int port = 0, family = 0;
    int rc = sock_address(o->fd, arg_bool(&c, 1), host, sizeof host, &port, &family);
    if (rc != 0)
        return num(env, rc);
    napi_value result, address;
    napi_create_object(env, &result);
    napi_create_string_utf8(env, host, NAPI_AUTO_LENGTH, &address);
    napi_set_named_property(env, result, "address", address);
    napi_set_named_property(env, result, "port", num(env, port));
    napi_set_named_property(env, result, "family", num(env, family));
    return result;
}

/* queuedBytes(id) -> bytes accepted by flush but not yet handed to the kernel | -errno */
static napi_value js_queued_bytes(napi_env env, napi_callback_info info)
{
    struct call c;
    if (get_call(env, info, &c) != 0)
        return NULL;
    struct obj *o = arg_obj(&c, 0);
    napi_value r;
    napi_create_double(env, o ? (double)o->queued_bytes : -EBADF, &r);
    return r;
}

/* stats() -> { open, refs } */
static napi_value js_stats(napi_env env, napi_callback_info info)
{
    struct call c;
    if (get_call(env, info, &c) != 0)
        return NULL;
    napi_value result;
    napi_create_object(env, &result);
    napi_set_named_property(env, result, "open", num(env, c.e->open_objects));
    napi_set_named_property(env, result, "refs", num(env, c.e->refs));
    return result;
}

NAPI_MODULE_INIT()
{
    napi_property_descriptor props[] = {
        { "init", NULL, js_init, NULL, NULL, NULL, napi_enumerable, NULL },
        { "listen", NULL, js_listen, NULL, NULL, NULL, napi_enumerable, NULL },
        { "adoptListener", NULL, js_adopt_listener, NULL, NULL, NULL, napi_enumerable, NULL },
        { "adoptConnection", NULL, js_adopt_connection, NULL, NULL, NULL, napi_enumerable, NULL },
        { "connect", NULL, js_connect, NULL, NULL, NULL, napi_enumerable, NULL },
        { "setReading", NULL, js_socket_op, NULL, NULL, NULL, napi_enumerable, (void *)(intptr_t)OP_SET_READING },
        { "setRef", NULL, js_socket_op, NULL, NULL, NULL, napi_enumerable, (void *)(intptr_t)OP_SET_REF },
        { "setNoDelay", NULL, js_socket_op, NULL, NULL, NULL, napi_enumerable, (void *)(intptr_t)OP_SET_NODELAY },
        { "setKeepAlive", NULL, js_socket_op, NULL, NULL, NULL, napi_enumerable, (void *)(intptr_t)OP_SET_KEEPALIVE },
        { "flush", NULL, js_flush, NULL, NULL, NULL, napi_enumerable, NULL },
        { "shutdown", NULL, js_socket_op, NULL, NULL, NULL, napi_enumerable, (void *)(intptr_t)OP_SHUTDOWN },
        { "close", NULL, js_socket_op, NULL, NULL, NULL, napi_enumerable, (void *)(intptr_t)OP_CLOSE },
        { "release", NULL, js_socket_op, NULL, NULL, NULL, napi_enumerable, (void *)(intptr_t)OP_RELEASE },
        { "takeQueued", NULL, js_take_queued, NULL, NULL, NULL, napi_enumerable, NULL },
        { "address", NULL, js_address, NULL, NULL, NULL, napi_enumerable, NULL },
        { "queuedBytes", NULL, js_queued_bytes, NULL, NULL, NULL, napi_enumerable, NULL },
        { "stats", NULL, js_stats, NULL, NULL, NULL, napi_enumerable, NULL },
    };
    napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
    return exports;
}
