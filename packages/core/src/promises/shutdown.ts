/** shutdown: asyncIoStateShutdown as a promise. */
import { checkBoolean, keys } from '../options/validate.js';
import { asyncIoStateShutdown, type AsyncIoState, type Direction } from './callback-api.js';
import { operation } from './operation.js';

/** Options of shutdown. */
export interface PromiseShutdownOptions {
  /** Abort an operation active in that direction instead of rejecting with ERR_COMMIO_OPERATION_IN_PROGRESS. @default false */
  abort?: boolean;
  /** Stops waiting: the promise rejects with the signal's reason (a FIN already asked for is still sent). */
  signal?: AbortSignal;
}

const KEYS = keys('abort', 'signal');

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
 * `abort` is true.
 */
export function shutdown(state: AsyncIoState, direction: Direction, options?: PromiseShutdownOptions): Promise<void> {
  return operation(
    options,
    KEYS,
    (other, settle) => {
      const abort = checkBoolean(other['abort'], 'options.abort', false);
      asyncIoStateShutdown(state, direction, {
        abort,
        callback: (s, result) => {
          if (result === true) settle.resolve();
          else settle.reject(shutdownError(s, result));
        },
      });
    },
    (reason, settle) => settle.reject(reason),
  );
}
