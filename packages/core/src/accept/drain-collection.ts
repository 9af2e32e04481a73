/**
 * Graceful drain of a whole collection: every accepting handle drains (see
 * drain.ts) and every other state of the collection (connected clients,
 * wrapped sockets, UDP states) gets the same deadline.
 */
import { checkCollection, type WaitStateCollection } from '../collection/wait-state-collection.js';
import { secondsToMs } from '../options/validate.js';
import { AsyncIoState } from '../state/async-io-state.js';
import { AcceptingHandle } from './accepting-handle.js';
import { checkDrainOptions, drainHandle, forceClose, type DrainOptions, type DrainResult } from './drain.js';

/** Resolves when every one of `states` has closed (counted as finished), or at `timeoutMs` closes the rest (counted as forced). */
function drainStates(states: AsyncIoState[], timeoutMs: number): Promise<DrainResult> {
  return new Promise<DrainResult>((resolve) => {
    let open = states.filter((s) => !s.closed).length;
    let finished = 0;
    let settled = false;
    const settle = (forced: number): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ finished, forced });
    };
    const timer = setTimeout(() => {
      const left = states.filter((s) => !s.closed);
      settled = true;
      for (const state of left) forceClose(state);
      resolve({ finished, forced: left.length });
    }, timeoutMs);
    for (const state of states) {
      if (state.closed) continue;
      // Chained after whatever observer the state already has.
      const previous = state.closeObserver;
      state.closeObserver = {
        counters: previous?.counters,
        stateClosed(closing: AsyncIoState): void {
          previous?.stateClosed(closing);
          if (settled) return;
          finished++;
          if (--open === 0) settle(0);
        },
      };
    }
    if (open === 0) settle(0);
  });
}

/**
 * Drains every accepting handle of `collection` (each stops accepting at
 * once and gets its `drainCallback`) and waits, at most `timeout` seconds,
 * for every state of the collection to close: the handles' states and the
 * others (connected clients, wrapped sockets, UDP states alike). What is
 * still open then is closed. Resolves with the totals; the collection itself
 * stays alive (stop its loop to end it). Rejects with
 * `ERR_COMMIO_INVALID_ARGUMENT` for a bad argument, before anything changes.
 */
export async function drainWaitStateCollection(collection: WaitStateCollection, options: DrainOptions): Promise<DrainResult> {
  const c = checkCollection(collection);
  const timeoutMs = secondsToMs(checkDrainOptions(options));
  const members = c.members();
  const handles = members.filter((m): m is AcceptingHandle => m instanceof AcceptingHandle);
  const owned = new Set<AsyncIoState>(handles.flatMap((h) => h.connections.states()));
  const others = members.filter((m): m is AsyncIoState => m instanceof AsyncIoState && !owned.has(m));
  const results = await Promise.all([...handles.map((h) => drainHandle(h, timeoutMs)), drainStates(others, timeoutMs)]);
  return results.reduce((sum, r) => ({ finished: sum.finished + r.finished, forced: sum.forced + r.forced }), { finished: 0, forced: 0 });
}
