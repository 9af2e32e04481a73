/**
 * The LispWorks bind-retry window: while the port is in use, binding is
 * tried again (quickly at first, then once a second) until `initTimeout`
 * seconds have passed. Other errors end it at once; so does the abort
 * signal.
 */
import { BindFailedError, BindTimeoutError, CommioError, errorCode } from '../errors.js';
import { logger } from '../debug.js';

const log = logger('accept');

/** Delays between bind attempts, in ms; the last repeats (never more than 1 s). */
const RETRY_DELAYS_MS = [50, 100, 200, 400, 800, 1000];

/**
 * Runs `attempt` until it succeeds, retrying while it fails with
 * `EADDRINUSE` for at most `initTimeoutSeconds` (`0`: one try). Rejects with
 * `ERR_COMMIO_BIND_TIMEOUT` (cause: the last `EADDRINUSE`),
 * `ERR_COMMIO_BIND_FAILED` (cause: any other OS error), a commio error
 * thrown by `attempt` as is, or the signal's reason. `attempt` must leave
 * nothing open when it fails.
 */
export async function retryWhileInUse<T>(attempt: () => Promise<T>, initTimeoutSeconds: number, signal: AbortSignal, where: string): Promise<T> {
  const deadline = Date.now() + initTimeoutSeconds * 1000;
  for (let tries = 0; ; tries++) {
    signal.throwIfAborted();
    try {
      return await attempt();
    } catch (error) {
      signal.throwIfAborted();
      if (error instanceof CommioError) throw error;
      const message = error instanceof Error ? error.message : String(error);
      if (errorCode(error) !== 'EADDRINUSE') throw new BindFailedError(`cannot listen on ${where}: ${message}`, { cause: error });
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        throw new BindTimeoutError(`cannot listen on ${where}: still in use after ${initTimeoutSeconds} s (${tries + 1} tries)`, { cause: error });
      }
      const delay = Math.min(RETRY_DELAYS_MS[Math.min(tries, RETRY_DELAYS_MS.length - 1)] ?? 1000, remaining);
      log('%s in use, retrying in %d ms', where, delay);
      await sleep(delay, signal);
    }
  }
}

/** Waits `ms` (keeping Node alive: the bind is what the program waits for); rejects with the signal's reason on abort. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
