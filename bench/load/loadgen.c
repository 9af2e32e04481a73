/*
 * loadgen: a one-process epoll load generator for echo servers on loopback.
 *
 *   loadgen --port N [--mode pingpong|stream|connect] [-c CONNS] [-s SIZE]
 *           [-p IN_FLIGHT] [-d SECONDS] [-w WARMUP] [--tls] [--timeout S]
 *           [--drain S] [--server-pid PID] [--label TEXT]
 *
 * pingpong: each connection sends SIZE bytes and waits for them back.
 * stream:   each connection keeps IN_FLIGHT messages of SIZE bytes in flight.
 * connect:  CONNS workers connect, echo SIZE bytes once, close, again.
 * Every connection sends its own deterministic byte sequence and checks each
 * echoed byte against it. Only the measured window (after the warm-up) counts.
 * Afterwards the connections half-close and read the rest until the server's
 * EOF (bounded by --drain). Prints one JSON line on stdout, a summary on
 * stderr; exit 0 only when nothing failed. Targets loopback only.
 */
#include "loadgen.h"

static struct options opt = {
  .port = 0, .mode = MODE_PINGPONG, .conns = 50, .size = 64, .in_flight = 8,
  .duration = 5, .warmup = 1, .timeout = 5, .drain = 3, .server_pid = 0, .label = "",
};
static struct stats st;
static int epfd;
static SSL_CTX *tls_ctx;
static struct conn *conns;
static int phase = PHASE_WARMUP;
static uint64_t next_src;

static void usage(void) {
  fprintf(stderr, "usage: loadgen --port N [--mode pingpong|stream|connect] [-c CONNS] [-s SIZE] [-p IN_FLIGHT]\n"
                  "               [-d SECONDS] [-w WARMUP] [--tls] [--timeout S] [--drain S] [--server-pid PID] [--label TEXT]\n");
  exit(2);
}

static void parse(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    int takes = 1;
    if (!strcmp(a, "--tls")) { opt.tls = 1; takes = 0; }
    else if (!v) usage();
    else if (!strcmp(a, "--port")) opt.port = atoi(v);
    else if (!strcmp(a, "--mode")) {
      if (!strcmp(v, "pingpong")) opt.mode = MODE_PINGPONG;
      else if (!strcmp(v, "stream")) opt.mode = MODE_STREAM;
      else if (!strcmp(v, "connect")) opt.mode = MODE_CONNECT;
      else usage();
    }
    else if (!strcmp(a, "-c")) opt.conns = atoi(v);
    else if (!strcmp(a, "-s")) opt.size = atoi(v);
    else if (!strcmp(a, "-p")) opt.in_flight = atoi(v);
    else if (!strcmp(a, "-d")) opt.duration = atof(v);
    else if (!strcmp(a, "-w")) opt.warmup = atof(v);
    else if (!strcmp(a, "--timeout")) opt.timeout = atof(v);
    else if (!strcmp(a, "--drain")) opt.drain = atof(v);
    else if (!strcmp(a, "--server-pid")) opt.server_pid = atoi(v);
    else if (!strcmp(a, "--label")) opt.label = v;
    else usage();
    i += takes;
  }
  if (opt.port <= 0 || opt.port > 65535 || opt.conns < 1 || opt.conns > 100000 || opt.size < 1 ||
      opt.size > (1 << 20) || opt.in_flight < 1 || opt.in_flight > 1024 || opt.duration <= 0 ||
      opt.duration > 3600 || opt.warmup < 0 || opt.warmup > 600)
    usage();
}

/* The byte at `offset` of connection `seed`'s sequence. */
static inline uint8_t pattern(uint32_t seed, uint64_t offset) {
  uint64_t x = (offset >> 4) * 0x9E3779B97F4A7C15ull ^ (uint64_t)seed * 0xC2B2AE3D27D4EB4Full;
  x ^= x >> 29;
  return (uint8_t)(x >> (8 * (offset & 7)) ^ offset);
}

static void fail(struct conn *c, int kind) {
  if (phase != PHASE_DONE) {
    st.errors++;
    st.error_kinds[kind]++;
  }
  conn_close(c);
  if (opt.mode == MODE_CONNECT && phase < PHASE_DRAIN) conn_open(c);
}

