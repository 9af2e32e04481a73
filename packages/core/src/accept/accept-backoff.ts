/**
 * How long to stop accepting when descriptors are exhausted or accept
 * fails (`EMFILE`, `ENFILE`, `ENOBUFS`, ...): 100 ms, doubling up to 1 s
 * while it goes on; a connection accepted normally starts over.
 */

/** First pause after an accept error, in ms. */
export const FIRST_BACKOFF_MS = 100;

/** Longest pause, in ms. */
export const MAX_BACKOFF_MS = 1000;

/** The pause (ms) after an error, given the previous one (0: none since the last success). */
export function nextBackoffMs(previousMs: number): number {
  return previousMs <= 0 ? FIRST_BACKOFF_MS : Math.min(previousMs * 2, MAX_BACKOFF_MS);
}
