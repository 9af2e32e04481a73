/**
 * TLS on live states: asyncIoStateAttachSsl, asyncIoStateDetachSsl,
 * asyncIoStateHandshake, the role choice for `sslSide: 'both'`, and
 * asyncIoSslFailureIndicatorFromFailureArgs.
 *
 * Attach, detach and handshake are allowed only while no other operation is
 * active on the state, and nothing may start until their callback has run.
 * TLS attached here runs over a RecordFeeder so that it can be detached
 * again (STARTTLS and back); see record-feeder.ts for why and its cost.
 */
import { logger } from '../debug.js';
import { InvalidArgumentError, OperationInProgressError, StateClosedError, UnsupportedError, errorCode } from '../errors.js';
import { checkFunction, checkOptions, checkSeconds, keys } from '../options/validate.js';
import { checkOpenState, type AsyncIoState } from '../state/async-io-state.js';
import { READ_NONE } from '../state/read-side.js';
import type { StateCallback } from '../state/callbacks.js';
import { startHandshake, type HandshakeReport } from './start-tls.js';
import { TlsAttachment, tlsOf } from './tls-attachment.js';
import {
  checkTlsOptions,
  type CtxConfigureCallback,
  type SslConfigureCallback,
  type SslCtx,
  type SslSideChoice,
  TlsSetup,
} from './tls-setup.js';
import { HandshakeFailedError } from '../errors.js';
import type { TLSSocket } from 'node:tls';
import { ignoreLateErrors } from '../transports/socket-events.js';

const log = logger('ssl');

/** `(state, failure)`: `failure` is null on success, else the error (see asyncIoSslFailureIndicatorFromFailureArgs). */
export type SslCallback = (state: AsyncIoState, failure: Error | null) => void;

/** Options of asyncIoStateAttachSsl. */
export interface AttachSslOptions {
  /** The TLS role; `'both'` attaches without a handshake (choose the role, then asyncIoStateHandshake). @default 'server' */
  sslSide?: SslSideChoice;
  /** The context. @default true */
  sslCtx?: SslCtx | null;
  /** Fills the options of a context commio builds (keyword `sslCtx` only). */
  ctxConfigureCallback?: CtxConfigureCallback | null;
  /** Called with the new TLS socket before its handshake. */
  sslConfigureCallback?: SslConfigureCallback | null;
  /** Seconds the handshake may take; `null` for no limit. @default 10 */
  handshakeTimeout?: number | null;
  /** Client side: the SNI host name (also the name the certificate must match); `true`: the context's `servername`. */
  tlsextHostName?: string | true | null;
}

const ATTACH_KEYS = keys('sslSide', 'sslCtx', 'ctxConfigureCallback', 'sslConfigureCallback', 'handshakeTimeout', 'tlsextHostName');

/** Throws unless no operation is active on `state` (attach, detach and handshake need it idle). */
function assertIdle(state: AsyncIoState, what: string): void {
  if (state.tlsOperation !== null) {
    throw new OperationInProgressError(`a TLS attach, detach or handshake already runs on ${String(state)}`);
  }
  if (state.reader.op !== READ_NONE) throw new OperationInProgressError(`${what} needs ${String(state)} idle, but a read is active`);
  if (state.writer.activeCount > 0) throw new OperationInProgressError(`${what} needs ${String(state)} idle, but a write is in flight`);
}

function reportTo(callback: SslCallback): HandshakeReport {
  return (state, failure, fromEvent) => {
    state.tlsOperation = null;
    state.deliver(fromEvent, callback, failure);
  };
}

/**
 * Attaches TLS to a live plain TCP state (STARTTLS): bytes received so far
 * and not consumed belong to TLS; the handshake runs (unless `sslSide` is
 * `'both'`), then `callback(state, null)`; on failure `callback(state, error)`
 * after the connection was destroyed, the state left without TLS and its
 * readStatus `'timeout'`, `'eof'` (peer closed) or the error. TLS attached
 * here can be taken off again with asyncIoStateDetachSsl.
 */
export function asyncIoStateAttachSsl(state: AsyncIoState, callback: SslCallback, options?: AttachSslOptions): void {
  const s = checkOpenState(state);
  const cb = checkFunction<SslCallback>(callback, 'callback');
  const o = checkOptions(options, ATTACH_KEYS);
  const request = checkTlsOptions(o, true, 'server', true);
  if (request === null) throw new InvalidArgumentError('options.sslCtx', 'must give a context (or be left out for true) to attach TLS');
  // A UDP state's kind refuses: TLS runs over a stream.
  s.kind.streamReader(s, 'TLS runs over TCP only');
  if (s.tls !== null) throw new InvalidArgumentError('state', `${String(s)} already has TLS attached`);
  // TLS runs on Node's sockets: a state on another transport (native) cannot take it.
  if (s.transport !== null && s.socket === null) throw new UnsupportedError(`${String(s)} is on the ${s.transport.kind} transport: TLS needs transport 'node'`);
  assertIdle(s, 'asyncIoStateAttachSsl');
  const tcp = s.socket;
  if (tcp === null || tcp.destroyed) throw new StateClosedError(`the connection of ${String(s)} is gone`);
  const setup = new TlsSetup(request);
  const name = typeof request.tlsextHostName === 'string' ? request.tlsextHostName : null;
  const attachment = new TlsAttachment({
    side: request.side,
    tcp,
    setup,
    detachable: true,
    servername: name ?? (request.tlsextHostName === true ? (setup.settings().servername ?? null) : null),
    verifyHost: name ?? setup.settings().servername ?? null,
  });
  s.tls = attachment;
  if (request.side === 'both') {
    // Attached without a handshake: plain I/O stays blocked until it ran.
    log('%s: TLS attached, role not chosen yet', s);
    s.deliver(false, cb, null);
    return;
  }
  s.tlsOperation = 'attach';
  startHandshake(s, attachment, request.handshakeTimeout, reportTo(cb));
}

