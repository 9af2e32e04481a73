/** How a connect's outcome reaches the program: one callback, through the collection. */
import type { AsyncIoState } from '../state/async-io-state.js';

/** `(state, failure)`: `failure` is `null` once connected, else the error (the state is closed then). */
export type ConnectCallback = (state: AsyncIoState, failure: Error | null) => void;

/** @internal Queues the connect callback: a failure even though the state is closed by it (the callback must learn of it). */
export function deliverConnectResult(state: AsyncIoState, callback: ConnectCallback, failure: Error | null): void {
  if (failure === null) state.deliver(true, callback, null);
  else state.deliverEvenIfClosed(callback, failure);
}
