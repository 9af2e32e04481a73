/**
 * What a UDP state keeps as its kind (see state/state-kind.ts): the
 * `dgram.Socket`, its receive side (udp-receive.ts) and its sends
 * (udp-sender.ts). It answers the state's operations for a datagram socket:
 * byte-stream reads and writes are refused, shutdown('output') has no stream
 * to end (`'ENOTCONN'`), and a socket that closed under the state is sticky
 * in both directions.
 */
import type dgram from 'node:dgram';
import { logger } from '../debug.js';
import type { AsyncIoState, SocketAddress } from '../state/async-io-state.js';
import type { StateCallback } from '../state/callbacks.js';
import type { ReadSide } from '../state/read-side.js';
import type { WriteSide } from '../state/write-side.js';
import type { AnyCallback, StateShell } from '../state/state-shell.js';
import type { StateKind } from '../state/state-kind.js';
import { DgramSocketClosedError, UnsupportedError } from '../errors.js';
import type { IoStatus } from '../state/status.js';
import type { SenderInfo } from './message-queue.js';
import { UdpReceive } from './udp-receive.js';
import { UdpSender, type SendTarget } from './udp-sender.js';
import { ignoreLateErrors } from '../transports/socket-events.js';

export type { ReceiveCallback } from './udp-receive.js';

const log = logger('udp');

const kTransport = Symbol('commio.udp');
type SocketWithTransport = dgram.Socket & { [kTransport]?: UdpTransport | undefined };

function transportOf(socket: dgram.Socket): UdpTransport | undefined {
  return (socket as SocketWithTransport)[kTransport];
}

// Shared module-level listeners find their transport through the socket, so
// an idle UDP state costs no closures for them.
function onSocketMessage(this: dgram.Socket, message: Buffer, sender: SenderInfo): void {
  transportOf(this)?.onMessage(message, sender);
}
function onSocketError(this: dgram.Socket, error: Error): void {
  transportOf(this)?.onError(error);
}
function onSocketClose(this: dgram.Socket): void {
  transportOf(this)?.onClose();
}
/** The error a UDP state's directions get when its socket closed under it. */
function socketClosedError(): Error {
  return new DgramSocketClosedError('the UDP socket was closed');
}

/** How a UDP transport was made. */
export interface UdpTransportSettings {
  /** The socket is connected: sends go to its peer, and only the peer's datagrams are taken. */
  connected: boolean;
  family: 4 | 6;
  dualStack: boolean;
}

/** The UDP part of one state. */
export class UdpTransport implements StateKind<StateShell>, SendTarget {
  readonly socket: dgram.Socket;
  readonly connected: boolean;
  readonly family: 4 | 6;
  readonly dualStack: boolean;
  readonly receiver: UdpReceive;
  readonly sender: UdpSender;
  readonly #state: AsyncIoState;
  #closed = false;
  #peerAddress: string | null = null;
  #peerPort = 0;

  constructor(state: AsyncIoState, socket: dgram.Socket, settings: UdpTransportSettings) {
    this.#state = state;
    this.socket = socket;
    this.connected = settings.connected;
    this.family = settings.family;
    this.dualStack = settings.dualStack;
    this.receiver = new UdpReceive(state);
    this.sender = new UdpSender(state, this);
    if (this.connected) {
      const peer = socket.remoteAddress();
      this.#peerAddress = peer.address;
      this.#peerPort = peer.port;
    }
    (socket as SocketWithTransport)[kTransport] = this;
    socket.on('message', onSocketMessage);
    socket.on('error', onSocketError);
    socket.on('close', onSocketClose);
  }

  /** Set once the socket closed under the state (sticky for both directions; kept by the receive side). */
  get dead(): Error | null {
    return this.receiver.dead;
  }

  // ------------------------------------------------- the state's answers

  readStatus(): IoStatus {
    return this.receiver.status;
  }

  writeStatus(): IoStatus {
    return this.sender.status;
  }

  queuedOutputLength(): number {
    return this.sender.pendingBytes;
  }