static void arm(struct conn *c) {
  uint32_t want = EPOLLIN | EPOLLRDHUP;
  if (c->connecting || conn_wants_write(c)) want |= EPOLLOUT;
  if (want == c->armed) return;
  struct epoll_event ev = {.events = want, .data.ptr = c};
  epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
  c->armed = want;
}

void conn_open(struct conn *c) {
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->fd < 0) { st.errors++; st.error_kinds[ERR_CONNECT]++; return; }
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (opt.mode == MODE_CONNECT) {
    /* Spread source addresses over 127.0.0.1-8 so TIME_WAIT does not use up the ports. */
    struct sockaddr_in src = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7F000001u + (uint32_t)(next_src++ % 8))};
    bind(c->fd, (struct sockaddr *)&src, sizeof src);
  }
  struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons((uint16_t)opt.port), .sin_addr.s_addr = htonl(0x7F000001u)};
  c->seed = (uint32_t)(c - conns) * 2654435761u + (uint32_t)next_src;
  c->sent = c->received = c->send_limit = 0;
  c->started = now();
  c->progress = c->started;
  c->head = c->tail = 0;
  c->connecting = 1;
  c->half_closed = c->done = 0;
  c->armed = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
  if (connect(c->fd, (struct sockaddr *)&dst, sizeof dst) < 0 && errno != EINPROGRESS) {
    close(c->fd);
    c->fd = -1;
    st.errors++;
    st.error_kinds[ERR_CONNECT]++;
    return;
  }
  struct epoll_event ev = {.events = c->armed, .data.ptr = c};
  epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev);
  if (opt.tls) tls_start(c, tls_ctx);
  st.opened++;
}

void conn_close(struct conn *c) {
  if (c->fd < 0) return;
  tls_free(c);
  epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  c->fd = -1;
}

/* What the connection may send now: one message at a time, or IN_FLIGHT of them. */
static void plan_sends(struct conn *c) {
  if (phase >= PHASE_DRAIN || c->connecting) return;
  uint64_t size = (uint64_t)opt.size;
  switch (opt.mode) {
  case MODE_PINGPONG:
  case MODE_CONNECT:
    if (c->send_limit == c->received && !(opt.mode == MODE_CONNECT && c->received >= size)) {
      c->send_limit += size;
      c->stamps[c->tail++ % MAX_IN_FLIGHT] = now();
    }
    break;
  case MODE_STREAM:
    while (c->send_limit < c->received + size * (uint64_t)opt.in_flight) {
      c->send_limit += size;
      c->stamps[c->tail++ % MAX_IN_FLIGHT] = now();
    }
    break;
  }
}

/* Writes what is planned, from the pattern, until the kernel (or TLS) pushes back. */
static int pump_out(struct conn *c) {
  uint8_t buf[16384];
  while (c->sent < c->send_limit) {
    size_t n = (size_t)(c->send_limit - c->sent);
    if (n > sizeof buf) n = sizeof buf;
    for (size_t i = 0; i < n; i++) buf[i] = pattern(c->seed, c->sent + i);
    ssize_t w = conn_write(c, buf, n);
    if (w == IO_AGAIN) return 0;
    if (w < 0) return ERR_RESET;
    c->sent += (uint64_t)w;
    c->progress = now();
  }
  return 0;
}

/* Reads and checks echoed bytes; completes messages and records their latency. */
static int pump_in(struct conn *c) {
  uint8_t buf[65536];
  for (;;) {
    ssize_t r = conn_read(c, buf, sizeof buf);
    if (r == IO_AGAIN) return 0;
    if (r == IO_EOF) {
      if (c->received < c->sent) return ERR_EOF;
      c->done = 1;
      return 0;
    }
    if (r < 0) return r == IO_TLS ? ERR_TLS : ERR_RESET;
    if (c->received + (uint64_t)r > c->sent) return ERR_EXTRA;
    for (ssize_t i = 0; i < r; i++)
      if (buf[i] != pattern(c->seed, c->received + (uint64_t)i)) return ERR_MISMATCH;
    uint64_t before = c->received / (uint64_t)opt.size;
    c->received += (uint64_t)r;
    c->progress = now();
    uint64_t after = c->received / (uint64_t)opt.size;
    for (uint64_t m = before; m < after; m++) {
      double started = opt.mode == MODE_CONNECT ? c->started : c->stamps[c->head % MAX_IN_FLIGHT];
      c->head++;
      if (phase == PHASE_MEASURE) {
        st.messages++;
        latency_add(&st, (now() - started) * 1e6);
      }
    }
    if (phase == PHASE_MEASURE) st.rx_bytes += (uint64_t)r;
  }
}

