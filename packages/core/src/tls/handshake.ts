/**
 * Running one TLS handshake on a TLS socket: waits for it to finish, checks
 * the peer's certificate as configured, bounds it with `handshakeTimeout`,
 * and reports exactly once: `null`, a `HandshakeTimeoutError`, or a
 * `HandshakeFailedError` (`peerClosed` when the peer closed the connection
 * during the handshake; `cause` is the TLS or socket error).
 *
 * Listeners are shared module-level functions that find their handshake
 * through the socket, as the state's are.
 */
import tls from 'node:tls';
import { HandshakeFailedError, HandshakeTimeoutError, PeerClosedError, UnsupportedError } from '../errors.js';
import { peerChainError, releaseTlsControl, startClientHandshake } from '../node-internals.js';
import { secondsToMs } from '../options/validate.js';
import { clearTimer, setTimer, type Timer } from '../clock.js';
import type { SslConnectionSettings } from './ssl-context.js';
import { ignoreLateErrors } from '../transports/socket-events.js';

/** `null` after a successful handshake, else the failure. */
export type HandshakeDone = (failure: Error | null) => void;

/** What the handshake checks. */
export interface HandshakePlan {
  role: 'server' | 'client';
  settings: SslConnectionSettings;
  /** Client: the host name the server's certificate must match (null: only the chain is checked). */
  verifyHost: string | null;
  /** Seconds, or null for no limit. */
  timeout: number | null;
}

/** Public but loosely typed parts of a TLS socket that the handshake sets. */
interface TlsInternals {
  setServername?: (name: string) => void;
  authorized: boolean;
  authorizationError: Error | string | null;
}

const kHandshake = Symbol('commio.handshake');
type SocketWithHandshake = tls.TLSSocket & { [kHandshake]?: Handshake | undefined };

function onSecure(this: tls.TLSSocket): void {
  (this as SocketWithHandshake)[kHandshake]?.secure();
}
function onError(this: tls.TLSSocket, error: Error): void {
  (this as SocketWithHandshake)[kHandshake]?.error(error);
}
function onEnd(this: tls.TLSSocket): void {
  (this as SocketWithHandshake)[kHandshake]?.closed(null);
}
function onClose(this: tls.TLSSocket): void {
  (this as SocketWithHandshake)[kHandshake]?.closed(null);
}
function onTimer(handshake: Handshake): void {
  handshake.timedOut();
}

function isPeerClose(error: Error): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ECONNRESET' || code === 'EPIPE' || code === 'ECONNABORTED';
}

function peerClosedError(cause: Error | null): HandshakeFailedError {
  const reason = cause ?? new PeerClosedError('the peer closed the connection during the TLS handshake');
  return new HandshakeFailedError(`the peer closed the connection during the TLS handshake (${(reason as NodeJS.ErrnoException).code ?? reason.message})`, {
    cause: reason,
    peerClosed: true,
  });
}

/** One handshake in progress. */
class Handshake {
  readonly socket: tls.TLSSocket;
  readonly plan: HandshakePlan;
  readonly done: HandshakeDone;
  timer: Timer | null = null;

  constructor(socket: tls.TLSSocket, plan: HandshakePlan, done: HandshakeDone) {
    this.socket = socket;
    this.plan = plan;
    this.done = done;
  }

  secure(): void {
    const socket = this.socket;
    const internals = socket as unknown as TlsInternals;
    const { role, settings } = this.plan;
    let problem: Error | null = null;
    if (role === 'client') {
      problem = peerChainError(socket);
      if (problem === null && this.plan.verifyHost !== null && !socket.isSessionReused()) {
        const check = settings.checkServerIdentity ?? tls.checkServerIdentity;
        problem = check(this.plan.verifyHost, socket.getPeerCertificate(true)) ?? null;
      }
      if (problem !== null && settings.rejectUnauthorized === false) {
        internals.authorized = false;
        internals.authorizationError = (problem as NodeJS.ErrnoException).code ?? problem.message;
        problem = null;
      } else if (problem === null) {
        internals.authorized = true;
      }
    } else if (settings.requestCert === true) {
      problem = peerChainError(socket);
      if (problem !== null && settings.rejectUnauthorized === false) {
        internals.authorizationError = (problem as NodeJS.ErrnoException).code ?? problem.message;
        problem = null;
      } else if (problem === null) {
        internals.authorized = true;
      }
    }
    if (problem !== null) {
      this.settle(new HandshakeFailedError(`the peer's certificate was refused: ${problem.message}`, { cause: problem }));
      return;
    }
    // From now on TLS errors are emitted as 'error' like on any socket
    // (before, Node keeps them to its own server and client code).
    releaseTlsControl(socket);
    this.settle(null);
  }

