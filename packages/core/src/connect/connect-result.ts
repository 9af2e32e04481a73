/** How a connect's outcome reaches the program: one callback, through the collection. */
import type { Logger } from '../debug.js';
import type { AsyncIoState } from '../state/async-io-state.js';

/** `(state, failure)`: `failure` is `null` once connected, else the error (the state is closed then). */
export type ConnectCallback = (state: AsyncIoState, failure: Error | null) => void;

/** @internal Queues the connect callback: a failure even though the state is closed by it (the callback must learn of it). */
export function deliverConnectResult(state: AsyncIoState, callback: ConnectCallback, failure: Error | null): void {
  if (failure === null) state.deliver(true, callback, null);
  else state.deliverEvenIfClosed(callback, failure);
}

/**
 * @internal The end of a connect attempt, the same on every transport: nothing
 * when the program closed the state meanwhile (it gets no callback); a failure
 * closes the state and is reported. Returns true when connected: the caller
 * then reports success (after the TLS handshake, if any).
 */
export function connectSettled(state: AsyncIoState, host: string, port: number, failure: Error | null, callback: ConnectCallback, log: Logger): boolean {
  if (state.closed) {
    if (log.enabled) log('%s: closed while connecting to %s:%d', state, host, port);
    return false;
  }
  if (failure !== null) {
    if (log.enabled) log('%s: connecting to %s:%d failed: %s', state, host, port, failure.message);
    state.close(false);
    deliverConnectResult(state, callback, failure);
    return false;
  }
  if (log.enabled) log('%s: connected to %s:%d', state, host, port);
  return true;
}
