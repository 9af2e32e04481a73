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
import { ReadSide } from './read-side.js';
import { TRANSPORT_MASK, TRANSPORT_SHIFT } from './state-bits.js';
import { TRANSPORT_IN_RARE, transportInSlot, transportSlot } from './transport-slots.js';
import type { RareFields, SslSide, StateTlsInfo, TlsOperation } from './rare-fields.js';
import { WriteSide, type WriteOwner } from './write-side.js';
import type { StateKind } from './state-kind.js';
import { STREAM_KIND, type StreamParts } from './stream-kind.js';
import type { StateSettings } from './state-limits.js';
import type { IoStatus } from './status.js';
import type { ProxyHeader } from '../proxy/proxy-header.js';
import { collectionCounters } from '../stats/stats-counters.js';
import { stateClosed, stateOpened, type CountedState } from '../stats/state-events.js';
import type { StatsCounters } from '../stats/stats-counters.js';

export type { SocketAddress } from '../transports/stream-transport.js';
export type { StateSettings } from './state-limits.js';
export { DEFAULT_STATE_SETTINGS } from './state-limits.js';

const log = logger('state');

export type { SslSide, StateTlsInfo, TlsOperation } from './rare-fields.js';

/**
 * One connection (or UDP socket) in a collection. One object per
 * connection: the shell, the read-with-checking layer and the read side are
 * layers of it (classes it extends), and fields most states never set live
 * in its rare-field record (rare-fields.ts).
 */
export class AsyncIoState extends ReadSide implements StreamSink, PassFlushable, WriteOwner, CountedState {
  /** Made on first use: most idle connections never write. */
  #writer: WriteSide | null = null;
  /**
   * @internal The kind-specific part (state-kind.ts): the shared stream part
   * (on the prototype, so a stream state has no field for it), or a UDP
   * state's own transport.
   */
  declare kind: StateKind<StreamParts>;
  /** Bytes received so far (plaintext under TLS; stream states only). */
  bytesRead = 0;

  /** @internal use the creators (createAsyncIoState, accept, connect, UDP, createStateOnTransport) */
  constructor(collection: WaitStateCollection, object: unknown, settings: StateSettings) {
    super(collection, object, settings);
    collection.addMember(this);
    stateOpened(this);
  }

  /**
   * @internal The stream transport's driver; null for UDP and while
   * detached. Kept as a slot number in the bit field (transport-slots.ts).
   */
  get transport(): StreamTransport | null {
    const slot = (this.bits & TRANSPORT_MASK) >> TRANSPORT_SHIFT;
    return slot === TRANSPORT_IN_RARE ? (this.rare as RareFields).transport : transportInSlot(slot);
  }
  /** @internal Sets the transport (a field only when it has no slot). */
  set transport(value: StreamTransport | null) {
    const slot = transportSlot(value);
    this.bits = (this.bits & ~TRANSPORT_MASK) | (slot << TRANSPORT_SHIFT);
    if (slot === TRANSPORT_IN_RARE || this.rare !== null) this.rareFields().transport = slot === TRANSPORT_IN_RARE ? value : null;
  }

  /**
   * @internal The stream transport's handle of this connection (null without
   * a transport). Most often the state's `object` itself (the socket, the
   * native id): only a handle that differs (a TLS socket) takes a field, in
   * the rare-field record.
   */
  get handle(): unknown {
    if (this.transport === null) return null;
    const own = this.rare === null ? null : this.rare.handle;
    return own === null ? this.object : own;
  }
  /** @internal Sets the handle (a field only when it is not the object). */
  set handle(value: unknown) {
    const differs = value !== null && value !== this.object;
    if (differs || this.rare !== null) this.rareFields().handle = differs ? value : null;
  }

  /** @internal The read direction: a layer of the state itself. */
  get reader(): ReadSide {
    return this;
  }

  /** @internal Statistics: the accepting handle's counters, for an accepted state (its close observer holds them). */
  get handleCounters(): StatsCounters | null {
    return this.closeObserver?.counters ?? null;
  }

  /** @internal Statistics: the collection's counters (stats/). */
  get collectionCounters(): StatsCounters {
    return collectionCounters(this.collection);
  }

  /** @internal TLS facts while TLS is attached. */
  get tls(): StateTlsInfo | null {
    return this.rare === null ? null : this.rare.tls;
  }
  set tls(value: StateTlsInfo | null) {
    if (value !== null || this.rare !== null) this.rareFields().tls = value;
  }

  /** @internal What the TLS module is doing (see TlsOperation). */
  get tlsOperation(): TlsOperation {
    return this.rare === null ? null : this.rare.tlsOperation;
  }
  set tlsOperation(value: TlsOperation) {
    if (value !== null || this.rare !== null) this.rareFields().tlsOperation = value;
  }

  /** @internal The PROXY protocol header; set once by the accept path (see `proxyHeader`). */
  get acceptedProxyHeader(): ProxyHeader | null {
    return this.rare === null ? null : this.rare.acceptedProxyHeader;
  }
  set acceptedProxyHeader(value: ProxyHeader | null) {
    if (value !== null || this.rare !== null) this.rareFields().acceptedProxyHeader = value;
  }

  /** UDP: datagrams dropped so far because the receive queue was full (always 0 on TCP states). */
  get droppedMessageCount(): number {
    return this.kind.droppedMessageCount(this);
  }

  /** UDP: datagrams received and waiting for a receive (always 0 on TCP states). */
  get queuedMessageCount(): number {
    return this.kind.queuedMessageCount(this);
  }

