/*
 * @commio/native: plain TCP sockets driven on Node's own libuv loop.
 *
 * One epoll set per Node environment holds every listener and connection; one
 * uv_poll_t watches that set. When it is readable, one pass collects the ready
 * sockets, reads each into a slab, hands what was read over as ONE ArrayBuffer
 * for the pass (a region of the slab, or a copy of a small pass) and enters
 * JavaScript once with the pass's events. Later passes read only past the
 * regions handed out, so a view of a handed-out ArrayBuffer is never written
 * again (slabs.c).
 */
#ifndef COMMIO_NATIVE_H
#define COMMIO_NATIVE_H

#define NAPI_VERSION 8
#include <node_api.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

/* Event kinds of a batch record [id, kind, value]. Mirrored in src/binding-types.ts. */
enum {
    EV_DATA = 1,           /* value: byte count; bytes follow the previous DATA's in the pass buffer */
    EV_EOF = 2,            /* the peer ended its output (FIN); reading stops */
    EV_ERROR = 3,          /* value: errno; the socket is no longer polled */
    EV_ACCEPT = 4,         /* id: listener, value: the new connection's id */
    EV_ACCEPT_ERROR = 5,   /* id: listener, value: errno; accepting is paused until resumed */
    EV_CONNECTED = 6,      /* a connect finished */
    EV_CONNECT_FAILED = 7, /* value: errno */
    EV_DRAINED = 8,        /* value: how many queued writes were completed since the last report */
    EV_OUTPUT_SHUT = 9,    /* a shutdown deferred behind queued writes was done: value 0, or errno */
};

/* Connection and listener option flags. */
enum {
    OPT_NODELAY = 1,
    OPT_KEEPALIVE = 2,
    OPT_START_READING = 4, /* accepted/connected sockets read from the start */
    OPT_UNREF = 8,         /* the socket does not keep Node alive */
    OPT_IPV6_ONLY = 16,
    OPT_REUSEPORT = 32,    /* SO_REUSEPORT on a listener: several sockets (processes) share the port */
};

enum obj_kind { KIND_CONN = 1, KIND_LISTENER = 2 };

/* A write not yet handed to the kernel: a C-owned copy of its remainder. */
struct chunk {
    struct chunk *next;
    size_t off, len;
    unsigned char data[];
};

struct obj {
    enum obj_kind kind;
    int id;
    int fd;
    uint32_t interest;   /* epoll events registered (0 and !registered: not in the set) */
    unsigned registered : 1;
    unsigned reading : 1;    /* conn: read when readable; listener: accept */
    unsigned refed : 1;      /* keeps Node's loop alive */
    unsigned connecting : 1;
    unsigned eof : 1;        /* EOF or error reported: reading is over */
    unsigned failed : 1;     /* an error was reported: nothing more is done */
    unsigned shut_pending : 1; /* shutdown(SHUT_WR) once the queued writes are sent */
    int error;               /* errno of the reported failure */
    int listen_flags;        /* listener: options for accepted connections */
    int keepalive_delay;     /* seconds */
    struct chunk *head, *tail; /* queued writes */
    size_t queued_bytes;
    int drained;             /* completed queued writes not yet reported */
};

/* A block that passes read into: regions before `pos` were handed to JavaScript and are never written again. */
struct slab {
    struct slab_pool *pool;
    int refs;   /* the engine's while it reads into the slab, and one per region not yet collected */
    size_t pos;
    unsigned char data[];
};

/* Slabs whose regions were all collected, kept for later passes (at most SLAB_POOL_MAX). */
#define SLAB_POOL_MAX 128
struct slab_pool {
    struct slab *free[SLAB_POOL_MAX];
    int count;
    int live;   /* slabs in use (not in the pool); the pool is freed once closed and none is */
    int closed;
};

struct engine {
    napi_env env;
    uv_loop_t *loop;
    int epfd;
    uv_poll_t poll;
    int poll_active;
    napi_ref on_batch;
    napi_ref events_ref;     /* shared Int32Array of records */
    int32_t *events;         /* its memory */
    int event_count;
    napi_ref write_ids_ref;  /* shared Int32Array: ids of a flush */
    int32_t *write_ids;
    napi_ref write_results_ref;
    int32_t *write_results;
    napi_async_context async_context;
    struct slab *slab;       /* this pass reads at slab->data + slab->pos */
    struct slab_pool *slabs;
    size_t slab_used;        /* bytes read in this pass */
    int dispatching;
    int refs;                /* objects that keep Node alive */
    /* id table */
    struct obj **slots;
    int slot_cap;
    int *free_ids;
    int free_count;
    int *deferred_ids;       /* freed while JavaScript may still see their events */
    int deferred_count, deferred_cap;
    int open_objects;
};

#define EVENTS_CAP 4096      /* records per pass */
#define WRITES_CAP 4096      /* writes per flush call */
#define SLAB_SIZE (256 * 1024)
#define READ_MAX (64 * 1024) /* per socket per pass */
#define READ_MIN 2048        /* below this much slab room, the pass ends */
#define SLAB_HANDOVER (16 * 1024) /* from this many bytes read, the pass's region is handed over, not copied */

/* slabs.c */
struct slab_pool *slab_pool_new(void);
struct slab *slab_get(struct slab_pool *p);
void slab_release(struct slab *s);
int slab_hand_over(napi_env env, struct slab *s, size_t len, napi_value *result);
void slab_pool_close(struct slab_pool *p);

/* table.c */
struct obj *obj_new(struct engine *e, enum obj_kind kind, int fd);
struct obj *obj_get(struct engine *e, int id);
void obj_free(struct engine *e, struct obj *o);
void table_release_deferred(struct engine *e);

/* engine.c */
int engine_start(struct engine *e);
void engine_stop(struct engine *e);
int engine_watch(struct engine *e, struct obj *o);
void engine_fail(struct engine *e, struct obj *o, int err);
void engine_update_ref(struct engine *e);
void obj_set_ref(struct engine *e, struct obj *o, int on);
void obj_set_reading(struct engine *e, struct obj *o, int on);
void engine_push(struct engine *e, int id, int kind, int value);
int engine_room(const struct engine *e, int records);
void engine_close_obj(struct engine *e, struct obj *o, int abort);
int engine_release_obj(struct engine *e, struct obj *o);

/* sockets.c */
int sock_listen(struct engine *e, const char *host, int port, int backlog, int flags, int delay);
int sock_adopt_listener(struct engine *e, int fd, int flags, int delay);
int sock_adopt_conn(struct engine *e, int fd, int flags, int delay, int connecting);
int sock_adopt_existing(struct engine *e, int fd, int flags, int delay);
int sock_connect(struct engine *e, const char *host, int port, const char *local_host, int local_port, int flags, int delay);
void sock_accept_all(struct engine *e, struct obj *l);
int sock_set_nodelay(int fd, int on);
int sock_set_keepalive(int fd, int on, int delay);
int sock_address(int fd, int peer, char *host, size_t hostlen, int *port, int *family);

/* writes.c */
int write_one(struct engine *e, struct obj *o, const unsigned char *data, size_t len);
void write_drain(struct engine *e, struct obj *o);
int obj_shutdown(struct engine *e, struct obj *o);
void write_discard(struct obj *o);
size_t write_take(struct obj *o, unsigned char *out);

#endif
