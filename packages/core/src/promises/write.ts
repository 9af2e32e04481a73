/** write: asyncIoStateWriteBuffer as a promise. */
import { WriteTimeoutError } from '../errors.js';
import { keys } from '../options/validate.js';
import { asyncIoStateWriteBuffer, type AsyncIoState } from './callback-api.js';
import { stateOperation } from './operation.js';

/** Options of write. */
export interface PromiseWriteOptions {
  /** First index to write. @default 0 */
  start?: number;
  /** Index after the last one to write. @default buffer.length */
  end?: number;
  /** Seconds the write may take before it rejects with WriteTimeoutError; also sets `state.writeTimeout`, as in the callback API. */
  timeout?: number | null;
  /** Aborts the state's writes in flight (as asyncIoStateAbort does) and rejects with the signal's reason. */
  signal?: AbortSignal;
}

const KEYS = keys('start', 'end', 'timeout', 'signal');

/** The error a write ending with writeStatus 'timeout' rejects with. */
export function writeTimeoutError(state: AsyncIoState, bytesWritten: number): WriteTimeoutError {
  return new WriteTimeoutError(`${String(state)}: the write did not complete within writeTimeout (${String(state.writeTimeout)} s)`, { bytesWritten });
}

/**
 * Writes `buffer[start, end)` and resolves once the bytes were handed to the
 * kernel; `buffer` must not change until then. Rejects with the state's
 * error (`writeStatus`, for example `ECONNRESET` or
 * `ERR_COMMIO_OUTPUT_OVERFLOW` past `maxQueuedOutput`), or with
 * WriteTimeoutError (`bytesWritten` says what is known to have gone out).
 * Without `queueOutput` on the state, a write started before the previous
 * one resolved rejects with `ERR_COMMIO_OPERATION_IN_PROGRESS`; with it,
 * writes queue and resolve in order.
 *
 * Aborting `signal` aborts every write in flight on the state, as
 * asyncIoStateAbort does: each of their promises rejects with the signal's
 * reason (their bytes may still be sent). A write that completed before the
 * abort took effect resolves as usual.
 */
export function write(state: AsyncIoState, buffer: Uint8Array, options?: PromiseWriteOptions): Promise<void> {
  return stateOperation(state, 'output', options, KEYS, (other, settle) => {
    asyncIoStateWriteBuffer(
      state,
      buffer,
      (s, _b, count) => {
        const wanted = (typeof other['end'] === 'number' ? other['end'] : buffer.length) - (typeof other['start'] === 'number' ? other['start'] : 0);
        // A completed write gets its whole count; a timed-out one what is known to have gone out.
        if (s.writeStatus === 'timeout' && count < wanted) settle.reject(writeTimeoutError(s, count));
        else settle.resolve();
      },
      { ...other, errorCallback: (s) => settle.reject(s.writeStatus) },
    );
  });
}