  /** Bytes of writes completed so far (plaintext under TLS; stream states only). Counted by the write side: a state that never wrote has no field for it. */
  get bytesWritten(): number {
    return this.#writer === null ? 0 : this.#writer.bytesWritten;
  }
  /** @internal Sets the count (the write side keeps it). */
  set bytesWritten(value: number) {
    if (value !== 0 || this.#writer !== null) this.writer.bytesWritten = value;
  }

  /** @internal The write direction (made on first use). */
  get writer(): WriteSide {
    return (this.#writer ??= new WriteSide(this));
  }

  /** @internal The write direction if it was made, else null. */
  get madeWriter(): WriteSide | null {
    return this.#writer;
  }

  /** Status of the read direction. */
  get readStatus(): IoStatus {
    return this.kind.readStatus(this);
  }

  /** Status of the write direction. */
  get writeStatus(): IoStatus {
    return this.kind.writeStatus(this);
  }

  /** Bytes received and not yet consumed. */
  get bufferedDataLength(): number {
    return this.bufferedLength;
  }

  /** Bytes of writes handed to the state and not yet completed. */
  get queuedOutputLength(): number {
    return this.kind.queuedOutputLength(this);
  }

  /**
   * The local address, or `null` when unknown. Read from the transport on
   * first use and cached; a value read before close stays available after
   * it, but a state closed before anyone asked gives `null` (fetching
   * addresses at every close would cost two system calls per connection).
   */
  get address(): SocketAddress | null {
    const cached = this.rare === null ? null : this.rare.address;
    if (cached !== null || this.closed) return cached;
    const address = this.kind.localAddress(this);
    if (address !== null) this.rareFields().address = address;
    return address;
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
    const cached = this.rare === null ? null : this.rare.peerAddress;
    if (cached !== null || this.closed) return cached;
    const peerAddress = this.kind.peerAddress(this);
    if (peerAddress !== null) this.rareFields().peerAddress = peerAddress;
    return peerAddress;
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
    const rare = this.rare;
    return rare !== null && (rare.tlsOperation !== null || (rare.tls !== null && rare.tls.socket === null));
  }

  /** @internal The Node socket under the state (a TLSSocket while TLS is attached), or null (UDP, other transports, detached). */
  get socket(): net.Socket | null {
    return this.transport === nodeStreamTransport ? (this.handle as net.Socket) : null;
  }

  // ------------------------------------------------------------- transport

  /** @internal Makes `handle` of `transport` the state's stream and starts listening to it (paused). */
  attachTransport(handle: unknown, transport: StreamTransport = nodeStreamTransport): void {
    this.takeAttachedTransport(handle, transport);
    transport.attach(handle, this);
  }

  /** @internal Makes `handle` of `transport` the state's stream, its reports already coming to this state (through a forwarding sink). */
  takeAttachedTransport(handle: unknown, transport: StreamTransport): void {
    this.transport = transport;
    this.handle = handle;
    const rare = this.rare;
    if (rare !== null) rare.address = rare.peerAddress = null;
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
    this.transportDetached();
    return socket;
  }

  /** @internal Turns the transport's reading on or off (the read side's switch). */
  setReading(on: boolean): boolean {
    if (this.transport === null) return false;
    this.transport.setReading(this.handle, on);
    return true;
  }

  /** @internal StreamSink: bytes arrived. */
  received(chunk: Buffer): void {
    this.bytesRead += chunk.length;
    this.onData(chunk);
  }

  /** @internal StreamSink: the peer's FIN. */
  ended(): void {
    this.onEnd();
  }

  /** @internal StreamSink: the connection failed. */
  failed(error: Error): void {
    if (log.enabled) log('%s: socket error %s', this, (error as NodeJS.ErrnoException).code ?? error.message);
    // Write side first: the read side may run its callback at once, and that
    // callback must already see the write direction failed too.
    this.writer.onError(error);
    this.onError(error);
  }

  /** @internal StreamSink: the connection is gone. */
  disconnected(): void {
    this.onEnd();
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

  /** @internal Flushes output batched during the pass of the loop that just ended. */
  flushAfterPass(): void {
    this.#writer?.passEnded();
    if (this.transport !== null) this.transport.flushAfterPass(this.handle);
  }

  /**
   * @internal Closes the state: no further callbacks, timers cleared,
   * connection destroyed (or, with `keepAlive`, handed back paused).
   * Idempotent. Returns the bytes still buffered (readable with
   * asyncIoStateGetBufferedData).
   */
  close(keepAlive: boolean): number {
    if (!this.markClosed()) return this.bufferedLength;
    stateClosed(this, this.inputEnded);
    // Addresses are not fetched here (two system calls per connection): what
    // was read before close stays cached, the rest reads as null.
    this.kind.closed(this, keepAlive);
    if (log.enabled) log('%s: closed%s, %d bytes left buffered', this, keepAlive ? ' (socket kept open)' : '', this.bufferedLength);
    this.notifyClosed();
    const listeners = this.rare === null ? null : this.rare.closeListeners;
    if (listeners !== null) {
      (this.rare as RareFields).closeListeners = null;
      for (const listener of listeners) listener();
    }
    return this.bufferedLength;
  }

  /**
   * @internal Runs `listener` once when the state closes (at once when it is
   * closed): for layers over the callback API whose pending operations would
   * otherwise never hear of a close (a closed state calls nothing back).
   */
  whenClosed(listener: () => void): void {
    if (this.closed) {
      listener();
      return;
    }
    (this.rareFields().closeListeners ??= []).push(listener);
  }

  /** @internal The collection is closing: close without callbacks. */
  override closeForCollection(): void {
    this.closeAborted = true;
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

// A stream state's kind is the shared stream part: on the prototype, not a field of each state.
AsyncIoState.prototype.kind = STREAM_KIND;
