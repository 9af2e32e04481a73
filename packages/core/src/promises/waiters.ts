/**
 * The promises of each state still waiting for their callback, by
 * direction. An abort ends every operation of a direction (all writes in
 * flight, as asyncIoStateAbort does; a shutdown with `abort: true` silences
 * them), so the promises of all of them must settle, not only the one whose
 * signal fired.
 */
import { StateClosedError } from '../errors.js';
import type { AsyncIoState } from './callback-api.js';
import type { Settle } from './settle.js';

/** The direction an operation waits in. */
export type WaitDirection = 'input' | 'output';

type Waiting = Record<WaitDirection, Set<Settle<never>>>;

const waiting = new WeakMap<AsyncIoState, Waiting>();

/** Records an operation's promise until its callback; returns the function that forgets it. */
export function awaitCallback<T>(state: AsyncIoState, direction: WaitDirection, settle: Settle<T>): () => void {
  let entry = waiting.get(state);
  if (entry === undefined) {
    entry = { input: new Set(), output: new Set() };
    waiting.set(state, entry);
    // A closed state calls nothing back: its waiting promises are rejected here instead of hanging.
    state.whenClosed(() => {
      const reason = new StateClosedError(`${String(state)} was closed while an operation waited`);
      rejectWaiting(state, 'input', reason);
      rejectWaiting(state, 'output', reason);
      waiting.delete(state);
    });
  }
  const set = entry[direction] as Set<Settle<T>>;
  set.add(settle);
  return () => {
    set.delete(settle);
  };
}

/** Rejects every waiting operation of `state` in `direction` with `reason`: an abort silenced their callbacks. */
export function rejectWaiting(state: AsyncIoState, direction: WaitDirection, reason: unknown): void {
  const set = waiting.get(state)?.[direction];
  if (set === undefined) return;
  const aborted = [...set];
  set.clear();
  for (const settle of aborted) settle.reject(reason);
}
