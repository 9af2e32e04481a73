/**
 * What a UDP state keeps in its `udp` slot: the `dgram.Socket`, the receive
 * (or wait-for-input) that may be active, the queue of datagrams that came
 * while none was, and the sends.
 *
 * Receiving: a datagram that arrives while a receive is active completes it
 * at once; otherwise it waits in the bounded queue (see MessageQueue) for the
 * next receive. A socket error (such as ICMP port unreachable on a connected
 * socket, `ECONNREFUSED`) takes a datagram's place in that order: it ends the
 * receive it reaches with the error as `readStatus`. Statuses are per
 * datagram (a new receive starts clean), except when the socket closed under
 * the state: that is sticky in both directions.
 */
import type dgram from 'node:dgram';
import { logger } from '../debug.js';
import type { AsyncIoState, SocketAddress, UdpExtension } from '../state/async-io-state.js';
import type { ExternalRead } from '../state/read-side.js';
import type { StateCallback } from '../state/callbacks.js';
import { DgramSocketClosedError } from '../errors.js';
import type { IoStatus } from '../state/status.js';
import { MessageQueue, type SenderInfo } from './message-queue.js';
import { UdpSender, type SendTarget } from './udp-sender.js';

const log = logger('udp');

/** `(state, buffer, count, address?, port?)`: a receive's callback; `address`/`port` (the sender) only with `needsAddress` and a datagram. */
export type ReceiveCallback<B = Uint8Array> = (state: AsyncIoState, buffer: B, count: number, address?: string, port?: number) => void;

type AnyReceiveCallback = ReceiveCallback<Uint8Array | Int8Array>;

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
function ignoreError(): void {
  // A socket handed back or torn down may still report errors: of no use to anyone now.
}

/**
 * Runs a receive's callback with the sender's address. `sender` is the
 * object Node.js made for this one datagram and gave only to us; its `size`
 * carries the count delivered, so the delivery needs no object of its own.
 */
function deliverWithAddress(state: AsyncIoState, callback: AnyReceiveCallback, buffer: Uint8Array | Int8Array, sender: SenderInfo): void {
  if (state.closed) return;
  // Bracketed here: the callback takes five arguments, more than `deliver` carries.
  state.enterCallback();
  try {
    callback(state, buffer, sender.size, sender.address, sender.port);
  } finally {
    state.leaveCallback();
  }
}

/** Copies as much of `message` as fits into `target[start, end)`; the rest of the datagram is dropped. */
function copyDatagram(message: Buffer, target: Uint8Array | Int8Array, start: number, end: number): number {
  const count = Math.min(message.length, end - start);
  if (count === 0) return 0;
  const bytes = target instanceof Uint8Array ? target : new Uint8Array(target.buffer, target.byteOffset, target.byteLength);
  message.copy(bytes, start, 0, count);
  return count;
}

/** The error a UDP state's directions get when its socket closed under it. */
function socketClosedError(): Error {
  return new DgramSocketClosedError('the UDP socket was closed');
}

const EMPTY = Buffer.alloc(0);
const NONE = 0;
const RECEIVE = 1;
const WAIT = 2;

/** How a UDP transport was made. */
export interface UdpTransportSettings {
  /** The socket is connected: sends go to its peer, and only the peer's datagrams are taken. */
  connected: boolean;
  family: 4 | 6;
  dualStack: boolean;
}