/** Chooses the server role for a state attached with `sslSide: 'both'` (LispWorks' ssl-set-accept-state). */
export function asyncIoStateSslSetAcceptState(state: AsyncIoState): void {
  chooseRole(state, 'server');
}

/** Chooses the client role for a state attached with `sslSide: 'both'` (LispWorks' ssl-set-connect-state). */
export function asyncIoStateSslSetConnectState(state: AsyncIoState): void {
  chooseRole(state, 'client');
}

function chooseRole(state: AsyncIoState, role: 'server' | 'client'): void {
  const s = checkOpenState(state);
  const attachment = tlsOf(s);
  if (attachment === null || attachment.side !== 'both') throw new InvalidArgumentError('state', `must have TLS attached with sslSide 'both'`);
  if (!attachment.waitingForRole || s.tlsOperation !== null) throw new OperationInProgressError(`the TLS handshake of ${String(s)} has already started`);
  attachment.role = role;
}

/**
 * Runs the TLS handshake of a state attached with `sslSide: 'both'` (after
 * its role was chosen), then `callback(state, failure)` as for attach.
 * `timeout`: seconds, `null` for no limit; absent: the `handshakeTimeout`
 * given when TLS was attached. On a state whose handshake already happened
 * it succeeds at once (commio does not renegotiate).
 */
export function asyncIoStateHandshake(state: AsyncIoState, callback: SslCallback, timeout?: number | null): void {
  const s = checkOpenState(state);
  const cb = checkFunction<SslCallback>(callback, 'callback');
  const seconds = timeout === undefined ? undefined : checkSeconds(timeout, 'timeout');
  const attachment = tlsOf(s);
  if (attachment === null) throw new InvalidArgumentError('state', `${String(s)} has no TLS attached`);
  assertIdle(s, 'asyncIoStateHandshake');
  if (!attachment.waitingForRole) {
    s.deliver(false, cb, null);
    return;
  }
  if (attachment.role === null) {
    throw new InvalidArgumentError('state', "has sslSide 'both': choose its role with asyncIoStateSslSetAcceptState or asyncIoStateSslSetConnectState first");
  }
  s.tlsOperation = 'handshake';
  const limit = seconds === undefined ? attachment.setup.request.handshakeTimeout : seconds === null || seconds <= 0 ? null : seconds;
  startHandshake(s, attachment, limit, reportTo(cb));
}

/**
 * Takes TLS off the state: sends close_notify, waits for the peer's, then
 * the state goes on in plain text on the same connection, with no byte lost
 * or duplicated (decrypted bytes that came before the peer's close_notify
 * and plain bytes after it stay buffered, in order). `callback(state)` then
 * runs; if the connection broke meanwhile, the statuses say so. Without TLS
 * it only calls back. Only TLS attached with asyncIoStateAttachSsl can be
 * detached: accept and connect use Node's native TLS, which cannot be
 * taken off a connection (`ERR_COMMIO_UNSUPPORTED`).
 */
export function asyncIoStateDetachSsl(state: AsyncIoState, callback: StateCallback): void {
  const s = checkOpenState(state);
  const cb = checkFunction<StateCallback>(callback, 'callback');
  const attachment = tlsOf(s);
  if (attachment === null) {
    s.deliver(false, cb);
    return;
  }
  assertIdle(s, 'asyncIoStateDetachSsl');
  if (attachment.waitingForRole) {
    // No handshake happened: there is no TLS to end.
    s.tls = null;
    s.deliver(false, cb);
    return;
  }
  const feeder = attachment.feeder;
  if (!attachment.detachable || feeder === null) {
    throw new UnsupportedError(
      `TLS on ${String(s)} was set up by accept or connect with Node's native TLS, which cannot be taken off a connection; ` +
        'TLS attached with asyncIoStateAttachSsl can be detached',
    );
  }
  s.tlsOperation = 'detach';
  s.flushAfterPass();
  const socket = s.detachTransport() as TLSSocket;
  new Detach(s, attachment, socket, cb).start();
}

const kDetach = Symbol('commio.detach');
type SocketWithDetach = TLSSocket & { [kDetach]?: Detach | undefined };

