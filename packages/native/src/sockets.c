/*
 * Opening sockets: listen, adopt a descriptor, connect, accept (until EAGAIN),
 * socket options and addresses.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "native.h"

static int parse_address(const char *host, int port, struct sockaddr_storage *ss, socklen_t *len)
{
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    if (port < 0 || port > 65535)
        return -EINVAL;
    if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)port);
        *len = sizeof *in4;
        return 0;
    }
    if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        *len = sizeof *in6;
        return 0;
    }
    return -EAFNOSUPPORT; /* only numeric addresses: names are resolved in JavaScript */
}

int sock_set_nodelay(int fd, int on)
{
    on = !!on;
    return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) == 0 ? 0 : -errno;
}

int sock_set_keepalive(int fd, int on, int delay)
{
    on = !!on;
    if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on) != 0)
        return -errno;
    if (on && delay > 0 && setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &delay, sizeof delay) != 0)
        return -errno;
    return 0;
}

static int set_nonblocking(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0)
        return -errno;
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    return 0;
}

int sock_adopt_listener(struct engine *e, int fd, int flags, int delay)
{
    int rc = set_nonblocking(fd);
    if (rc != 0)
        return rc;
    struct obj *l = obj_new(e, KIND_LISTENER, fd);
    if (!l)
        return -ENOMEM;
    l->listen_flags = flags;
    l->keepalive_delay = delay;
    l->reading = 1;
    obj_set_ref(e, l, !(flags & OPT_UNREF));
    rc = engine_watch(e, l);
    if (rc != 0) {
        engine_release_obj(e, l);
        return rc;
    }
    return l->id;
}

int sock_listen(struct engine *e, const char *host, int port, int backlog, int flags, int delay)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int rc = parse_address(host, port, &ss, &len);
    if (rc != 0)
        return rc;
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if ((flags & OPT_REUSEPORT) && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
        rc = -errno;
        close(fd);
        return rc;
    }
    if (ss.ss_family == AF_INET6) {
        int v6only = !!(flags & OPT_IPV6_ONLY);
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
    }
    if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, backlog > 0 ? backlog : 511) != 0) {
        rc = -errno;
        close(fd);
        return rc;
    }
    rc = sock_adopt_listener(e, fd, flags, delay);
    if (rc < 0)
        close(fd);
    return rc;
}

int sock_adopt_conn(struct engine *e, int fd, int flags, int delay, int connecting)
{
    if (flags & OPT_NODELAY)
        sock_set_nodelay(fd, 1);
    if (flags & OPT_KEEPALIVE)
        sock_set_keepalive(fd, 1, delay);
    struct obj *o = obj_new(e, KIND_CONN, fd);
    if (!o)
        return -ENOMEM;
    o->connecting = !!connecting;
    o->reading = !!(flags & OPT_START_READING);
    obj_set_ref(e, o, !(flags & OPT_UNREF));
    int rc = engine_watch(e, o);
    if (rc != 0) {
        engine_release_obj(e, o);
        return rc;
    }
    return o->id;
}

int sock_connect(struct engine *e, const char *host, int port, const char *local_host, int local_port, int flags,
                 int delay)
{
    struct sockaddr_storage ss, local;
    socklen_t len, local_len;
    int rc = parse_address(host, port, &ss, &len);
    if (rc != 0)
        return rc;
    if (local_host && (rc = parse_address(local_host, local_port, &local, &local_len)) != 0)
        return rc;
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (local_host && bind(fd, (struct sockaddr *)&local, local_len) != 0) {
        rc = -errno;
        close(fd);
        return rc;
    }
    if (connect(fd, (struct sockaddr *)&ss, len) != 0 && errno != EINPROGRESS) {
        rc = -errno;
        close(fd);
        return rc;
    }
    /* Even a connect that finished at once is reported by the writable socket, in a pass. */
    rc = sock_adopt_conn(e, fd, flags, delay, 1);
    if (rc < 0)
        close(fd);
    return rc;
}

static int is_transient(int err)
{
    return err == ECONNABORTED || err == EPROTO || err == EINTR || err == ENETDOWN || err == ENOPROTOOPT ||
           err == EHOSTDOWN || err == ENONET || err == EHOSTUNREACH || err == EOPNOTSUPP || err == ENETUNREACH;
}

/* Accepts until EAGAIN (or the pass is full). Descriptor pressure pauses the listener and is reported
 * once, so a listener that cannot accept does not spin; JavaScript resumes it. */
void sock_accept_all(struct engine *e, struct obj *l)
{
    while (engine_room(e, 2)) {
        int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            int err = errno;
            if (err == EAGAIN || err == EWOULDBLOCK)
                return;
            if (is_transient(err))
                continue;
            engine_push(e, l->id, EV_ACCEPT_ERROR, err);
            obj_set_reading(e, l, 0);
            return;
        }
        int id = sock_adopt_conn(e, fd, l->listen_flags, l->keepalive_delay, 0);
        if (id < 0) {
            close(fd);
            engine_push(e, l->id, EV_ACCEPT_ERROR, -id);
            obj_set_reading(e, l, 0);
            return;
        }
        engine_push(e, l->id, EV_ACCEPT, id);
    }
}

int sock_address(int fd, int peer, char *host, size_t hostlen, int *port, int *family)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int rc = peer ? getpeername(fd, (struct sockaddr *)&ss, &len) : getsockname(fd, (struct sockaddr *)&ss, &len);
    if (rc != 0)
        return -errno;
    if (ss.ss_family == AF_INET) {
        struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &in4->sin_addr, host, (socklen_t)hostlen);
        *port = ntohs(in4->sin_port);
        *family = 4;
        return 0;
    }
    if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, (socklen_t)hostlen);
        *port = ntohs(in6->sin6_port);
        *family = 6;
        return 0;
    }
    return -EAFNOSUPPORT;
}

/* A connected descriptor handed over by JavaScript (for example from a Node socket). */
int sock_adopt_existing(struct engine *e, int fd, int flags, int delay)
{
    int rc = set_nonblocking(fd);
    if (rc != 0)
        return rc;
    return sock_adopt_conn(e, fd, flags, delay, 0);
}
