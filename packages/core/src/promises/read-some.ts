/**
 * The step readChunks and the stream adapters repeat: one read-with-checking
 * that takes the bytes available (at least one, at most `maxRead`) and ends.
 * Between steps no read operation is active, so the state reads ahead at
 * most 64 KiB and then lets TCP hold the peer back: reading goes only as fast
 * as the consumer pulls.
 */
import { ReadTimeoutError } from '../errors.js';
import { keys } from '../options/validate.js';
import { asyncIoStateFinish, asyncIoStateReadWithChecking, type AsyncIoState } from './callback-api.js';
import { stateOperation } from './operation.js';

const KEYS = keys('maxRead', 'signal');

/** The error a read ending with readStatus 'timeout' rejects with. */
export function readTimeoutError(state: AsyncIoState): ReadTimeoutError {
  return new ReadTimeoutError(`${String(state)}: no bytes arrived for readTimeout (${String(state.readTimeout)} s)`);
}

/**
 * Resolves with the next bytes of the stream (a view the caller may keep:
 * commio never writes into it again), or `null` at EOF. Rejects with
 * ReadTimeoutError after the state's readTimeout seconds without bytes, and
 * with the state's error when the connection fails (bytes received before
 * the failure are resolved first). Aborting `signal` aborts the read; bytes
 * not yet returned stay buffered in the state.
 */
export function readSome(state: AsyncIoState, options?: { maxRead?: number; signal?: AbortSignal }): Promise<Uint8Array | null> {
  return stateOperation<Uint8Array | null>(
    state,
    'input',
    options,
    KEYS,
    (other, settle) => {
      asyncIoStateReadWithChecking(
        state,
        (s, view, end) => {
          if (end > 0) {
            // Consumed and ended at once; a status that came with the bytes is seen by the next read (errors are sticky).
            asyncIoStateFinish(s, end);
            settle.resolve(view);
            return;
          }
          const status = s.readStatus;
          if (status === 'eof') settle.resolve(null);
          else if (status === 'timeout') settle.reject(readTimeoutError(s));
          else settle.reject(status);
        },
        other,
      );
    },
  );
}