static void on_event(struct conn *c, uint32_t events) {
  if (c->fd < 0) return;
  if (c->connecting) {
    int err = 0;
    socklen_t len = sizeof err;
    if (events & (EPOLLERR | EPOLLHUP)) getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err) { fail(c, ERR_CONNECT); return; }
    if (!(events & (EPOLLOUT | EPOLLIN))) return;
    if (opt.tls) {
      int hs = tls_handshake(c);
      if (hs < 0) { fail(c, ERR_TLS); return; }
      if (hs == 0) { arm(c); return; }
    }
    c->connecting = 0;
    st.connected++;
  }
  plan_sends(c);
  int e = pump_out(c);
  if (!e) e = pump_in(c);
  if (e) { fail(c, e); return; }
  if (opt.mode == MODE_CONNECT && c->received == (uint64_t)opt.size && phase < PHASE_DRAIN) {
    if (phase == PHASE_MEASURE) st.completed++;
    conn_close(c);
    conn_open(c);
    return;
  }
  if (c->done) { conn_close(c); return; }
  if (phase == PHASE_DRAIN && !c->half_closed && c->sent == c->send_limit) {
    conn_half_close(c);
    c->half_closed = 1;
  }
  plan_sends(c);
  if (pump_out(c)) { fail(c, ERR_RESET); return; }
  arm(c);
}

static int open_count(void) {
  int n = 0;
  for (int i = 0; i < opt.conns; i++) n += conns[i].fd >= 0;
  return n;
}

int main(int argc, char **argv) {
  parse(argc, argv);
  signal(SIGPIPE, SIG_IGN);
  alarm((unsigned)(opt.warmup + opt.duration + opt.drain + 30)); /* hard deadline */
  if (opt.tls && !(tls_ctx = tls_client_context())) { fprintf(stderr, "loadgen: no TLS\n"); return 2; }
  epfd = epoll_create1(EPOLL_CLOEXEC);
  conns = calloc((size_t)opt.conns, sizeof *conns);
  latency_init(&st);
  for (int i = 0; i < opt.conns; i++) { conns[i].fd = -1; conn_open(&conns[i]); }

  double t0 = now(), measure_start = t0 + opt.warmup, measure_end = measure_start + opt.duration;
  double drain_end = 0;
  struct cpu cpu_start = {0}, cpu_end = {0};
  struct epoll_event events[256];
  for (;;) {
    int n = epoll_wait(epfd, events, 256, 50);
    for (int i = 0; i < n; i++) on_event(events[i].data.ptr, events[i].events);
    double t = now();
    if (phase == PHASE_WARMUP && t >= measure_start) {
      phase = PHASE_MEASURE;
      cpu_sample(&cpu_start, opt.server_pid);
      measure_start = t;
    } else if (phase == PHASE_MEASURE && t >= measure_end) {
      cpu_sample(&cpu_end, opt.server_pid);
      measure_end = t;
      phase = PHASE_DRAIN;
      drain_end = t + opt.drain;
      for (int i = 0; i < opt.conns; i++) {
        if (conns[i].fd >= 0 && conns[i].connecting) conn_close(&conns[i]);
        else if (conns[i].fd >= 0) on_event(&conns[i], EPOLLOUT);
      }
    } else if (phase == PHASE_DRAIN && (t >= drain_end || open_count() == 0)) {
      st.drain_timeouts = (uint64_t)open_count();
      phase = PHASE_DONE;
      break;
    }
    /* A connection without progress for --timeout seconds has stalled. */
    for (int i = 0; i < opt.conns && phase != PHASE_DRAIN; i++) {
      struct conn *c = &conns[i];
      if (c->fd >= 0 && c->sent > c->received && t - c->progress > opt.timeout) fail(c, ERR_TIMEOUT);
      else if (c->fd < 0 && opt.mode == MODE_CONNECT && phase < PHASE_DRAIN) conn_open(c);
    }
  }
  for (int i = 0; i < opt.conns; i++) conn_close(&conns[i]);
  report(&opt, &st, &cpu_start, &cpu_end, measure_end - measure_start);
  return st.errors > 0 ? 1 : 0;
}
