/**
 * The async-I/O state: one per connection (or UDP socket), living in one
 * collection. It composes a read side and a write side over its transport.
 *
 * Guarantees:
 * - every callback of the state runs through its collection, serially, and
 *   never inside the call that started the operation;
 * - one read-direction operation at a time; one write at a time unless
 *   `queueOutput` (then writes queue and complete in order);
 * - an abort requested inside one of the state's own callbacks takes effect
 *   when that callback returns;
 * - once closed, no callback of the state runs again (except the
 *   `closeCallback` of `asyncIoStateAbortAndClose`), its timers are cleared
 *   and, unless kept alive, its socket is destroyed.
 */
import type net from 'node:net';
import type tls from 'node:tls';
import { logger, printable } from '../debug.js';
import { InvalidArgumentError, StateClosedError } from '../errors.js';
import { checkInteger, checkSeconds, invalid } from '../options/validate.js';
import type { CollectionMember, PassFlushable, WaitStateCollection } from '../collection/wait-state-collection.js';
import { ReadSide } from './read-side.js';
import { WriteSide } from './write-side.js';
import type { IoStatus } from './status.js';
import type { ProxyHeader } from '../proxy/proxy-header.js';
import { DEFAULT_MAX_BUFFERED_INPUT, DEFAULT_MAX_QUEUED_MESSAGES, DEFAULT_MAX_QUEUED_OUTPUT, DEFAULT_MAX_READ } from '../options/defaults.js';

const log = logger('state');

/** A local or peer address of a state. */
export interface SocketAddress {
  address: string;
  port: number;
  family: 'IPv4' | 'IPv6';
}

/** The TLS side of a state, or `null` without TLS. */
export type SslSide = 'client' | 'server' | 'both';

/** Settings every state creator accepts; see `StateOptions`. */
export interface StateSettings {
  readTimeout: number | null;
  writeTimeout: number | null;
  userInfo: unknown;
  name: unknown;
  queueOutput: boolean;
  maxQueuedOutput: number;
  maxBufferedInput: number;
}

/** The TLS facts of a state with TLS attached (kept by the TLS module). */
export interface StateTlsInfo {
  side: SslSide;
  ctx: unknown;
  /** The TLS socket; null while a `'both'` attachment waits for its role. */
  socket: tls.TLSSocket | null;
  /** The TCP socket under TLS (addresses are asked from it). */
  tcp: net.Socket;
}

/**
 * @internal What a UDP state keeps in its `udp` slot (the UDP module makes
 * it): the hooks the shared state calls for the dgram socket.
 */
export interface UdpExtension {
  /** Datagrams (and errors) received and waiting for a receive. */
  readonly queuedCount: number;
  /** Datagrams dropped because the receive queue was full. */
  readonly droppedCount: number;
  /** The socket's local address. */
  localAddress(): SocketAddress | null;
  /** The peer of a connected socket, else `null`. */
  peerAddress(): SocketAddress | null;
  /** Aborts the sends not yet finished (`abortCallback` null: silently). */
  abortOutput(abortCallback: ((...args: never[]) => void) | null): void;
  /** Starts wait-for-input (arguments checked, read direction free). */
  waitForInput(callback: (state: AsyncIoState) => void): void;
  /** The state closed: stop listening, close the socket unless kept alive. */
  close(keepAlive: boolean): void;
}

/** The limits and timeouts of a state. Never changed in place: states made from the same settings share one until a setter gives a state its own. */
interface StateLimits {
  readonly readTimeout: number | null;
  readonly writeTimeout: number | null;
  readonly maxRead: number;
  readonly maxQueuedOutput: number;
  readonly maxBufferedInput: number;
  readonly maxQueuedMessages: number;
}

const sharedLimits = new WeakMap<StateSettings, StateLimits>();

const DEFAULT_LIMITS: StateLimits = Object.freeze({
  readTimeout: null,
  writeTimeout: null,
  maxRead: DEFAULT_MAX_READ,
  maxQueuedOutput: DEFAULT_MAX_QUEUED_OUTPUT,
  maxBufferedInput: DEFAULT_MAX_BUFFERED_INPUT,
  maxQueuedMessages: DEFAULT_MAX_QUEUED_MESSAGES,
});

