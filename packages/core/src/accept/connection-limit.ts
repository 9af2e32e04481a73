/**
 * maxConnections: the count of open connections of one accepting handle
 * (states, raw sockets with `createState: false`, connections whose PROXY
 * header is being read) against its limit; its listeners are held while the
 * count is at the limit. The handle's OpenConnections reports opens and
 * closes.
 */
import { logger } from '../debug.js';

const log = logger('accept');

/** What the limit holds and releases: the accepting handle's listeners. */
export interface LimitedAcceptor {
  /** At the limit: stop accepting. */
  limitReached(): void;
  /** Below the limit again: accept again. */
  limitLeft(): void;
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

  /** A connection opened. */
  connectionOpened(): void {
    if (++this.#open === this.max) {
      log('%d connections open: at maxConnections, not accepting', this.#open);
      this.#acceptor.limitReached();
    }
  }

  /** A counted connection closed. */
  connectionClosed(): void {
    if (this.#open-- === this.max) {
      log('%d connections open: below maxConnections, accepting again', this.#open);
      this.#acceptor.limitLeft();
    }
  }
}
