/* loadgen's parts: options, connections, statistics, transport (plain or TLS). */
#ifndef LOADGEN_H
#define LOADGEN_H
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { MODE_PINGPONG, MODE_STREAM, MODE_CONNECT };
enum { PHASE_WARMUP, PHASE_MEASURE, PHASE_DRAIN, PHASE_DONE };
enum { ERR_NONE, ERR_CONNECT, ERR_RESET, ERR_EOF, ERR_MISMATCH, ERR_EXTRA, ERR_TIMEOUT, ERR_TLS, ERR_KINDS };
enum { IO_AGAIN = -1, IO_EOF = -2, IO_ERROR = -3, IO_TLS = -4 };
#define MAX_IN_FLIGHT 1024
#define MAX_SAMPLES (1 << 21)

struct options {
  int port, mode, conns, size, in_flight, tls, server_pid;
  double duration, warmup, timeout, drain;
  const char *label;
};

struct conn {
  int fd, connecting, half_closed, done;
  uint32_t seed, armed;
  uint64_t sent, received, send_limit, head, tail;
  double started, progress;
  double stamps[MAX_IN_FLIGHT]; /* send times of the messages in flight */
  SSL *ssl;
};

struct stats {
  uint64_t messages, rx_bytes, completed, opened, connected, errors, drain_timeouts;
  uint64_t error_kinds[ERR_KINDS];
  double *samples; /* latencies in µs; past MAX_SAMPLES a reservoir */
  uint64_t n_samples, seen;
};

struct cpu {
  double at, self_s, server_s, busy_s, total_s;
};

static inline double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void conn_open(struct conn *c);
void conn_close(struct conn *c);

/* stats.c */
void latency_init(struct stats *st);
void latency_add(struct stats *st, double us);
void cpu_sample(struct cpu *cpu, int server_pid);
void report(const struct options *opt, struct stats *st, const struct cpu *a, const struct cpu *b, double seconds);

/* transport.c */
SSL_CTX *tls_client_context(void);
void tls_start(struct conn *c, SSL_CTX *ctx);
int tls_handshake(struct conn *c); /* 1 done, 0 in progress, -1 failed */
void tls_free(struct conn *c);
int conn_wants_write(const struct conn *c);
ssize_t conn_read(struct conn *c, void *buf, size_t n);
ssize_t conn_write(struct conn *c, const void *buf, size_t n);
void conn_half_close(struct conn *c);
#endif