  error(error: Error): void {
    if (isPeerClose(error)) this.settle(peerClosedError(error));
    else this.settle(new HandshakeFailedError(`TLS handshake failed: ${error.message}`, { cause: error }));
  }

  closed(cause: Error | null): void {
    this.settle(peerClosedError(cause));
  }

  timedOut(): void {
    this.timer = null;
    this.settle(new HandshakeTimeoutError(`the TLS handshake took more than ${this.plan.timeout} s`));
  }

  settle(failure: Error | null): void {
    if (!this.#end()) return;
    if (failure !== null) ignoreLateErrors(this.socket);
    this.done(failure);
  }

  /** Ends the handshake without a report (its owner gave up on it). */
  cancel(): void {
    if (this.#end()) ignoreLateErrors(this.socket);
  }

  /** Unhooks the handshake from its socket and stops its timer; false when it had ended already. */
  #end(): boolean {
    const socket = this.socket as SocketWithHandshake;
    if (socket[kHandshake] !== this) return false;
    socket[kHandshake] = undefined;
    socket.removeListener('secure', onSecure);
    socket.removeListener('error', onError);
    socket.removeListener('end', onEnd);
    socket.removeListener('close', onClose);
    if (this.timer !== null) {
      clearTimer(this.timer);
      this.timer = null;
    }
    return true;
  }
}

/**
 * Watches the handshake of `socket` (created, not yet started) and starts it
 * for a client. `done` runs once, from a Node.js event (never inside this
 * call). Returns a canceller.
 */
export function runHandshake(socket: tls.TLSSocket, plan: HandshakePlan, servername: string | null, done: HandshakeDone): () => void {
  const handshake = new Handshake(socket, plan, done);
  (socket as SocketWithHandshake)[kHandshake] = handshake;
  socket.on('secure', onSecure);
  socket.on('error', onError);
  socket.on('end', onEnd);
  socket.on('close', onClose);
  if (plan.timeout !== null) {
    // Through commio's clock (unref'd), so a fake clock in tests drives it.
    handshake.timer = setTimer(onTimer, secondsToMs(plan.timeout), handshake);
  }
  if (plan.role === 'client') {
    if (servername !== null) (socket as unknown as TlsInternals).setServername?.(servername);
    // Node.js starts a client handshake itself only from tls.connect.
    if (!startClientHandshake(socket)) {
      const missing = new UnsupportedError('this Node.js cannot start a TLS client handshake on a socket it did not connect (no TLSSocket#_start)');
      setImmediate(() => handshake.settle(new HandshakeFailedError(`TLS handshake failed: ${missing.message}`, { cause: missing })));
    }
  }
  return () => handshake.cancel();
}

/** A new TLS socket over `transport` for `role` with `settings` (the handshake is not started). */
export function makeTlsSocket(transport: import('node:net').Socket | import('node:stream').Duplex, role: 'server' | 'client', settings: SslConnectionSettings): tls.TLSSocket {
  const options: tls.TLSSocketOptions = { isServer: role === 'server', secureContext: settings.secureContext };
  if (role === 'server') {
    if (settings.SNICallback !== undefined) options.SNICallback = settings.SNICallback;
    if (settings.requestCert === true) {
      options.requestCert = true;
      options.rejectUnauthorized = settings.rejectUnauthorized !== false;
    }
  }
  if (settings.ALPNProtocols !== undefined) options.ALPNProtocols = [...settings.ALPNProtocols];
  return new tls.TLSSocket(transport, options);
}