function onDetachData(this: TLSSocket, chunk: Buffer): void {
  (this as SocketWithDetach)[kDetach]?.data(chunk);
}
function onDetachEnd(this: TLSSocket): void {
  (this as SocketWithDetach)[kDetach]?.peerClosed();
}
function onDetachFinish(this: TLSSocket): void {
  (this as SocketWithDetach)[kDetach]?.ourClosed();
}
function onDetachError(this: TLSSocket, error: Error): void {
  (this as SocketWithDetach)[kDetach]?.broken(error);
}
function onDetachClose(this: TLSSocket): void {
  (this as SocketWithDetach)[kDetach]?.broken(null);
}
/** One detach under way: our close_notify out, the peer's in, then back to plain. */
class Detach {
  readonly #state: AsyncIoState;
  readonly #attachment: TlsAttachment;
  readonly #socket: TLSSocket;
  readonly #callback: StateCallback;
  #peerDone = false;
  #ourDone = false;

  constructor(state: AsyncIoState, attachment: TlsAttachment, socket: TLSSocket, callback: StateCallback) {
    this.#state = state;
    this.#attachment = attachment;
    this.#socket = socket;
    this.#callback = callback;
  }

  start(): void {
    const socket = this.#socket as SocketWithDetach;
    const feeder = this.#attachment.feeder as NonNullable<TlsAttachment['feeder']>;
    socket[kDetach] = this;
    socket.on('data', onDetachData);
    socket.on('end', onDetachEnd);
    socket.on('finish', onDetachFinish);
    socket.on('error', onDetachError);
    socket.on('close', onDetachClose);
    log('%s: detaching TLS', this.#state);
    this.#peerDone = socket.readableEnded || feeder.stopped;
    feeder.detaching = true;
    if (socket.writableFinished) this.#ourDone = true;
    else socket.end();
    // Bytes the peer sent before its close_notify are the state's input.
    socket.resume();
    this.#maybeDone();
  }

  data(chunk: Buffer): void {
    this.#state.reader.onData(chunk);
  }

  peerClosed(): void {
    this.#peerDone = true;
    this.#maybeDone();
  }

  ourClosed(): void {
    this.#ourDone = true;
    this.#maybeDone();
  }

  #unhook(): boolean {
    const socket = this.#socket as SocketWithDetach;
    if (socket[kDetach] !== this) return false;
    socket[kDetach] = undefined;
    socket.removeListener('data', onDetachData);
    socket.removeListener('end', onDetachEnd);
    socket.removeListener('finish', onDetachFinish);
    socket.removeListener('error', onDetachError);
    socket.removeListener('close', onDetachClose);
    ignoreLateErrors(socket);
    return true;
  }

  #maybeDone(): void {
    if (!this.#peerDone || !this.#ourDone || !this.#unhook()) return;
    const state = this.#state;
    const attachment = this.#attachment;
    const feeder = attachment.feeder as NonNullable<TlsAttachment['feeder']>;
    const socket = this.#socket;
    const rest = feeder.release();
    for (let chunk = socket.read() as Buffer | null; chunk !== null; chunk = socket.read() as Buffer | null) state.reader.onData(chunk);
    socket.destroy();
    state.tls = null;
    state.reader.reopenInput();
    if (rest !== null) state.reader.onData(rest);
    state.attachTransport(feeder.raw);
    if (feeder.rawEnded) state.reader.onEnd();
    log('%s: TLS detached, %d plain bytes buffered', state, state.reader.bufferedLength);
    this.#finish();
  }

  broken(error: Error | null): void {
    if (!this.#unhook()) return;
    const state = this.#state;
    log('%s: connection broke while detaching TLS: %s', state, error === null ? 'closed' : (errorCode(error) ?? error.message));
    this.#socket.destroy();
    ignoreLateErrors(this.#attachment.tcp);
    this.#attachment.tcp.destroy();
    state.tls = null;
    if (error !== null) {
      state.reader.onError(error);
      state.writer.onError(error);
    } else {
      state.reader.onEnd();
    }
    this.#finish();
  }

  #finish(): void {
    const state = this.#state;
    state.tlsOperation = null;
    state.deliver(true, this.#callback);
  }
}

/**
 * What kind of TLS failure `failure` (the second argument of a connect or
 * attach callback, or the error given to `sslErrorCallback`) is: `'timeout'`
 * (the handshake timed out), `'closed'` (the peer closed the connection
 * during the handshake), the TLS error itself, or `null` when it is not a
 * TLS failure (for example `ECONNREFUSED`).
 */
export function asyncIoSslFailureIndicatorFromFailureArgs(failure: unknown): 'timeout' | 'closed' | Error | null {
  const code = errorCode(failure);
  if (code === 'ERR_COMMIO_HANDSHAKE_TIMEOUT') return 'timeout';
  if (code !== 'ERR_COMMIO_HANDSHAKE_FAILED') return null;
  const error = failure as HandshakeFailedError;
  if (error.peerClosed) return 'closed';
  return error.cause instanceof Error ? error.cause : error;
}
