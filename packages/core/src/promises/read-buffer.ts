/** readBuffer: asyncIoStateReadBuffer as a promise. */
import { keys } from '../options/validate.js';
import { asyncIoStateReadBuffer, type AsyncIoState } from './callback-api.js';
import { stateOperation } from './operation.js';

/** Options of readBuffer. */
export interface PromiseReadBufferOptions {
  /** First index to fill. @default 0 */
  start?: number;
  /** Index after the last one to fill. @default buffer.length */
  end?: number;
  /** Seconds without progress before the read resolves short with readStatus 'timeout'; also sets `state.readTimeout`, as in the callback API. */
  timeout?: number | null;
  /** Aborts the read (as asyncIoStateAbort does) and rejects with the signal's reason. */
  signal?: AbortSignal;
}

const KEYS = keys('start', 'end', 'timeout', 'signal');

/**
 * Fills `buffer[start, end)` from the state and resolves with the count of
 * bytes read: the whole range, or fewer at EOF (`state.readStatus` is then
 * 'eof') or after `timeout` seconds without progress ('timeout'). Rejects
 * with the state's error (`readStatus`, an `Error` with a `code`) when the
 * connection fails; bytes already copied into `buffer` then stay there
 * uncounted. Misuse (bad arguments, a read already active, a closed state)
 * rejects with the typed error before anything starts.
 *
 * Aborting `signal` aborts the read and rejects with its reason; bytes
 * already copied into `buffer` are consumed (readUntil and readChunks keep
 * every unreturned byte in the state instead). A read that completed before
 * the abort took effect resolves as usual.
 */
export function readBuffer(state: AsyncIoState, buffer: Uint8Array, options?: PromiseReadBufferOptions): Promise<number> {
  return stateOperation<number>(
    state,
    'input',
    options,
    KEYS,
    (other, settle) => {
      asyncIoStateReadBuffer(state, buffer, (_s, _b, count) => settle.resolve(count), {
        ...other,
        errorCallback: (s) => settle.reject(s.readStatus),
      });
    },
  );
}