  queuedMessageCount(): number {
    return this.receiver.queuedCount;
  }

  droppedMessageCount(): number {
    return this.receiver.droppedCount;
  }

  readBusy(): boolean {
    return this.receiver.busy;
  }

  streamReader(state: StateShell, refusal: string): ReadSide {
    throw new UnsupportedError(`${String(state)} is a UDP state: ${refusal}`);
  }

  streamWriter(state: StateShell, refusal: string): WriteSide {
    throw new UnsupportedError(`${String(state)} is a UDP state: ${refusal}`);
  }

  /** On a UDP state, input is a datagram (or error) waiting for a receive. */
  waitForInput(_state: StateShell, callback: AnyCallback): void {
    this.receiver.waitForInput(callback as StateCallback);
  }

  abortInput(_state: StateShell, abortCallback: AnyCallback | null): void {
    this.receiver.abort(abortCallback);
  }

  /** Aborts the sends not yet finished (for asyncIoStateAbort 'output'/'io'). */
  abortOutput(_state: StateShell, abortCallback: AnyCallback | null): void {
    this.sender.abort(abortCallback);
  }

  /** shutdown('output') shuts nothing on a datagram socket: no send is aborted. */
  abortWritesForShutdown(): boolean {
    return false;
  }

  /** Receives see 'eof' from now on; datagrams that arrive are dropped. */
  shutdownInput(): void {
    this.receiver.inputShut = true;
  }

  /** No stream to end: `'ENOTCONN'` (sends still work). */
  shutdownOutput(state: StateShell, callback: AnyCallback | null): true | string {
    if (callback !== null) state.deliver(false, callback, 'ENOTCONN');
    return 'ENOTCONN';
  }

  // ------------------------------------------------------------- events

  /** @internal A datagram arrived. */
  onMessage(message: Buffer, sender: SenderInfo): void {
    if (this.#closed) return;
    // Before connect() took effect the kernel may have queued others' datagrams.
    if (this.connected && (sender.port !== this.#peerPort || sender.address !== this.#peerAddress)) return;
    this.receiver.onMessage(message, sender);
  }

  /** @internal The socket reported an error (from the kernel, for one datagram). */
  onError(error: Error): void {
    if (this.#closed) return;
    log('%s: socket error %s', this.#state, (error as NodeJS.ErrnoException).code ?? error.message);
    this.receiver.onError(error);
  }

  /** @internal The socket closed under the state (the state did not close it). */
  onClose(): void {
    if (this.#closed || this.dead !== null) return;
    const error = socketClosedError();
    log('%s: the socket closed under the state', this.#state);
    this.sender.status = error;
    this.receiver.socketClosed(error);
    this.sender.fail(error);
  }

  // ------------------------------------------------------------- shared

  /** The socket's local address, or `null` once it is closed. */
  localAddress(): SocketAddress | null {
    try {
      const info = this.socket.address();
      return { address: info.address, port: info.port, family: info.family === 'IPv6' ? 'IPv6' : 'IPv4' };
    } catch {
      return null;
    }
  }

  /** The peer of a connected socket, else `null`. */
  peerAddress(): SocketAddress | null {
    if (!this.connected) return null;
    try {
      const info = this.socket.remoteAddress();
      return { address: info.address, port: info.port, family: info.family === 'IPv6' ? 'IPv6' : 'IPv4' };
    } catch {
      return null;
    }
  }

  /** The state closed: stop listening, forget everything, close the socket unless kept alive. */
  closed(_state: StateShell, keepAlive: boolean): void {
    if (this.#closed) return;
    this.#closed = true;
    this.receiver.closed();
    this.sender.closed();
    const socket = this.socket;
    socket.removeListener('message', onSocketMessage);
    socket.removeListener('error', onSocketError);
    socket.removeListener('close', onSocketClose);
    (socket as SocketWithTransport)[kTransport] = undefined;
    ignoreLateErrors(socket);
    if (!keepAlive && this.dead === null) {
      try {
        socket.close();
      } catch {
        // Already closed by someone else.
      }
    }
  }
}
