/**
 * The accepting handle: what acceptTcpConnectionsCreatingAsyncIoStates
 * resolves with and passes to every connection function. It owns the
 * listening socket(s); accepted connections live on independently of it.
 */
import type net from 'node:net';
import { inspect } from 'node:util';
import { logger } from '../debug.js';
import { CollectionClosedError } from '../errors.js';
import { checkFunction, invalid } from '../options/validate.js';
import type { CollectionMember, WaitStateCollection } from '../collection/wait-state-collection.js';
import type { AsyncIoState } from '../state/async-io-state.js';
import type { AcceptSettings } from './accept-settings.js';
import { ConnectionLimit, type LimitedAcceptor } from './connection-limit.js';
import { OpenConnections } from './open-connections.js';
import { HOLD_FULL, HOLD_SETUP, type Listener, type ListenerOwner } from './listener.js';
import type { AcceptListener } from './accept-listener.js';
import { collectionCounters } from '../stats/stats-counters.js';
import { acceptFailed, acceptsPaused } from '../stats/accept-events.js';

const log = logger('accept');

/** Called with the handle and each accepted connection (a state, or with `createState: false` the paused raw socket). */
export type ConnectionFunction = (handle: AcceptingHandle, state: AsyncIoState | net.Socket) => void;

/** A running accept: listening sockets feeding a collection. */
export class AcceptingHandle implements CollectionMember, ListenerOwner, LimitedAcceptor {
  /** Any value, kept for the program; never used by commio. */
  userInfo: unknown;
  /** The `handleName` option (else `name`); shown when the handle is printed. */
  readonly name: unknown;
  /** @internal The collection the handle was made in (kept after closing). */
  readonly home: WaitStateCollection;
  /** @internal The checked options. */
  readonly settings: AcceptSettings<AcceptingHandle>;
  /** @internal */
  readonly connectionFunction: ConnectionFunction;
  /** Hands an accepted socket over (hand-over.ts, given by the maker: it needs this class, not the other way round). */
  readonly #handOver: (handle: AcceptingHandle, socket: net.Socket) => void;
  /** @internal The open-connection count, with maxConnections. */
  readonly limit: ConnectionLimit | null;
  /** @internal The connections the handle made that are still open. */
  readonly connections: OpenConnections;
  /** @internal Link of the collection's member list (member-list.ts). */
  previousMember: CollectionMember | null = null;
  /** @internal Link of the collection's member list (member-list.ts). */
  nextMember: CollectionMember | null = null;
  #listeners: AcceptListener[] = [];
  #localPort = 0;
  #closed = false;
  #ready = false;
  /** Connections a listener that cannot pause accepted before the handle was ready. */
  #early: net.Socket[] | null = null;
  /** Aborted when the handle closes while the accept is being set up. */
  #setup: AbortController | null = new AbortController();

  /** @internal made by acceptTcpConnectionsCreatingAsyncIoStates */
  constructor(
    collection: WaitStateCollection,
    settings: AcceptSettings<AcceptingHandle>,
    connectionFunction: ConnectionFunction,
    handOver: (handle: AcceptingHandle, socket: net.Socket) => void,
  ) {
    this.#handOver = handOver;
    this.home = collection;
    this.settings = settings;
    this.connectionFunction = connectionFunction;
    this.name = settings.handleName;
    this.userInfo = settings.userInfo;
    this.limit = settings.maxConnections === null ? null : new ConnectionLimit(settings.maxConnections, this);
    this.connections = new OpenConnections(this.limit, collection, collectionCounters(collection));
  }

  toString(): string {
    const name = this.name;
    const text = typeof name === 'string' ? name : name === null || name === undefined ? '' : inspect(name, { depth: 0 });
    return `#<accepting-handle ${text} port ${this.#localPort}>`;
  }

  /** The collection, or `null` once the handle is closed. */
  get collection(): WaitStateCollection | null {
    return this.#closed ? null : this.home;
  }

  /** The (first) listening server, or `null` once closed (and with `transport: 'native'`, which has none). Do no I/O on it; address queries are fine. */
  get socket(): net.Server | null {
    return this.#closed ? null : (this.#listeners[0]?.server ?? null);
  }

  /** Every listening server, one per address, in address order (empty once closed, and with `transport: 'native'`). */
  get sockets(): readonly net.Server[] {
    return this.#closed ? [] : this.#listeners.flatMap((l) => (l.server === null ? [] : [l.server]));
  }