/**
 * The limits of states made from `settings`: the defaults are one object for
 * every state; other settings get one object for all the states made from
 * them (e.g. every state of one accepting handle).
 */
function limitsOf(settings: StateSettings): StateLimits {
  if (
    settings.readTimeout === null &&
    settings.writeTimeout === null &&
    settings.maxQueuedOutput === DEFAULT_MAX_QUEUED_OUTPUT &&
    settings.maxBufferedInput === DEFAULT_MAX_BUFFERED_INPUT
  ) {
    return DEFAULT_LIMITS;
  }
  let limits = sharedLimits.get(settings);
  if (limits === undefined) {
    limits = {
      readTimeout: settings.readTimeout,
      writeTimeout: settings.writeTimeout,
      maxRead: DEFAULT_MAX_READ,
      maxQueuedOutput: settings.maxQueuedOutput,
      maxBufferedInput: settings.maxBufferedInput,
      maxQueuedMessages: DEFAULT_MAX_QUEUED_MESSAGES,
    };
    sharedLimits.set(settings, limits);
  }
  return limits;
}

const kState = Symbol('commio.state');
type SocketWithState = net.Socket & { [kState]?: AsyncIoState | undefined };

function stateOf(socket: net.Socket): AsyncIoState | undefined {
  return (socket as SocketWithState)[kState];
}

// Listeners are shared module-level functions that find their state through
// the socket, so an idle state costs no closures.
function onTransportData(this: net.Socket, chunk: Buffer): void {
  stateOf(this)?.reader.onData(chunk);
}
function onTransportEnd(this: net.Socket): void {
  stateOf(this)?.reader.onEnd();
}
function onTransportError(this: net.Socket, error: Error): void {
  stateOf(this)?.onTransportError(error);
}
function onTransportClose(this: net.Socket): void {
  stateOf(this)?.onTransportClose();
}
function onTransportFinish(this: net.Socket): void {
  stateOf(this)?.writer.shutdownSettled(true);
}
function ignoreError(): void {
  // A socket handed back or torn down may still report errors: they are of no
  // use to anyone any more, and must not crash the process.
}

let nextSerial = 1;

/** One connection (or UDP socket) in a collection. */
export class AsyncIoState implements CollectionMember, PassFlushable {
  /** The collection whose loop runs this state's callbacks. */
  readonly collection: WaitStateCollection;
  /** What the state wraps: the object given to `createAsyncIoState`, else the Node socket. */
  readonly object: unknown;
  /** Any value; shown when the state is printed. */
  name: unknown;
  /** Any value; never used by commio. */
  userInfo: unknown;
  /** Whether overlapping writes queue (true) or throw (false). */
  readonly queueOutput: boolean;
  /** @internal */
  readonly serial = nextSerial++;
  /** @internal The read direction. */
  readonly reader: ReadSide;
  /** Made on first use: most idle connections never write. */
  #writer: WriteSide | null = null;
  /** @internal The TCP transport (a TLSSocket while TLS is attached); null for UDP. */
  socket: net.Socket | null = null;
  /** @internal TLS facts while TLS is attached. */
  tls: StateTlsInfo | null = null;
  /** @internal Set by the TLS module while an attach, detach or handshake runs. */
  sslBusy = false;
  /** @internal Extension slot for the UDP module; null for TCP. */
  udp: UdpExtension | null = null;
  /** @internal Told once, after the state closed (an accepting handle counts its open states with it). */
  closeObserver: { stateClosed(state: AsyncIoState): void } | null = null;
  /** @internal The PROXY protocol header; set once by the accept path (see `proxyHeader`). */
  acceptedProxyHeader: ProxyHeader | null = null;
  #limits: StateLimits;
  #closed = false;
  #callbackDepth = 0;
  #deferred: (() => void)[] | null = null;
  #address: SocketAddress | null = null;
  #peerAddress: SocketAddress | null = null;

  /** @internal use the creators (createAsyncIoState, accept, connect, UDP) */
  constructor(collection: WaitStateCollection, object: unknown, settings: StateSettings) {
    this.collection = collection;
    this.object = object;
    this.name = settings.name;
    this.userInfo = settings.userInfo;
    this.queueOutput = settings.queueOutput;
    this.#limits = limitsOf(settings);
    this.reader = new ReadSide(this);
    collection.addMember(this);
  }

