/**
 * The one clock of commio's state timers (read timeout, write timeout):
 * every such timer goes through here, so a fake clock can replace Node's
 * timers in tests (`useClock`). Durations here are milliseconds (the API
 * speaks seconds; callers convert with `secondsToMs`).
 *
 * Timers are unref'd: a pending read or write timeout never keeps the
 * process alive by itself (the socket does, while it is open).
 */

/** An armed timer (opaque). */
export type Timer = { readonly __timer: true };

/** What a clock provides. `fn(target)` runs once after `ms` unless cleared. */
export interface Clock {
  /** Starts a one-shot timer calling `fn(target)` after `ms` milliseconds. */
  setTimer<T>(fn: (target: T) => void, ms: number, target: T): Timer;
  /** Stops `timer`; harmless when it already ran or was cleared. */
  clearTimer(timer: Timer): void;
  /** Restarts `timer` with its original duration from now (it may have run: then it runs again). */
  refreshTimer(timer: Timer): void;
  /** Milliseconds on a monotonic scale. */
  now(): number;
}

/** Node's timers, unref'd. */
export const nodeClock: Clock = {
  setTimer<T>(fn: (target: T) => void, ms: number, target: T): Timer {
    // The target goes as an argument: no closure or bound function per timer.
    const timeout = setTimeout(fn, ms, target);
    timeout.unref();
    return timeout as unknown as Timer;
  },
  clearTimer(timer: Timer): void {
    clearTimeout(timer as unknown as NodeJS.Timeout);
  },
  refreshTimer(timer: Timer): void {
    (timer as unknown as NodeJS.Timeout).refresh();
  },
  now(): number {
    return performance.now();
  },
};

let clock: Clock = nodeClock;

/** Starts a one-shot timer calling `fn(target)` after `ms` milliseconds (unref'd). */
export function setTimer<T>(fn: (target: T) => void, ms: number, target: T): Timer {
  return clock.setTimer(fn, ms, target);
}

/** Stops `timer` (harmless when it already ran). */
export function clearTimer(timer: Timer): void {
  clock.clearTimer(timer);
}

/** Restarts `timer` with its original duration, counted from now. */
export function refreshTimer(timer: Timer): void {
  clock.refreshTimer(timer);
}

/** Milliseconds on a monotonic scale. */
export function now(): number {
  return clock.now();
}

/**
 * @internal Replaces the clock (a fake one in tests) and returns the
 * previous one. Timers already armed stay with the clock that armed them:
 * swap clocks only while no state has a timer (e.g. before a test makes
 * its states).
 */
export function useClock(next: Clock): Clock {
  const previous = clock;
  clock = next;
  return previous;
}
