/**
 * maxConnections: counts the open connections of one accepting handle
 * (states, or raw sockets with `createState: false`) and holds its listeners
 * while the count is at the limit. A state reports its closing through its
 * close observer; a raw socket through its `close` event.
 */
import type net from 'node:net';
import type { AsyncIoState } from '../state/async-io-state.js';
import { logger } from '../debug.js';

const log = logger('accept');

/** What the limit holds and releases: the accepting handle's listeners. */
export interface LimitedAcceptor {
  /** At the limit: stop accepting. */
  limitReached(): void;
  /** Below the limit again: accept again. */
  limitLeft(): void;
}

const kLimit = Symbol('commio.connectionLimit');
type SocketWithLimit = net.Socket & { [kLimit]?: ConnectionLimit | undefined };

function onRawSocketClose(this: net.Socket): void {
  const limit = (this as SocketWithLimit)[kLimit];
  if (limit === undefined) return;
  (this as SocketWithLimit)[kLimit] = undefined;
  limit.connectionClosed();
}

/** The count of open connections of a handle against its `maxConnections`. */
export class ConnectionLimit {
  /** The limit. */
  readonly max: number;
  readonly #acceptor: LimitedAcceptor;
  #open = 0;

  constructor(max: number, acceptor: LimitedAcceptor) {
    this.max = max;
    this.#acceptor = acceptor;
  }

  /** Connections counted as open. */
  get open(): number {
    return this.#open;
  }

  /** A state was made for an accepted connection: counted until it closes. */
  trackState(state: AsyncIoState): void {
    state.closeObserver = this;
    this.#opened();
  }

  /** A raw socket was handed over: counted until its `close` event. */
  trackSocket(socket: net.Socket): void {
    (socket as SocketWithLimit)[kLimit] = this;
    socket.once('close', onRawSocketClose);
    this.#opened();
  }

  #opened(): void {
    if (++this.#open === this.max) {
      log('%d connections open: at maxConnections, not accepting', this.#open);
      this.#acceptor.limitReached();
    }
  }

  /** @internal Close observer of the tracked states. */
  stateClosed(): void {
    this.connectionClosed();
  }

  /** @internal A tracked connection closed. */
  connectionClosed(): void {
    if (this.#open-- === this.max) {
      log('%d connections open: below maxConnections, accepting again', this.#open);
      this.#acceptor.limitLeft();
    }
  }
}
