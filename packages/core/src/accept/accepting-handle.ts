/**
 * The accepting handle: what acceptTcpConnectionsCreatingAsyncIoStates
 * returns and passes to every connection function. It owns the listening
 * socket(s); accepted states live on independently of it.
 */
import type net from 'node:net';
import { logger } from '../debug.js';
import { checkFunction, invalid } from '../options/validate.js';
import type { CollectionMember, WaitStateCollection } from '../collection/wait-state-collection.js';

const log = logger('accept');

/** A running accept: listening sockets feeding a collection. */
export class AcceptingHandle implements CollectionMember {
  /** Any value, kept for the program; never used by commio. */
  userInfo: unknown;
  /** The `handleName` option; shown when the handle is printed. */
  readonly name: unknown;
  /** @internal The listening servers (one per address). */
  servers: net.Server[] = [];
  /** @internal Undoes everything the accept set up (servers, timers, listeners). */
  teardown: (() => void) | null = null;
  #collection: WaitStateCollection | null;
  #localPort = 0;
  #closed = false;

  /** @internal made by acceptTcpConnectionsCreatingAsyncIoStates */
  constructor(collection: WaitStateCollection, name: unknown, userInfo: unknown) {
    this.#collection = collection;
    this.name = name;
    this.userInfo = userInfo;
  }

  toString(): string {
    return `#<accepting-handle ${String(this.name ?? '')} port ${this.#localPort}>`;
  }

  /** The collection, or `null` once the handle is closed. */
  get collection(): WaitStateCollection | null {
    return this.#collection;
  }

  /** The (first) listening server, or `null` once closed. Do no I/O on it. */
  get socket(): net.Server | null {
    return this.#closed ? null : (this.servers[0] ?? null);
  }

  /** The port the (first) listening socket is bound to. */
  get localPort(): number {
    return this.#localPort;
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** @internal */
  setLocalPort(port: number): void {
    this.#localPort = port;
  }

  /** @internal Stops accepting and closes the listening sockets (the ports are free when it returns). */
  close(): WaitStateCollection | null {
    if (this.#closed) return null;
    const collection = this.#collection;
    this.#closed = true;
    this.#collection = null;
    collection?.removeMember(this);
    const teardown = this.teardown;
    this.teardown = null;
    teardown?.();
    log('%s: closed', this);
    return collection;
  }

  /** @internal The collection is closing. */
  closeForCollection(): void {
    this.close();
  }
}

function deliverClosed(collection: WaitStateCollection, callback: (collection: WaitStateCollection) => void): void {
  callback(collection);
}

/**
 * Stops accepting and closes the listening socket(s), freeing the port.
 * `callback(collection)` runs through the collection after the port is
 * released. Accepted states live on. Idempotent.
 */
export function closeAcceptingHandle(handle: AcceptingHandle, callback?: ((collection: WaitStateCollection) => void) | null): void {
  if (!(handle instanceof AcceptingHandle)) invalid('handle', 'an AcceptingHandle', handle);
  const cb = callback === undefined || callback === null ? null : checkFunction<(collection: WaitStateCollection) => void>(callback, 'callback');
  const collection = handle.close();
  if (cb !== null && collection !== null && collection.alive) {
    // The listening descriptors were closed synchronously; the callback runs later, through the collection.
    collection.post(handle, deliverClosed, collection, cb, undefined, undefined);
  }
}

/** `handle.collection` */
export function acceptingHandleCollection(handle: AcceptingHandle): WaitStateCollection | null {
  if (!(handle instanceof AcceptingHandle)) invalid('handle', 'an AcceptingHandle', handle);
  return handle.collection;
}
/** `handle.socket` */
export function acceptingHandleSocket(handle: AcceptingHandle): net.Server | null {
  if (!(handle instanceof AcceptingHandle)) invalid('handle', 'an AcceptingHandle', handle);
  return handle.socket;
}
/** `handle.name` */
export function acceptingHandleName(handle: AcceptingHandle): unknown {
  if (!(handle instanceof AcceptingHandle)) invalid('handle', 'an AcceptingHandle', handle);
  return handle.name;
}
/** `handle.userInfo` */
export function acceptingHandleUserInfo(handle: AcceptingHandle): unknown {
  if (!(handle instanceof AcceptingHandle)) invalid('handle', 'an AcceptingHandle', handle);
  return handle.userInfo;
}
/** `handle.localPort` */
export function acceptingHandleLocalPort(handle: AcceptingHandle): number {
  if (!(handle instanceof AcceptingHandle)) invalid('handle', 'an AcceptingHandle', handle);
  return handle.localPort;
}
