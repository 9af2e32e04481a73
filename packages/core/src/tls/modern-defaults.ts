/**
 * The TLS defaults commio uses whenever it builds a secure context itself
 * (`sslCtx: true`, `@commio/ssl` contexts): nothing below TLS 1.2, only
 * AEAD cipher suites with forward secrecy, and no renegotiation.
 */
import crypto from 'node:crypto';

/** The lowest protocol version accepted. */
export const MIN_TLS_VERSION = 'TLSv1.2';

/**
 * TLS 1.3 suites first, then TLS 1.2 ECDHE suites with AES-GCM or
 * ChaCha20-Poly1305 (no CBC, no RSA key exchange, no SHA-1, no 3DES, no RC4).
 */
export const MODERN_CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

/** Protocol versions commio refuses, and why (for the error message). */
export const REFUSED_VERSIONS: Readonly<Record<string, string>> = Object.freeze({
  v2: 'SSL 2.0 is broken and not in Node.js',
  v3: 'SSL 3.0 is broken (POODLE) and not in Node.js',
  'tls-v1': 'TLS 1.0 is deprecated (RFC 8996) and refused by commio',
  'tls-v1-1': 'TLS 1.1 is deprecated (RFC 8996) and refused by commio',
  TLSv1: 'TLS 1.0 is deprecated (RFC 8996) and refused by commio',
  'TLSv1.1': 'TLS 1.1 is deprecated (RFC 8996) and refused by commio',
  SSLv3: 'SSL 3.0 is broken (POODLE) and not in Node.js',
});

/**
 * OpenSSL options set on every context commio builds: no TLS 1.2
 * renegotiation (a peer could otherwise make the server redo expensive
 * handshakes on a live connection; TLS 1.3 has none).
 */
export const SECURE_OPTIONS = crypto.constants.SSL_OP_NO_RENEGOTIATION;
