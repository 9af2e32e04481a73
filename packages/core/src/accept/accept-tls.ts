/**
 * TLS for accepted connections (acceptTcpConnectionsCreatingAsyncIoStates
 * with `sslCtx`): every accepted connection gets Node's native TLS (the
 * fast path: OpenSSL reads straight from the TCP handle), and the connection
 * function runs only after a successful handshake. A failed or timed-out
 * handshake destroys the socket first, then `sslErrorCallback(error, handle)`
 * runs through the collection (default: the collection's handler gets the
 * error); the server keeps accepting.
 */
import type net from 'node:net';
import { optionalFunction, type CheckedOptions } from '../options/validate.js';
import type { AcceptingHandle } from './accepting-handle.js';
import type { AsyncIoState } from '../state/async-io-state.js';
import { startHandshake } from '../tls/start-tls.js';
import { TlsAttachment } from '../tls/tls-attachment.js';
import { checkTlsOptions, TlsSetup } from '../tls/tls-setup.js';

/** Called through the collection when an accepted connection's TLS handshake failed (the socket is already destroyed). */
export type SslErrorCallback = (error: Error, handle: AcceptingHandle) => void;

function deliverSslError(handle: AcceptingHandle, callback: SslErrorCallback, error: Error): void {
  callback(error, handle);
}

function raiseSslError(_handle: AcceptingHandle, _unused: null, error: Error): void {
  // No sslErrorCallback: the collection's handler deals with it, as LispWorks' default `error`.
  throw error;
}

/** @internal The TLS part of one accept call. */
export class AcceptTls {
  readonly setup: TlsSetup;
  readonly sslErrorCallback: SslErrorCallback | null;
  /** True when each connection's handshake starts as it is accepted (every side but `'both'`, which waits for the program). */
  readonly handshakesAtOnce: boolean;

  constructor(setup: TlsSetup, sslErrorCallback: SslErrorCallback | null) {
    this.setup = setup;
    this.sslErrorCallback = sslErrorCallback;
    this.handshakesAtOnce = setup.request.side !== 'both';
  }

  /**
   * Gives `state` (just made for the accepted connection `tcp`: attached
   * and paused for `'both'`, else not attached, as `handshakesAtOnce` says)
   * TLS. `ready(handle, state)` runs once the handshake succeeded (at once
   * for `sslSide: 'both'`, which attaches without a handshake). On failure
   * the state is closed (socket destroyed) and `sslErrorCallback` is
   * dispatched with `handle` as the owner. Call it from the connection event.
   */
  start(state: AsyncIoState, tcp: net.Socket, handle: AcceptingHandle, ready: (handle: AcceptingHandle, state: AsyncIoState) => void): void {
    const request = this.setup.request;
    const attachment = new TlsAttachment({
      side: request.side,
      tcp,
      setup: this.setup,
      detachable: false,
      servername: typeof request.tlsextHostName === 'string' ? request.tlsextHostName : null,
      verifyHost: typeof request.tlsextHostName === 'string' ? request.tlsextHostName : null,
    });
    state.tls = attachment;
    if (request.side === 'both') {
      // Plain I/O waits for the handshake the program starts (sslBusy while the role is open).
      ready(handle, state);
      return;
    }
    state.tlsOperation = 'attach';
    startHandshake(state, attachment, request.handshakeTimeout, (s, failure) => {
      s.tlsOperation = null;
      if (failure === null) {
        ready(handle, s);
        return;
      }
      s.close(false);
      const collection = s.collection;
      if (this.sslErrorCallback !== null) collection.dispatch(handle, deliverSslError, handle, this.sslErrorCallback, failure, undefined);
      else collection.dispatch(handle, raiseSslError, handle, null, failure, undefined);
    });
  }
}

/**
 * @internal Checks the TLS options of an accept call (before anything is
 * opened) and builds its context; null without `sslCtx`.
 */
export function prepareAcceptTls(o: CheckedOptions): AcceptTls | null {
  const request = checkTlsOptions(o, null, 'server', true);
  const sslErrorCallback = optionalFunction<SslErrorCallback>(o['sslErrorCallback'], 'options.sslErrorCallback');
  if (request === null) return null;
  return new AcceptTls(new TlsSetup(request), sslErrorCallback);
}

const acceptTlsOfHandle = new WeakMap<AcceptingHandle, AcceptTls>();

/** @internal Remembers the TLS part of the accept call that made `handle`. */
export function bindAcceptTls(handle: AcceptingHandle, acceptTls: AcceptTls | null): void {
  if (acceptTls !== null) acceptTlsOfHandle.set(handle, acceptTls);
}

/** @internal The TLS part of `handle`'s accept call, or null without TLS. */
export function acceptTlsOf(handle: AcceptingHandle): AcceptTls | null {
  return acceptTlsOfHandle.get(handle) ?? null;
}
