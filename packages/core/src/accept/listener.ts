/**
 * One listening socket of an accepting handle: its `net.Server`, and
 * whether libuv is accepting on it. Accepting stops while any hold is on:
 * - `HOLD_SETUP`: the accept is being set up (connections must not be handed
 *   over before the promise resolved);
 * - `HOLD_FULL`: `maxConnections` connections of the handle are open;
 * - `HOLD_NO_DESCRIPTOR`: the process ran out of file descriptors (see
 *   descriptor-pressure.ts: all listeners of the process wait together);
 * - `HOLD_BACKOFF`: accept failed (reported by libuv before 1.45): wait,
 *   100 ms doubling to 1 s, until a descriptor can be opened again.
 *
 * On a pausable listener (see native-listen.ts) a hold stops libuv's accept
 * watcher: new connections wait in the kernel backlog, nothing is accepted
 * and dropped, the port stays bound. libuv accepts one connection per poll,
 * so a hold put on inside the connection event takes effect before the next
 * accept. A listener that is not pausable (a `net.Server` Node bound itself)
 * can only honour `HOLD_SETUP` (its owner queues what it accepts meanwhile).
 */
import type net from 'node:net';
import { logger } from '../debug.js';
import { errorCode } from '../errors.js';
import { nextBackoffMs } from './accept-backoff.js';
import {
  descriptorAvailable,
  descriptorsFine,
  noDescriptorLeft,
  tableFullAfter,
  unwatchDescriptors,
  watchDescriptors,
  type DescriptorWatcher,
} from './descriptor-pressure.js';
import { markNoDelay, socketDescriptor } from '../node-internals.js';
import { serverHandle, startAccepting, stopAccepting } from './native-listen.js';
import type { AcceptEventsOwner, AcceptListener } from './accept-listener.js';
import type { BoundServer } from './bind-servers.js';

const log = logger('accept');

/** The accept is being set up. */
export const HOLD_SETUP = 1;
/** `maxConnections` connections are open. */
export const HOLD_FULL = 2;
/** Waiting after an accept error. */
export const HOLD_BACKOFF = 4;
/** The process has no file descriptor left. */
export const HOLD_NO_DESCRIPTOR = 8;

/** What a listener reports to: the accepting handle (and the statistics events of either transport). */
export interface ListenerOwner extends AcceptEventsOwner {
  /** A connection was accepted on `listener`. */
  accepted(listener: Listener, socket: net.Socket): void;
}

const kListener = Symbol('commio.listener');
type ServerWithListener = net.Server & { [kListener]?: Listener | undefined };

// Shared listeners that find their Listener through the server: no closures per server.
function onConnection(this: net.Server, socket: net.Socket): void {
  const listener = (this as ServerWithListener)[kListener];
  if (listener === undefined) {
    socket.destroy();
    return;
  }
  listener.onConnection(socket);
}
function onServerError(this: net.Server, error: Error): void {
  (this as ServerWithListener)[kListener]?.onAcceptError(error);
}
function onBackoffEnd(this: Listener): void {
  this.endBackoff();
}

/** A listening socket that can stop and resume accepting. */
export class Listener implements DescriptorWatcher, AcceptListener {
  /** The listening server. */
  readonly server: net.Server;
  /** True when holds stop libuv from accepting (kernel backlog); false: only `HOLD_SETUP` is honoured, by the owner. */
  readonly pausable: boolean;
  /** Where it was asked to listen, for logs (`127.0.0.1:8080`, `fd 3`, ...). */
  readonly where: string;
  readonly #owner: ListenerOwner;
  /** Accepted sockets took TCP_NODELAY over from the listening socket: mark them as Node would. */
  readonly #noDelayInherited: boolean;
  #holds = HOLD_SETUP;
  #accepting: boolean;
  #backoffMs = 0;
  #timer: NodeJS.Timeout | null = null;
  #closed = false;

