/**
 * Switching a state's transport to TLS and running the handshake: shared by
 * accept, connect, attach and asyncIoStateHandshake.
 *
 * The state's plain transport is detached; bytes it had read ahead (and not
 * consumed) belong to TLS and are handed to it first. Natively wrapped
 * sessions (accept, connect) get them back in the socket's own buffer, which
 * Node's TLS reads first; detachable sessions get them through the feeder.
 * The TLS socket becomes the state's transport at once, so closing the state
 * during the handshake tears it down.
 */
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import { logger } from '../debug.js';
import { HandshakeFailedError, errorCode } from '../errors.js';
import type { AsyncIoState } from '../state/async-io-state.js';
import { makeTlsSocket, runHandshake } from './handshake.js';
import { handshakeEnded } from '../stats/state-events.js';
import { RecordFeeder } from './record-feeder.js';
import type { TlsAttachment } from './tls-attachment.js';
import { ignoreLateErrors } from '../transports/socket-events.js';

const log = logger('ssl');

/** Reports the end of a handshake; `fromEvent` false when it ended inside the call that started it. */
export type HandshakeReport = (state: AsyncIoState, failure: Error | null, fromEvent: boolean) => void;

/**
 * Starts the handshake of `attachment` (its role chosen) on `state`, whose
 * transport is the plain TCP socket. `report` runs once. On failure the
 * connection is destroyed first and the state is left without TLS, with
 * readStatus `'timeout'` (timed out), `'eof'` (the peer closed) or the error.
 */
export function startHandshake(state: AsyncIoState, attachment: TlsAttachment, timeout: number | null, report: HandshakeReport): void {
  const role = attachment.role as 'server' | 'client';
  // Output batched in this pass belongs to the plain stream: send it first.
  state.flushAfterPass();
  // An accepted connection whose handshake starts at once was never attached: nothing to take off.
  const raw = (state.transport === null ? attachment.tcp : state.detachTransport()) as net.Socket;
  const ahead = state.reader.takeAll();
  let transport: net.Socket | Duplex = raw;
  if (attachment.detachable) {
    const feeder = new RecordFeeder(raw, ahead);
    attachment.feeder = feeder;
    transport = feeder;
  } else if (ahead !== null) {
    raw.unshift(ahead);
  }
  const settings = attachment.setup.settings();
  const socket = makeTlsSocket(transport, role, settings);
  if (attachment.feeder !== null) attachment.feeder.tls = socket;
  attachment.socket = socket;
  attachment.ctx = settings.secureContext;
  socket.pause();
  state.attachTransport(socket);
  if (log.enabled) log('%s: TLS handshake as %s%s', state, role, attachment.detachable ? ' (detachable)' : '');
  const configure = attachment.setup.request.sslConfigureCallback;
  if (configure !== null) {
    try {
      configure(socket);
    } catch (error) {
      const failure = new HandshakeFailedError(`sslConfigureCallback threw: ${(error as Error).message}`, { cause: error });
      handshakeEnded(state, failure);
      failHandshake(state, attachment, failure);
      report(state, failure, false);
      return;
    }
  }
  attachment.cancelHandshake = runHandshake(
    socket,
    { role, settings, verifyHost: role === 'client' ? (attachment.verifyHost ?? state.peerAddress?.address ?? null) : null, timeout },
    role === 'client' ? attachment.servername : null,
    (failure) => {
      attachment.cancelHandshake = null;
      if (state.closed) return;
      handshakeEnded(state, failure);
      if (failure === null) {
        if (log.enabled) log('%s: TLS established (%s)', state, socket.getProtocol() ?? '?');
        report(state, null, true);
        return;
      }
      failHandshake(state, attachment, failure);
      report(state, failure, true);
    },
  );
}

/** Tears the failed session down and sets the read status as LispWorks does. */
function failHandshake(state: AsyncIoState, attachment: TlsAttachment, failure: Error): void {
  if (log.enabled) log('%s: TLS handshake failed: %s', state, errorCode(failure) ?? failure.message);
  attachment.cancelHandshake?.();
  attachment.cancelHandshake = null;
  const transport = state.detachTransport();
  if (transport !== null) {
    ignoreLateErrors(transport);
    transport.destroy();
  }
  ignoreLateErrors(attachment.tcp);
  attachment.tcp.destroy();
  state.tls = null;
  const reader = state.reader;
  reader.onEnd();
  const code = errorCode(failure);
  if (code === 'ERR_COMMIO_HANDSHAKE_TIMEOUT') reader.status = 'timeout';
  else if (failure instanceof HandshakeFailedError && failure.peerClosed) reader.status = 'eof';
  else reader.status = failure;
}
