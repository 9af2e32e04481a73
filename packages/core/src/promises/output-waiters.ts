/**
 * The promise writes and sends of each state still waiting for their
 * callback. Aborting output aborts every write in flight on the state (as
 * asyncIoStateAbort does), so the promises of all of them must settle, not
 * only the one whose signal fired.
 */
import type { AsyncIoState } from './callback-api.js';
import type { Settle } from './operation.js';

const waiting = new WeakMap<AsyncIoState, Set<Settle<void>>>();

/** Records a write's promise until its callback; returns the function that forgets it. */
export function awaitOutput(state: AsyncIoState, settle: Settle<void>): () => void {
  let set = waiting.get(state);
  if (set === undefined) {
    set = new Set();
    waiting.set(state, set);
  }
  set.add(settle);
  const owner = set;
  return () => {
    owner.delete(settle);
    if (owner.size === 0 && waiting.get(state) === owner) waiting.delete(state);
  };
}

/** Rejects every waiting write of `state` with `reason`: their callbacks were silenced by an abort. */
export function rejectWaitingOutput(state: AsyncIoState, reason: unknown): void {
  const set = waiting.get(state);
  if (set === undefined) return;
  waiting.delete(state);
  for (const settle of set) settle.reject(reason);
}