  /** `bound.server` listens already; a pausable one is left accepting (its handle reading). Starts held by `HOLD_SETUP`. */
  constructor(bound: BoundServer, owner: ListenerOwner) {
    const server = bound.server;
    this.server = server;
    this.pausable = bound.pausable;
    this.where = bound.where;
    this.#owner = owner;
    this.#noDelayInherited = bound.noDelayInherited;
    this.#accepting = true;
    (server as ServerWithListener)[kListener] = this;
    server.on('connection', onConnection);
    server.on('error', onServerError);
    this.#apply();
    if (this.pausable) watchDescriptors(this);
  }

  /** The port it is bound to (0 when unknown). */
  get port(): number {
    const bound = this.#closed ? null : this.server.address();
    return typeof bound === 'object' && bound !== null ? bound.port : 0;
  }

  /** True while a hold is on. */
  get held(): boolean {
    return this.#holds !== 0;
  }

  /** True while libuv accepts on it. */
  get accepting(): boolean {
    return this.#accepting && !this.#closed;
  }

  /** Puts a hold on (HOLD_*). */
  hold(reason: number): void {
    this.#holds |= reason;
    this.#apply();
  }

  /** Takes a hold off (HOLD_*). */
  release(reason: number): void {
    this.#holds &= ~reason;
    this.#apply();
  }

  #apply(): void {
    if (!this.pausable || this.#closed) return;
    const want = this.#holds === 0;
    if (want === this.#accepting) return;
    const handle = serverHandle(this.server);
    if (handle === null) return;
    if (want) {
      this.#accepting = startAccepting(handle);
    } else {
      stopAccepting(handle);
      this.#accepting = false;
    }
  }

  /** @internal A connection was accepted. */
  onConnection(socket: net.Socket): void {
    this.#backoffMs = 0;
    if (this.#noDelayInherited) markNoDelay(socket);
    if (this.pausable) {
      // The last free descriptor: stop before libuv sheds (drops) the next connections.
      if (tableFullAfter(socketDescriptor(socket))) noDescriptorLeft(this.where);
      else descriptorsFine();
    }
    this.#owner.accepted(this, socket);
  }

  /** @internal DescriptorWatcher */
  descriptorsExhausted(): void {
    this.#owner.descriptorsExhausted(this);
    this.hold(HOLD_NO_DESCRIPTOR);
  }

  /** @internal DescriptorWatcher */
  descriptorsAvailable(): void {
    this.release(HOLD_NO_DESCRIPTOR);
  }

  /** @internal Accepting failed (reported by libuv before 1.45): back off. */
  onAcceptError(error: Error): void {
    if (this.#closed) return;
    this.#owner.acceptFailed(this, error);
    const code = errorCode(error) ?? error.message;
    if (!this.pausable) {
      log('%s: accept failed (%s); this socket cannot be paused', this.where, code);
      return;
    }
    this.#backOff(`accept failed: ${code}`);
  }

  /** Stops accepting for the next back-off delay (100 ms, doubling to 1 s). */
  #backOff(why: string): void {
    if ((this.#holds & HOLD_BACKOFF) !== 0) return;
    this.#backoffMs = nextBackoffMs(this.#backoffMs);
    log('%s: %s: not accepting for %d ms', this.where, why, this.#backoffMs);
    this.hold(HOLD_BACKOFF);
    this.#timer = setTimeout(onBackoffEnd.bind(this), this.#backoffMs);
  }

  /** @internal The back-off delay is over: accept again if a descriptor can be had, else wait longer. */
  endBackoff(): void {
    this.#timer = null;
    if (this.#closed) return;
    if (!descriptorAvailable()) {
      this.#backoffMs = nextBackoffMs(this.#backoffMs);
      log('%s: still no descriptor: not accepting for %d ms', this.where, this.#backoffMs);
      this.#timer = setTimeout(onBackoffEnd.bind(this), this.#backoffMs);
      return;
    }
    log('%s: accepting again after an accept error', this.where);
    this.release(HOLD_BACKOFF);
  }

  /** Closes the listening socket (the port is free when this returns). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.pausable) unwatchDescriptors(this);
    const server = this.server as ServerWithListener;
    server[kListener] = undefined;
    server.removeListener('connection', onConnection);
    // Keep an error listener: a late error must not crash the process.
    server.close();
  }
}
