/**
 * TLS for outgoing connections (createAsyncIoStateAndConnectedTcpSocket with
 * `sslCtx`): once TCP is connected the socket gets Node's native TLS as the
 * client, the server's certificate is verified (chain, and host name against
 * `tlsextHostName` or else the host connected to) unless the context opts
 * out with `rejectUnauthorized: false`, and the connect callback runs after
 * the handshake. Failures reach the callback as HandshakeFailedError (the
 * TLS error as `cause`) or HandshakeTimeoutError.
 */
import net from 'node:net';
import type { CheckedOptions } from '../options/validate.js';
import type { AsyncIoState } from '../state/async-io-state.js';
import { startHandshake } from './start-tls.js';
import { TlsAttachment } from './tls-attachment.js';
import { checkTlsOptions, TlsSetup } from './tls-setup.js';

/** @internal The TLS part of one connect call. */
export class ConnectTls {
  readonly setup: TlsSetup;
  readonly host: string;

  constructor(setup: TlsSetup, host: string) {
    this.setup = setup;
    this.host = host;
  }

  /** Blocks the state's operations until the handshake ran (call when the state is made). */
  reserve(state: AsyncIoState): void {
    state.tlsOperation = 'connect';
  }

  /**
   * Starts the handshake on the just connected `state` (call from the
   * connect event). `finish(failure)` runs once; after a failure the
   * connection is destroyed (the caller closes the state).
   */
  start(state: AsyncIoState, finish: (failure: Error | null) => void): void {
    const request = this.setup.request;
    const fallback = this.setup.settings().servername ?? null;
    const named = typeof request.tlsextHostName === 'string' ? request.tlsextHostName : null;
    const servername = named ?? (request.tlsextHostName === true ? (net.isIP(this.host) === 0 ? this.host : fallback) : fallback);
    const attachment = new TlsAttachment({
      side: 'client',
      tcp: state.socket as net.Socket,
      setup: this.setup,
      detachable: false,
      servername,
      verifyHost: named ?? fallback ?? this.host,
    });
    state.tls = attachment;
    state.tlsOperation = 'attach';
    startHandshake(state, attachment, request.handshakeTimeout, (s, failure) => {
      s.tlsOperation = null;
      finish(failure);
    });
  }
}

/**
 * @internal Checks the TLS options of a connect call (before anything is
 * opened) and builds its context; null without `sslCtx`.
 */
export function prepareConnectTls(o: CheckedOptions, host: string): ConnectTls | null {
  const request = checkTlsOptions(o, null, 'client', false);
  if (request === null) return null;
  return new ConnectTls(new TlsSetup(request), host);
}