  toString(): string {
    return `#<async-io-state ${this.name === undefined || this.name === null ? this.serial : printable(this.name)}>`;
  }

  /** Seconds a read operation may go without progress; `null` for no limit. */
  get readTimeout(): number | null {
    return this.#limits.readTimeout;
  }
  set readTimeout(value: number | null) {
    const readTimeout = checkSeconds(value, 'readTimeout');
    if (readTimeout !== this.#limits.readTimeout) this.#limits = { ...this.#limits, readTimeout };
  }

  /** Seconds a write may take; `null` for no limit. */
  get writeTimeout(): number | null {
    return this.#limits.writeTimeout;
  }
  set writeTimeout(value: number | null) {
    const writeTimeout = checkSeconds(value, 'writeTimeout');
    if (writeTimeout !== this.#limits.writeTimeout) this.#limits = { ...this.#limits, writeTimeout };
  }

  /** Most new bytes handed to one read-with-checking callback. @default 65536 */
  get maxRead(): number {
    return this.#limits.maxRead;
  }
  set maxRead(value: number) {
    const maxRead = checkInteger(value, 'maxRead', 1, 0x7fffffff) ?? invalid('maxRead', 'an integer from 1 to 2147483647', value);
    if (maxRead !== this.#limits.maxRead) this.#limits = { ...this.#limits, maxRead };
  }

  /** Bytes of writes not yet completed that the state accepts (a lone write always is). @default 16 MiB */
  get maxQueuedOutput(): number {
    return this.#limits.maxQueuedOutput;
  }
  set maxQueuedOutput(value: number) {
    const maxQueuedOutput = checkInteger(value, 'maxQueuedOutput', 1, Number.MAX_SAFE_INTEGER) ?? invalid('maxQueuedOutput', 'a positive integer', value);
    if (maxQueuedOutput !== this.#limits.maxQueuedOutput) this.#limits = { ...this.#limits, maxQueuedOutput };
  }

  /** Bytes received and not yet consumed that the state holds before a read fails. @default 16 MiB */
  get maxBufferedInput(): number {
    return this.#limits.maxBufferedInput;
  }
  set maxBufferedInput(value: number) {
    const maxBufferedInput = checkInteger(value, 'maxBufferedInput', 1, Number.MAX_SAFE_INTEGER) ?? invalid('maxBufferedInput', 'a positive integer', value);
    if (maxBufferedInput !== this.#limits.maxBufferedInput) this.#limits = { ...this.#limits, maxBufferedInput };
  }

  /**
   * UDP: datagrams received while no receive waits that the state holds;
   * past it (or past `maxBufferedInput` bytes) the oldest are dropped and
   * counted in `droppedMessageCount`. Unused on TCP states. @default 1024
   */
  get maxQueuedMessages(): number {
    return this.#limits.maxQueuedMessages;
  }
  set maxQueuedMessages(value: number) {
    const maxQueuedMessages = checkInteger(value, 'maxQueuedMessages', 1, 0x7fffffff, this.#limits.maxQueuedMessages);
    if (maxQueuedMessages !== this.#limits.maxQueuedMessages) this.#limits = { ...this.#limits, maxQueuedMessages };
  }

  /** UDP: datagrams dropped so far because the receive queue was full (always 0 on TCP states). */
  get droppedMessageCount(): number {
    return this.udp?.droppedCount ?? 0;
  }

  /** UDP: datagrams received and waiting for a receive (always 0 on TCP states). */
  get queuedMessageCount(): number {
    return this.udp?.queuedCount ?? 0;
  }

  /** How much of the current read-with-checking view was already seen by the previous callback. */
  get oldLength(): number {
    return this.reader.oldLength;
  }

  /** @internal The write direction (made on first use). */
  get writer(): WriteSide {
    return (this.#writer ??= new WriteSide(this));
  }

  /** Status of the read direction. */
  get readStatus(): IoStatus {
    return this.reader.status;
  }

  /** Status of the write direction. */
  get writeStatus(): IoStatus {
    return this.#writer === null ? null : this.#writer.status;
  }

  /** Bytes received and not yet consumed. */
  get bufferedDataLength(): number {
    return this.reader.bufferedLength;
  }

  /** Bytes of writes handed to the state and not yet completed. */
  get queuedOutputLength(): number {
    return this.#writer === null ? 0 : this.#writer.pendingBytes;
  }

  /**
   * The local address, or `null` when unknown. Read from the socket on first
   * use and cached; a value read before close stays available after it, but
   * a state closed before anyone asked gives `null` (fetching addresses at
   * every close would cost two system calls per connection).
   */
  get address(): SocketAddress | null {
    if (this.#address === null && !this.#closed) this.#address = this.localAddressOfTransport();
    return this.#address;
  }

  /**
   * The peer's address, or `null` when not connected. Read on first use and
   * cached, like `address`: a state closed before anyone asked gives `null`.
   * Accepted behind the PROXY protocol: the client's address from the header.
   */
  get peerAddress(): SocketAddress | null {
    // Behind a trusted proxy the client is the header's source (the socket's peer is the proxy).
    const proxied = this.acceptedProxyHeader?.source;
    if (proxied !== undefined && proxied !== null) return proxied;
    if (this.#peerAddress === null && !this.#closed) this.#peerAddress = this.peerAddressOfTransport();
    return this.#peerAddress;
  }

  /** The PROXY protocol header the connection started with (accept option `proxyProtocol`); `null` on states made without it. */
  get proxyHeader(): ProxyHeader | null {
    return this.acceptedProxyHeader;
  }

  /** The TLS side, or `null` without TLS. */
  get sslSide(): SslSide | null {
    return this.tls?.side ?? null;
  }

  /** The secure context in use, or `null` without TLS. */
  get ctx(): unknown {
    return this.tls?.ctx ?? null;
  }

  /** The TLS socket, or `null` without TLS. */
  get ssl(): tls.TLSSocket | null {
    return this.tls?.socket ?? null;
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** @internal Throws `ERR_COMMIO_STATE_CLOSED` when closed. */
  assertOpen(): void {
    if (this.#closed) throw new StateClosedError(`${String(this)} is closed`);
  }

  /** @internal True while one of this state's callbacks runs. */
  get inCallback(): boolean {
    return this.#callbackDepth > 0;
  }

  /** @internal Brackets a user callback of this state. */
  enterCallback(): void {
    this.#callbackDepth++;
  }

  /** @internal Ends a user callback; runs what was deferred until it returned. */
  leaveCallback(): void {
    if (--this.#callbackDepth > 0) return;
    const deferred = this.#deferred;
    if (deferred === null) return;
    this.#deferred = null;
    for (const action of deferred) action();
  }

  /** @internal Runs `action` now, or when the running callback of this state returns. */
  whenOutsideCallback(action: () => void): void {
    if (this.#callbackDepth === 0) {
      action();
      return;
    }
    (this.#deferred ??= []).push(action);
  }

  /** @internal Makes `socket` the state's transport and starts listening to it. */
  attachTransport(socket: net.Socket): void {
    this.socket = socket;
    (socket as SocketWithState)[kState] = this;
    socket.on('data', onTransportData);
    socket.on('end', onTransportEnd);
    socket.on('error', onTransportError);
    socket.on('close', onTransportClose);
    this.#address = null;
    this.#peerAddress = null;
  }

  /**
   * @internal Stops listening to the transport and hands it back paused (for
   * keep-alive close, TLS attach and detach). Bytes read ahead stay in the
   * read side.
   */
  detachTransport(): net.Socket | null {
    const socket = this.socket;
    if (socket === null) return null;
    socket.pause();
    socket.removeListener('data', onTransportData);
    socket.removeListener('end', onTransportEnd);
    socket.removeListener('error', onTransportError);
    socket.removeListener('close', onTransportClose);
    // Assigned, not deleted: a delete turns the socket into a slow dictionary object.
    (socket as SocketWithState)[kState] = undefined;
    this.socket = null;
    this.reader.transportDetached();
    return socket;
  }

  /** @internal */
  onTransportError(error: Error): void {
    if (log.enabled) log('%s: socket error %s', this, (error as NodeJS.ErrnoException).code ?? error.message);
    // Write side first: the read side may run its callback at once, and that
    // callback must already see the write direction failed too.
    this.writer.onError(error);
    this.reader.onError(error);
    // A shutdown('output') waiting for its FIN failed.
    this.#writer?.shutdownSettled((error as NodeJS.ErrnoException).code ?? 'EIO');
  }

  /** @internal A shutdown('output') waits for `socket`'s 'finish' (reported to the write side). */
  listenForFinish(socket: net.Socket): void {
    socket.on('finish', onTransportFinish);
  }

  /** @internal */
  onTransportClose(): void {
    this.reader.onEnd();
    this.#writer?.onClose();
  }

  localAddressOfTransport(): SocketAddress | null {
    if (this.udp !== null) return this.udp.localAddress();
    const socket = this.tls?.tcp ?? this.socket;
    if (socket === null) return null;
    const info = socket.address();
    if (!('port' in info) || typeof info.port !== 'number') return null;
    return { address: info.address, port: info.port, family: info.family === 'IPv6' ? 'IPv6' : 'IPv4' };
  }

  peerAddressOfTransport(): SocketAddress | null {
    if (this.udp !== null) return this.udp.peerAddress();
    const socket = this.tls?.tcp ?? this.socket;
    if (socket?.remoteAddress === undefined || socket.remotePort === undefined) return null;
    return { address: socket.remoteAddress, port: socket.remotePort, family: socket.remoteFamily === 'IPv6' ? 'IPv6' : 'IPv4' };
  }

  /** @internal Flushes output batched during the pass of the loop that just ended. */
  flushAfterPass(): void {
    this.#writer?.flushAfterPass();
  }

  /**
   * @internal Closes the state: no further callbacks, timers cleared, socket
   * destroyed (or, with `keepAlive`, handed back paused). Idempotent. Returns
   * the bytes still buffered (readable with asyncIoStateGetBufferedData).
   */
  close(keepAlive: boolean): number {
    if (this.#closed) return this.reader.bufferedLength;
    // Addresses are not fetched here (two system calls per connection): what
    // was read before close stays cached, the rest reads as null.
    this.#closed = true;
    this.#deferred = null;
    this.reader.closed();
    this.#writer?.closed();
    this.collection.removeMember(this);
    const socket = this.socket;
    if (socket !== null) {
      if (keepAlive) {
        // Handed back as it is: Node.js cannot take TLS off a socket
        // synchronously, so a TLS session stays up and `state.ssl` still
        // gives it (asyncIoStateDetachSsl first for plain text).
        this.detachTransport();
        socket.on('error', ignoreError);
      } else {
        // The shared listeners find no state and do nothing, so removing
        // them before the destroy would be work for nothing.
        (socket as SocketWithState)[kState] = undefined;
        this.socket = null;
        this.reader.transportDetached();
        socket.destroy();
      }
    }
    this.udp?.close(keepAlive);
    if (!keepAlive) this.tls = null;
    if (log.enabled) log('%s: closed%s, %d bytes left buffered', this, keepAlive ? ' (socket kept open)' : '', this.reader.bufferedLength);
    const observer = this.closeObserver;
    if (observer !== null) {
      this.closeObserver = null;
      observer.stateClosed(this);
    }
    return this.reader.bufferedLength;
  }

  /** @internal The collection is closing: close without callbacks. */
  closeForCollection(): void {
    this.close(false);
  }
}

/** Checks that `value` is a state that is not closed. */
export function checkOpenState(value: unknown, name = 'state'): AsyncIoState {
  const state = checkState(value, name);
  state.assertOpen();
  return state;
}

/** Checks that `value` is a state (open or closed). */
export function checkState(value: unknown, name = 'state'): AsyncIoState {
  if (!(value instanceof AsyncIoState)) throw new InvalidArgumentError(name, 'must be an AsyncIoState');
  return value;
}

/** The settings used when a creator's options leave one out. */
export const DEFAULT_STATE_SETTINGS: Readonly<StateSettings> = Object.freeze({
  readTimeout: null,
  writeTimeout: null,
  userInfo: null,
  name: null,
  queueOutput: false,
  maxQueuedOutput: DEFAULT_MAX_QUEUED_OUTPUT,
  maxBufferedInput: DEFAULT_MAX_BUFFERED_INPUT,
});