/** The UDP part of one state. */
export class UdpTransport implements UdpExtension, SendTarget {
  readonly socket: dgram.Socket;
  readonly connected: boolean;
  readonly family: 4 | 6;
  readonly dualStack: boolean;
  readonly sender: UdpSender;
  /** Set once the socket closed under the state (sticky for both directions). */
  dead: Error | null = null;
  readonly #state: AsyncIoState;
  readonly #queue = new MessageQueue();
  #closed = false;
  #peerAddress: string | null = null;
  #peerPort = 0;
  // The active receive (or wait-for-input).
  #mode = NONE;
  #target: Uint8Array | Int8Array = EMPTY;
  #start = 0;
  #end = 0;
  #callback: ((...args: never[]) => void) | null = null;
  #errorCallback: ((...args: never[]) => void) | null = null;
  #needsAddress = false;
  /** What the read side calls while a receive or wait holds its operation slot. */
  readonly #external: ExternalRead = {
    settle: (): void => this.#settleActive(true),
    abort: (abortCallback: ((...args: never[]) => void) | null): void => this.#aborted(abortCallback),
  };

  constructor(state: AsyncIoState, socket: dgram.Socket, settings: UdpTransportSettings) {
    this.#state = state;
    this.socket = socket;
    this.connected = settings.connected;
    this.family = settings.family;
    this.dualStack = settings.dualStack;
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

  /** Datagrams (and errors) waiting for a receive. */
  get queuedCount(): number {
    return this.#queue.size;
  }

  /** Datagrams dropped because the queue was full. */
  get droppedCount(): number {
    return this.#queue.dropped;
  }

  /** The send direction's status. */
  get writeStatus(): IoStatus {
    return this.sender.status;
  }

  /** Bytes of sends not yet finished. */
  get queuedOutputBytes(): number {
    return this.sender.pendingBytes;
  }

  // ----------------------------------------------------------- starting

  /** Starts asyncIoStateReceiveMessage (arguments checked, read direction free, settings applied). */
  startReceive(
    target: Uint8Array | Int8Array,
    start: number,
    end: number,
    callback: AnyReceiveCallback,
    errorCallback: AnyReceiveCallback | null,
    needsAddress: boolean,
  ): void {
    const state = this.#state;
    const reader = state.reader;
    this.#resetStatus();
    const payload = this.#queue.peekPayload();
    if (payload !== undefined) {
      const sender = this.#queue.peekSender() as SenderInfo | null;
      this.#queue.shift();
      if (payload instanceof Error) {
        reader.status = payload;
        state.deliver(false, errorCallback ?? callback, target, 0);
      } else {
        this.#deliverDatagram(false, callback, target, copyDatagram(payload, target, start, end), needsAddress ? sender : null);
      }
      return;
    }
    if (this.#settleAtOnce()) {
      state.deliver(false, reader.status instanceof Error ? (errorCallback ?? callback) : callback, target, 0);
      return;
    }
    this.#mode = RECEIVE;
    this.#target = target;
    this.#start = start;
    this.#end = end;
    this.#callback = callback;
    this.#errorCallback = errorCallback;
    this.#needsAddress = needsAddress;
    reader.beginExternal(state.readTimeout, this.#external);
  }

  /** Starts asyncIoStateWaitForInput (arguments checked, read direction free, settings applied). */
  waitForInput(callback: StateCallback): void {
    const state = this.#state;
    this.#resetStatus();
    if (this.#queue.size > 0 || this.#settleAtOnce()) {
      state.deliver(false, callback);
      return;
    }
    this.#mode = WAIT;
    this.#callback = callback;
    state.reader.beginExternal(state.readTimeout, this.#external);
  }

  /** Statuses are per datagram: a new read-direction operation starts clean, unless the socket is gone. */
  #resetStatus(): void {
    const reader = this.#state.reader;
    if (reader.status !== null && reader.status !== this.dead) reader.status = null;
  }

  /** With nothing queued: true (status set) when the socket is gone or input was shut down. */
  #settleAtOnce(): boolean {
    const reader = this.#state.reader;
    if (this.dead !== null) {
      reader.status = this.dead;
      return true;
    }
    if (reader.ended) {
      reader.status = 'eof';
      return true;
    }
    return false;
  }

  // ------------------------------------------------------------- events

  /** @internal A datagram arrived. */
  onMessage(message: Buffer, sender: SenderInfo): void {
    if (this.#closed) return;
    // Before connect() took effect the kernel may have queued others' datagrams.
    if (this.connected && (sender.port !== this.#peerPort || sender.address !== this.#peerAddress)) return;
    const state = this.#state;
    if (state.reader.ended) return;
    if (this.#mode === RECEIVE) {
      const target = this.#target;
      const callback = this.#callback as AnyReceiveCallback;
      const count = copyDatagram(message, target, this.#start, this.#end);
      const needsAddress = this.#needsAddress;
      this.#endOperation();
      state.reader.status = null;
      this.#deliverDatagram(true, callback, target, count, needsAddress ? sender : null);
      return;
    }
    this.#enqueue(message, sender);
    if (this.#mode === WAIT) this.#settleActive(true);
  }

  /** @internal The socket reported an error (from the kernel, for one datagram). */
  onError(error: Error): void {
    if (this.#closed) return;
    log('%s: socket error %s', this.#state, (error as NodeJS.ErrnoException).code ?? error.message);
    if (this.#mode === RECEIVE) {
      this.#state.reader.status = error;
      this.#settleActive(true);
      return;
    }
    this.#enqueue(error, null);
    if (this.#mode === WAIT) this.#settleActive(true);
  }

  /** @internal The socket closed under the state (the state did not close it). */
  onClose(): void {
    if (this.#closed || this.dead !== null) return;
    const state = this.#state;
    const error = socketClosedError();
    log('%s: the socket closed under the state', state);
    this.dead = error;
    this.sender.status = error;
    if (this.#mode !== NONE) {
      state.reader.status = error;
      this.#settleActive(true);
    } else if (this.#queue.size === 0) {
      state.reader.status = error;
    }
    this.sender.fail(error);
  }

  #enqueue(payload: Buffer | Error, sender: SenderInfo | null): void {
    const state = this.#state;
    const dropped = this.#queue.push(payload, sender, state.maxQueuedMessages, state.maxBufferedInput);
    if (dropped > 0) log('%s: receive queue full, dropped %d (%d in all)', state, dropped, this.#queue.dropped);
  }

  // --------------------------------------------------------- completing

  #deliverDatagram(fromEvent: boolean, callback: AnyReceiveCallback, target: Uint8Array | Int8Array, count: number, sender: SenderInfo | null): void {
    const state = this.#state;
    if (sender === null) {
      state.deliver(fromEvent, callback, target, count);
      return;
    }
    sender.size = count;
    // The collection's four slots carry (state, callback, target, sender); sender.size is the count.
    if (fromEvent) state.collection.dispatch(state, deliverWithAddress, state, callback, target, sender);
    else state.collection.post(state, deliverWithAddress, state, callback, target, sender);
  }

  /** Ends the active operation with the read status already set (timeout, error, datagram for a wait). */
  #settleActive(fromEvent: boolean): void {
    const state = this.#state;
    const mode = this.#mode;
    if (mode === NONE) return;
    const status: IoStatus = state.reader.status;
    const target = this.#target;
    const callback = status instanceof Error && this.#errorCallback !== null ? this.#errorCallback : this.#callback;
    this.#endOperation();
    if (mode === WAIT) state.deliver(fromEvent, callback as StateCallback);
    else state.deliver(fromEvent, callback as AnyReceiveCallback, target, 0);
  }

  #endOperation(): void {
    this.#forgetOperation();
    this.#state.reader.endExternal();
  }

  #forgetOperation(): void {
    this.#mode = NONE;
    this.#target = EMPTY;
    this.#callback = null;
    this.#errorCallback = null;
  }

  /** The read side aborted the active operation (it already ended it there). */
  #aborted(abortCallback: ((...args: never[]) => void) | null): void {
    const state = this.#state;
    const mode = this.#mode;
    const target = this.#target;
    this.#forgetOperation();
    if (abortCallback === null) return;
    if (mode === WAIT) state.deliver(false, abortCallback);
    else state.deliver(false, abortCallback, target, 0);
  }

  // ------------------------------------------------------------- shared

  /** Aborts the sends not yet finished (for asyncIoStateAbort 'output'/'io'). */
  abortOutput(abortCallback: ((...args: never[]) => void) | null): void {
    this.sender.abort(abortCallback);
  }

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
  close(keepAlive: boolean): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#forgetOperation();
    this.#queue.clear();
    this.sender.closed();
    const socket = this.socket;
    socket.removeListener('message', onSocketMessage);
    socket.removeListener('error', onSocketError);
    socket.removeListener('close', onSocketClose);
    (socket as SocketWithTransport)[kTransport] = undefined;
    socket.on('error', ignoreError);
    if (!keepAlive && this.dead === null) {
      try {
        socket.close();
      } catch {
        // Already closed by someone else.
      }
    }
  }
}
