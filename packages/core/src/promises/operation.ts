/**
 * One promise over one callback operation, with its `AbortSignal`.
 *
 * Misuse (a bad argument, a second read while one is active, a closed state)
 * is thrown by the callback API inside the promise's executor, so it becomes
 * the promise's rejection before anything was started, as API.md section 1
 * asks of every function that returns a promise.
 */
import { InvalidArgumentError } from '../errors.js';
import { checkOptions } from '../options/validate.js';
import { asyncIoStateAbort, type AsyncIoState } from './callback-api.js';
import type { Settle } from './settle.js';
import { awaitCallback, rejectWaiting, type WaitDirection } from './waiters.js';

export type { Settle } from './settle.js';

/** `options.signal`: absent, or an `AbortSignal`. */
export function checkSignal(value: unknown, name = 'options.signal'): AbortSignal | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof AbortSignal)) throw new InvalidArgumentError(name, 'must be an AbortSignal');
  return value;
}

/** Lets every key through (the callback API behind checks them). */
const ANY_KEY: ReadonlySet<string> = { has: () => true } as unknown as ReadonlySet<string>;

/** An operation's options once checked, without `signal`. */
export type OtherOptions = Record<string, unknown>;

/**
 * Returns a promise that checks `options` (only the `allowed` keys, or with
 * `null` any key, left for the callback API to check; `signal` an
 * AbortSignal) and runs `start(otherOptions, settle)` at once, in its
 * executor: whatever they throw rejects the promise. With `signal` already
 * aborted, the promise rejects with its reason and nothing starts; aborted
 * later, while the operation is unsettled, `onAbort(reason, settle)` runs and
 * decides how the operation ends. With `waitsOn`, the started operation is
 * recorded as waiting in that direction of the state until it settles.
 */
export function operation<T>(
  options: unknown,
  allowed: ReadonlySet<string> | null,
  start: (otherOptions: OtherOptions, settle: Settle<T>) => void,
  onAbort: (reason: unknown, settle: Settle<T>) => void,
  waitsOn: { state: AsyncIoState; direction: WaitDirection } | null = null,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const { signal: signalValue, ...otherOptions } = checkOptions(options, allowed ?? ANY_KEY);
    const signal = checkSignal(signalValue);
    if (signal?.aborted === true) {
      // The reason is the caller's (an AbortError DOMException unless they gave one).
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      reject(signal.reason);
      return;
    }
    let settled = false;
    let listener: (() => void) | null = null;
    let forget: (() => void) | null = null;
    const finish = (): void => {
      settled = true;
      if (listener !== null) signal?.removeEventListener('abort', listener);
      listener = null;
      forget?.();
    };
    const settle: Settle<T> = {
      resolve(value) {
        if (settled) return;
        finish();
        resolve(value);
      },
      reject(error) {
        if (settled) return;
        finish();
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- an abort's reason is the caller's, whatever it is
        reject(error);
      },
      get settled() {
        return settled;
      },
    };
    start(otherOptions, settle);
    if (settle.settled) return;
    if (waitsOn !== null) forget = awaitCallback(waitsOn.state, waitsOn.direction, settle);
    if (signal !== undefined) {
      listener = () => {
        if (!settled) onAbort(signal.reason, settle);
      };
      signal.addEventListener('abort', listener, { once: true });
    }
  });
}

/**
 * An operation of `state` in `direction` (a read or a write): aborting its
 * signal aborts that direction as asyncIoStateAbort does, and every promise
 * whose operation that ended rejects with the signal's reason.
 */
export function stateOperation<T>(
  state: AsyncIoState,
  direction: WaitDirection,
  options: unknown,
  allowed: ReadonlySet<string>,
  start: (otherOptions: OtherOptions, settle: Settle<T>) => void,
): Promise<T> {
  return operation<T>(
    options,
    allowed,
    start,
    (reason) => abortDirection(state, direction, () => rejectWaiting(state, direction, reason)),
    { state, direction },
  );
}

/**
 * Aborts the operations of `direction` on `state` as asyncIoStateAbort does,
 * then calls `aborted()` if one was active (its own callback will not run).
 * When none was active the operation had already completed: its callback is
 * on its way and settles the promise, so nothing received is lost. A closed
 * state counts as aborted.
 */
export function abortDirection(state: AsyncIoState, direction: 'input' | 'output', aborted: () => void): void {
  if (state.closed) {
    aborted();
    return;
  }
  // The abort callback gets (state, null, null) when nothing was active, else the aborted operation's arguments.
  asyncIoStateAbort(
    state,
    (_state: AsyncIoState, first?: unknown) => {
      if (first !== null) aborted();
    },
    direction,
  );
}
