/* loadgen's transport: plain sockets or TLS (no verification: loopback only,
 * no session cache or tickets, so every connection is a full handshake). */
#include "loadgen.h"

SSL_CTX *tls_client_context(void) {
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
  if (!ctx) return NULL;
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  return ctx;
}

void tls_start(struct conn *c, SSL_CTX *ctx) {
  c->ssl = SSL_new(ctx);
  SSL_set_fd(c->ssl, c->fd);
  SSL_set_connect_state(c->ssl);
}

int tls_handshake(struct conn *c) {
  int r = SSL_do_handshake(c->ssl);
  if (r == 1) return 1;
  int e = SSL_get_error(c->ssl, r);
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return 0;
  ERR_clear_error();
  return -1;
}

void tls_free(struct conn *c) {
  if (!c->ssl) return;
  SSL_free(c->ssl);
  c->ssl = NULL;
}

int conn_wants_write(const struct conn *c) {
  return c->sent < c->send_limit || (c->ssl && SSL_want_write(c->ssl));
}

ssize_t conn_read(struct conn *c, void *buf, size_t n) {
  if (!c->ssl) {
    ssize_t r = read(c->fd, buf, n);
    if (r > 0) return r;
    if (r == 0) return IO_EOF;
    return errno == EAGAIN || errno == EINTR ? IO_AGAIN : IO_ERROR;
  }
  int r = SSL_read(c->ssl, buf, (int)n);
  if (r > 0) return r;
  switch (SSL_get_error(c->ssl, r)) {
  case SSL_ERROR_WANT_READ:
  case SSL_ERROR_WANT_WRITE: return IO_AGAIN;
  case SSL_ERROR_ZERO_RETURN: return IO_EOF;
  case SSL_ERROR_SYSCALL: ERR_clear_error(); return errno == 0 ? IO_EOF : IO_ERROR;
  default: ERR_clear_error(); return IO_TLS;
  }
}

ssize_t conn_write(struct conn *c, const void *buf, size_t n) {
  if (!c->ssl) {
    ssize_t w = write(c->fd, buf, n);
    if (w >= 0) return w;
    return errno == EAGAIN || errno == EINTR ? IO_AGAIN : IO_ERROR;
  }
  int w = SSL_write(c->ssl, buf, (int)n);
  if (w > 0) return w;
  int e = SSL_get_error(c->ssl, w);
  if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return IO_AGAIN;
  ERR_clear_error();
  return IO_ERROR;
}

/* Ends the sending side: TLS close_notify first, then FIN. */
void conn_half_close(struct conn *c) {
  if (c->ssl) SSL_shutdown(c->ssl);
  shutdown(c->fd, SHUT_WR);
}