  /** The port the (first) listening socket is bound to. */
  get localPort(): number {
    return this.#localPort;
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Connections of the handle open now (states, or raw sockets with `createState: false`), when `maxConnections` is set; else `null`. */
  get openConnections(): number | null {
    return this.limit?.open ?? null;
  }

  /** True while the handle accepts (false while held at maxConnections, backing off after an accept error, or closed). */
  get accepting(): boolean {
    return !this.#closed && this.#ready && this.#listeners.every((l) => l.accepting);
  }

  /** @internal The signal aborted when the handle closes during setup. */
  get setupSignal(): AbortSignal {
    return this.#setup?.signal ?? AbortSignal.abort(new CollectionClosedError(`${String(this)} is closed`));
  }

  /**
   * @internal The listeners are bound: the handle owns them from now on (closes them if it closed meanwhile).
   * @param listeners - Node or native listening sockets.
   */
  adopt(listeners: AcceptListener[]): void {
    if (this.#closed) {
      for (const listener of listeners) listener.close();
      return;
    }
    this.#listeners = listeners;
    this.#localPort = listeners[0]?.port ?? 0;
    if (listeners.some((l) => !l.pausable)) this.#early = [];
  }

  /** @internal Setup is over: hand over what waits and accept from now on. */
  start(): void {
    this.#setup = null;
    if (this.#closed) return;
    this.#ready = true;
    for (const listener of this.#listeners) listener.release(HOLD_SETUP);
    const early = this.#early;
    this.#early = null;
    if (early !== null) for (const socket of early) this.#handOver(this, socket);
  }

  /** @internal ListenerOwner: a connection arrived. */
  accepted(_listener: Listener, socket: net.Socket): void {
    if (this.#closed) {
      socket.destroy();
      return;
    }
    if (!this.#ready) {
      if (this.#early !== null) this.#early.push(socket);
      else socket.destroy();
      return;
    }
    this.#handOver(this, socket);
  }

  /** @internal LimitedAcceptor */
  limitReached(): void {
    acceptsPaused(this.connections, 'maxConnections');
    for (const listener of this.#listeners) listener.hold(HOLD_FULL);
  }

  /** @internal ListenerOwner: `listener` stopped accepting for want of descriptors (every listener is told: the first one counts). */
  descriptorsExhausted(listener: AcceptListener): void {
    if (listener === this.#listeners[0]) acceptsPaused(this.connections, 'descriptors');
  }

  /** @internal ListenerOwner: accepting failed on `listener`. */
  acceptFailed(_listener: AcceptListener, error: Error): void {
    acceptFailed(this, error);
  }

  /** @internal LimitedAcceptor */
  limitLeft(): void {
    for (const listener of this.#listeners) listener.release(HOLD_FULL);
  }

  /**
   * @internal Stops accepting and closes the listening sockets (the ports are
   * free when it returns). Returns false when it was closed already.
   */
  close(reason?: Error): boolean {
    if (this.#closed) return false;
    this.#closed = true;
    this.home.removeMember(this);
    const setup = this.#setup;
    this.#setup = null;
    setup?.abort(reason ?? new CollectionClosedError(`${String(this)} was closed while it was being set up`));
    for (const listener of this.#listeners) listener.close();
    const early = this.#early;
    this.#early = null;
    if (early !== null) for (const socket of early) socket.destroy();
    log('%s: closed', this);
    return true;
  }

  /** @internal The collection is closing. */
  closeForCollection(): void {
    this.close(new CollectionClosedError(`the collection of ${String(this)} was closed while the accept was being set up`));
  }
}

function deliverClosed(collection: WaitStateCollection, callback: (collection: WaitStateCollection) => void): void {
  callback(collection);
}

function checkHandle(handle: unknown): AcceptingHandle {
  if (!(handle instanceof AcceptingHandle)) invalid('handle', 'an AcceptingHandle', handle);
  return handle;
}

/**
 * Stops accepting and closes the listening socket(s): the port is free
 * when this returns. `callback(collection)` then runs through the
 * collection (later, never inside this call). Accepted states live on.
 * Idempotent: on a closed handle it only schedules the callback.
 */
export function closeAcceptingHandle(handle: AcceptingHandle, callback?: ((collection: WaitStateCollection) => void) | null): void {
  const h = checkHandle(handle);
  const cb = callback === undefined || callback === null ? null : checkFunction<(collection: WaitStateCollection) => void>(callback, 'callback');
  h.close();
  if (cb !== null) h.home.post(h, deliverClosed, h.home, cb);
}

/** `handle.collection`: the collection, `null` once closed. */
export function acceptingHandleCollection(handle: AcceptingHandle): WaitStateCollection | null {
  return checkHandle(handle).collection;
}
/** `handle.socket`: the (first) listening server, `null` once closed. */
export function acceptingHandleSocket(handle: AcceptingHandle): net.Server | null {
  return checkHandle(handle).socket;
}
/** `handle.name` */
export function acceptingHandleName(handle: AcceptingHandle): unknown {
  return checkHandle(handle).name;
}
/** `handle.userInfo` */
export function acceptingHandleUserInfo(handle: AcceptingHandle): unknown {
  return checkHandle(handle).userInfo;
}
/** `handle.localPort`: the port the (first) listening socket is bound to. */
export function acceptingHandleLocalPort(handle: AcceptingHandle): number {
  return checkHandle(handle).localPort;
}
