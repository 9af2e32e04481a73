/**
 * The async-I/O state: one per connection (or UDP socket), living in one
 * collection. A thin shell (state-shell.ts: membership, limits, close, the
 * one way callbacks are delivered) over its transport: for a stream, a
 * `StreamTransport` driver and handle (transports/stream-transport.ts) with
 * the read side and the write side; for UDP, the UDP module's receive and
 * send (udp/).
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
 *   and, unless kept alive, its connection is destroyed.
 */
import type net from 'node:net';
import type tls from 'node:tls';
import { logger } from '../debug.js';
import { InvalidArgumentError } from '../errors.js';
import type { PassFlushable, WaitStateCollection } from '../collection/wait-state-collection.js';
import type { SocketAddress, StreamSink, StreamTransport } from '../transports/stream-transport.js';
import { nodeStreamTransport } from '../transports/node-stream-transport.js';
import { ReadSide, type ReadOwner } from './read-side.js';
import { WriteSide, type WriteOwner } from './write-side.js';
import { StateShell, type AnyCallback } from './state-shell.js';
import type { StateSettings } from './state-limits.js';
import type { IoStatus } from './status.js';
import type { ProxyHeader } from '../proxy/proxy-header.js';

export type { SocketAddress } from '../transports/stream-transport.js';
export type { StateSettings } from './state-limits.js';
export { DEFAULT_STATE_SETTINGS } from './state-limits.js';

const log = logger('state');

/** The TLS side of a state, or `null` without TLS. */
export type SslSide = 'client' | 'server' | 'both';

/** What the TLS module is doing to a state; while not null, nothing else may start (the one record of "TLS is busy"). */
export type TlsOperation = 'connect' | 'attach' | 'handshake' | 'detach' | null;

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
  /** The send direction's status (the state's `writeStatus`). */
  readonly writeStatus: IoStatus;
  /** Bytes of sends not yet finished (the state's `queuedOutputLength`). */
  readonly queuedOutputBytes: number;
  /** The socket's local address. */
  localAddress(): SocketAddress | null;
  /** The peer of a connected socket, else `null`. */
  peerAddress(): SocketAddress | null;
  /** Aborts the sends not yet finished (`abortCallback` null: silently). */
  abortOutput(abortCallback: AnyCallback | null): void;
  /** Starts wait-for-input (arguments checked, read direction free). */
  waitForInput(callback: (state: AsyncIoState) => void): void;
  /** The state closed: stop listening, close the socket unless kept alive. */
  close(keepAlive: boolean): void;
}

/** One connection (or UDP socket) in a collection. */
export class AsyncIoState extends StateShell implements StreamSink, PassFlushable, ReadOwner, WriteOwner {
  /** @internal The read direction. */
  readonly reader: ReadSide;
  /** Made on first use: most idle connections never write. */
  #writer: WriteSide | null = null;
  /** @internal The stream transport's driver; null for UDP and while detached. */
  transport: StreamTransport | null = null;
  /** @internal The stream transport's handle of this connection. */
  handle: unknown = null;
  /** @internal TLS facts while TLS is attached. */
  tls: StateTlsInfo | null = null;
  /** @internal What the TLS module is doing (see TlsOperation). */
  tlsOperation: TlsOperation = null;
  /** @internal Extension slot for the UDP module; null for TCP. */
  udp: UdpExtension | null = null;
  /** @internal The PROXY protocol header; set once by the accept path (see `proxyHeader`). */
  acceptedProxyHeader: ProxyHeader | null = null;
  #address: SocketAddress | null = null;
  #peerAddress: SocketAddress | null = null;

  /** @internal use the creators (createAsyncIoState, accept, connect, UDP, createStateOnTransport) */
  constructor(collection: WaitStateCollection, object: unknown, settings: StateSettings) {
    super(collection, object, settings);
    this.reader = new ReadSide(this);
    collection.addMember(this);
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
    if (this.udp !== null) return this.udp.writeStatus;
    return this.#writer === null ? null : this.#writer.status;
  }

  /** Bytes received and not yet consumed. */
  get bufferedDataLength(): number {
    return this.reader.bufferedLength;
  }

  /** Bytes of writes handed to the state and not yet completed. */
  get queuedOutputLength(): number {
    if (this.udp !== null) return this.udp.queuedOutputBytes;
    return this.#writer === null ? 0 : this.#writer.pendingBytes;
  }

