/** How a connect's outcome reaches the program: one callback, through the collection. */
import type { AsyncIoState } from '../state/async-io-state.js';

/** `(state, failure)`: `failure` is `null` once connected, else the error (the state is closed then). */
export type ConnectCallback = (state: AsyncIoState, failure: Error | null) => void;

/** @internal Runs the connect callback inside the state's callback bracket (dispatched through the collection). */
export function deliverConnectResult(state: AsyncIoState, callback: ConnectCallback, failure: Error | null): void {
  // Runs even when the state was closed by the failure: the callback must learn of it.
  if (failure === null && state.closed) return;
  state.enterCallback();
  try {
    callback(state, failure);
  } finally {
    state.leaveCallback();
  }
}
