/*
 * echo-epoll: the one-core reference echo server. Single thread, epoll, level
 * triggered; echoes every byte in order, stops reading a connection while its
 * echo is pending, and after the peer's FIN (TLS: close_notify) flushes and
 * closes.
 *
 *   echo-epoll PORT [--tls CERT KEY]      (listens on 127.0.0.1)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

struct peer {
  int fd, eof;
  SSL *ssl;
  size_t off, len;
  char buf[65536];
};

static int epfd;
static SSL_CTX *ctx;

static void drop(struct peer *p) {
  if (p->ssl) SSL_free(p->ssl);
  epoll_ctl(epfd, EPOLL_CTL_DEL, p->fd, NULL);
  close(p->fd);
  free(p);
}

static void want(struct peer *p, uint32_t events) {
  struct epoll_event ev = {.events = events, .data.ptr = p};
  epoll_ctl(epfd, EPOLL_CTL_MOD, p->fd, &ev);
}

/* > 0 bytes, 0 would block, -1 EOF, -2 error */
static ssize_t get(struct peer *p, void *buf, size_t n) {
  if (!p->ssl) {
    ssize_t r = read(p->fd, buf, n);
    if (r > 0) return r;
    if (r == 0) return -1;
    return errno == EAGAIN || errno == EINTR ? 0 : -2;
  }
  int r = SSL_read(p->ssl, buf, (int)n);
  if (r > 0) return r;
  int e = SSL_get_error(p->ssl, r);
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return 0;
  ERR_clear_error();
  return e == SSL_ERROR_ZERO_RETURN ? -1 : -2;
}

static ssize_t put(struct peer *p, const void *buf, size_t n) {
  if (!p->ssl) {
    ssize_t w = write(p->fd, buf, n);
    if (w >= 0) return w;
    return errno == EAGAIN || errno == EINTR ? 0 : -2;
  }
  int w = SSL_write(p->ssl, buf, (int)n);
  if (w > 0) return w;
  int e = SSL_get_error(p->ssl, w);
  ERR_clear_error();
  return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? 0 : -2;
}

static void serve(struct peer *p) {
  for (;;) {
    while (p->off < p->len) {
      ssize_t w = put(p, p->buf + p->off, p->len - p->off);
      if (w == 0) { want(p, EPOLLOUT); return; }
      if (w < 0) { drop(p); return; }
      p->off += (size_t)w;
    }
    p->off = p->len = 0;
    if (p->eof) {
      if (p->ssl) SSL_shutdown(p->ssl);
      drop(p);
      return;
    }
    ssize_t r = get(p, p->buf, sizeof p->buf);
    if (r == 0) { want(p, EPOLLIN); return; }
    if (r == -2) { drop(p); return; }
    if (r == -1) p->eof = 1;
    else p->len = (size_t)r;
  }
}

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: echo-epoll PORT [--tls CERT KEY]\n"); return 2; }
  signal(SIGPIPE, SIG_IGN);
  if (argc >= 5 && !strcmp(argv[2], "--tls")) {
    ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    if (SSL_CTX_use_certificate_chain_file(ctx, argv[3]) != 1 || SSL_CTX_use_PrivateKey_file(ctx, argv[4], SSL_FILETYPE_PEM) != 1) {
      fprintf(stderr, "echo-epoll: cannot load %s / %s\n", argv[3], argv[4]);
      return 1;
    }
  }
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1])), .sin_addr.s_addr = htonl(0x7F000001u)};
  if (bind(lfd, (struct sockaddr *)&a, sizeof a) || listen(lfd, 4096)) { perror("echo-epoll: listen"); return 1; }
  epfd = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
  epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &lev);
  struct epoll_event events[256];
  for (;;) {
    int n = epoll_wait(epfd, events, 256, -1);
    for (int i = 0; i < n; i++) {
      struct peer *p = events[i].data.ptr;
      if (p) { serve(p); continue; }
      int fd;
      while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        p = calloc(1, sizeof *p);
        p->fd = fd;
        if (ctx) {
          p->ssl = SSL_new(ctx);
          SSL_set_fd(p->ssl, fd);
          SSL_set_accept_state(p->ssl);
        }
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = p};
        epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
      }
    }
  }
}