  /**
   * The local address, or `null` when unknown. Read from the transport on
   * first use and cached; a value read before close stays available after
   * it, but a state closed before anyone asked gives `null` (fetching
   * addresses at every close would cost two system calls per connection).
   */
  get address(): SocketAddress | null {
    if (this.#address === null && !this.closed) this.#address = this.localAddressOfTransport();
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
    if (this.#peerAddress === null && !this.closed) this.#peerAddress = this.peerAddressOfTransport();
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

  /** @internal True while plain I/O must wait for TLS: an operation of the TLS module runs, or a `'both'` attachment waits for its handshake. */
  get sslBusy(): boolean {
    return this.tlsOperation !== null || (this.tls !== null && this.tls.socket === null);
  }

  /** @internal The Node socket under the state (a TLSSocket while TLS is attached), or null (UDP, other transports, detached). */
  get socket(): net.Socket | null {
    return this.transport === nodeStreamTransport ? (this.handle as net.Socket) : null;
  }

  // ------------------------------------------------------------- transport

  /** @internal Makes `handle` of `transport` the state's stream and starts listening to it (paused). */
  attachTransport(handle: unknown, transport: StreamTransport = nodeStreamTransport): void {
    this.transport = transport;
    this.handle = handle;
    transport.attach(handle, this);
    this.#address = null;
    this.#peerAddress = null;
  }

  /**
   * @internal Stops listening to the Node socket and hands it back paused
   * (for TLS attach and detach). Bytes read ahead stay in the read side.
   */
  detachTransport(): net.Socket | null {
    const socket = this.socket;
    if (socket === null) return null;
    nodeStreamTransport.detach(socket);
    this.transport = null;
    this.handle = null;
    this.reader.transportDetached();
    return socket;
  }

  /** @internal Turns the transport's reading on or off (ReadOwner). */
  setReading(on: boolean): boolean {
    if (this.transport === null) return false;
    this.transport.setReading(this.handle, on);
    return true;
  }

  /** @internal StreamSink: bytes arrived. */
  received(chunk: Buffer): void {
    this.reader.onData(chunk);
  }

  /** @internal StreamSink: the peer's FIN. */
  ended(): void {
    this.reader.onEnd();
  }

  /** @internal StreamSink: the connection failed. */
  failed(error: Error): void {
    if (log.enabled) log('%s: socket error %s', this, (error as NodeJS.ErrnoException).code ?? error.message);
    // Write side first: the read side may run its callback at once, and that
    // callback must already see the write direction failed too.
    this.writer.onError(error);
    this.reader.onError(error);
  }

  /** @internal StreamSink: the connection is gone. */
  disconnected(): void {
    this.reader.onEnd();
    this.#writer?.onClose();
  }

  /** @internal StreamSink: the oldest pending write is done. */
  written(error: Error | null): void {
    this.writer.transportWrote(error);
  }

  /** @internal StreamSink: the shutdown('output') asked for is over. */
  outputShut(result: true | string): void {
    this.#writer?.shutdownSettled(result);
  }

  localAddressOfTransport(): SocketAddress | null {
    if (this.udp !== null) return this.udp.localAddress();
    if (this.transport === null) return null;
    // Under Node's TLS the addresses are the TCP socket's.
    return this.transport.localAddress(this.tls?.tcp ?? this.handle);
  }

  peerAddressOfTransport(): SocketAddress | null {
    if (this.udp !== null) return this.udp.peerAddress();
    if (this.transport === null) return null;
    return this.transport.peerAddress(this.tls?.tcp ?? this.handle);
  }

  /** @internal Flushes output batched during the pass of the loop that just ended. */
  flushAfterPass(): void {
    this.#writer?.passEnded();
    if (this.transport !== null) this.transport.flushAfterPass(this.handle);
  }

  /** @internal Aborts the write direction: a stream's writes, or a UDP state's sends. */
  abortOutput(abortCallback: AnyCallback | null): void {
    if (this.udp !== null) this.udp.abortOutput(abortCallback);
    else this.writer.abort(abortCallback);
  }

  /**
   * @internal Closes the state: no further callbacks, timers cleared,
   * connection destroyed (or, with `keepAlive`, handed back paused).
   * Idempotent. Returns the bytes still buffered (readable with
   * asyncIoStateGetBufferedData).
   */
  close(keepAlive: boolean): number {
    if (!this.markClosed()) return this.reader.bufferedLength;
    // Addresses are not fetched here (two system calls per connection): what
    // was read before close stays cached, the rest reads as null.
    this.reader.closed();
    this.#writer?.closed();
    const transport = this.transport;
    if (transport !== null) {
      const handle = this.handle;
      this.transport = null;
      this.handle = null;
      this.reader.transportDetached();
      // Handed back as it is: Node.js cannot take TLS off a socket
      // synchronously, so a TLS session stays up and `state.ssl` still gives
      // it (asyncIoStateDetachSsl first for plain text).
      if (keepAlive) {
        const socket = transport.release(handle);
        // A state on another transport (native) wraps its handle: from now on the program gets the socket.
        if (this.object === handle && transport !== nodeStreamTransport) this.object = socket;
      } else transport.destroy(handle);
    }
    this.udp?.close(keepAlive);
    if (!keepAlive) this.tls = null;
    if (log.enabled) log('%s: closed%s, %d bytes left buffered', this, keepAlive ? ' (socket kept open)' : '', this.reader.bufferedLength);
    this.notifyClosed();
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
