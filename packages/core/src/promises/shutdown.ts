/** shutdown: asyncIoStateShutdown as a promise. */
import { checkBoolean, keys } from '../options/validate.js';
import { asyncIoStateShutdown, type AsyncIoState, type Direction } from './callback-api.js';
import { operation } from './operation.js';
import { rejectWaiting } from './waiters.js';

/** Options of shutdown. */
export interface PromiseShutdownOptions {
  /** Abort an operation active in that direction instead of rejecting with ERR_COMMIO_OPERATION_IN_PROGRESS. @default false */
  abort?: boolean;
  /** Stops waiting: the promise rejects with the signal's reason (a FIN already asked for is still sent). */
  signal?: AbortSignal;
}

const KEYS = keys('abort', 'signal');

/** What the promises of operations aborted by `shutdown(..., { abort: true })` reject with. */
function abortedByShutdown(): DOMException {
  return new DOMException('aborted by shutdown', 'AbortError');
}

/** An error carrying the code asyncIoStateShutdown reported. */
function shutdownError(state: AsyncIoState, code: string): Error {
  return Object.assign(new Error(`${String(state)}: shutdown failed (${code})`), { code });
}

/**
 * Shuts down a direction of the connection and resolves once done: for
 * 'output' (and 'io') after the pending writes were flushed and FIN sent, so
 * the state can still read; 'input' at once (reads then see 'eof' once the
 * buffer is empty). Rejects with an `Error` whose `code` is the system's
 * (`ENOTCONN` when the connection is gone). With an operation active in that
 * direction it rejects with `ERR_COMMIO_OPERATION_IN_PROGRESS` unless
 * `abort` is true: then it aborts them, and the promises of those started
 * through this module reject with an `AbortError` (a `DOMException`).
 */
export function shutdown(state: AsyncIoState, direction: Direction, options?: PromiseShutdownOptions): Promise<void> {
  return operation(
    options,
    KEYS,
    (other, settle) => {
      const abort = checkBoolean(other['abort'], 'options.abort', false);
      const result = asyncIoStateShutdown(state, direction, {
        abort,
        callback: (s, result) => {
          if (result === true) settle.resolve();
          else settle.reject(shutdownError(s, result));
        },
      });
      if (result === null) {
        // Something was aborted, silently in the callback API: the promises of what it aborted reject.
        if (direction !== 'output') rejectWaiting(state, 'input', abortedByShutdown());
        if (direction !== 'input') rejectWaiting(state, 'output', abortedByShutdown());
      }
    },
    (reason, settle) => settle.reject(reason),
  );
}
