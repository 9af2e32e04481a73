/** readUntil: one delimited record (a line, a record of a framing protocol). */
import { BufferOverflowError, InvalidArgumentError } from '../errors.js';
import { checkInteger, keys } from '../options/validate.js';
import { asyncIoStateFinish, asyncIoStateReadWithChecking, type AsyncIoState } from './callback-api.js';
import { stateOperation } from './operation.js';
import { readTimeoutError } from './read-some.js';

/** Options of readUntil. */
export interface ReadUntilOptions {
  /** Most bytes of a record, delimiter included; past it the read rejects with ERR_COMMIO_BUFFER_OVERFLOW. @default 65536 */
  maxLength?: number;
  /** Seconds without progress before the read rejects with ReadTimeoutError; also sets `state.readTimeout`, as in the callback API. */
  timeout?: number | null;
  /** Aborts the read (as asyncIoStateAbort does) and rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** The default bound of a record: what a line protocol needs, far below `maxBufferedInput`. */
export const DEFAULT_MAX_RECORD_LENGTH = 65536;

const KEYS = keys('maxLength', 'timeout', 'signal');

function delimiterBytes(delimiter: unknown): Buffer {
  let bytes: Buffer | null = null;
  if (typeof delimiter === 'string') bytes = Buffer.from(delimiter, 'utf8');
  else if (delimiter instanceof Uint8Array) bytes = Buffer.from(delimiter.buffer, delimiter.byteOffset, delimiter.byteLength);
  if (bytes === null || bytes.length === 0) throw new InvalidArgumentError('delimiter', 'must be a non-empty Uint8Array or string');
  return bytes;
}

/**
 * Resolves with the next record: the bytes up to and including the first
 * `delimiter` (a string is encoded as UTF-8), copied out of the state. Bytes
 * after the delimiter stay buffered in the state for the next read of any
 * kind. At EOF it resolves with the bytes left without a delimiter (the last
 * record of a stream that does not end with one), then `null` once nothing
 * is left.
 *
 * Bounded: when `maxLength` bytes have arrived without completing a record,
 * it rejects with BufferOverflowError (`ERR_COMMIO_BUFFER_OVERFLOW`), the
 * bytes left buffered in the state. Rejects with ReadTimeoutError after
 * `timeout` (or the state's `readTimeout`) seconds without bytes, and with
 * the state's error when the connection fails. Aborting `signal` aborts the
 * read and rejects with its reason; no byte is lost (all stay buffered).
 */
export function readUntil(state: AsyncIoState, delimiter: Uint8Array | string, options?: ReadUntilOptions): Promise<Uint8Array | null> {
  return stateOperation<Uint8Array | null>(
    state,
    'input',
    options,
    KEYS,
    ({ maxLength: maxLengthValue, ...other }, settle) => {
      const needle = delimiterBytes(delimiter);
      const maxLength = checkInteger(maxLengthValue, 'options.maxLength', 1, Number.MAX_SAFE_INTEGER, DEFAULT_MAX_RECORD_LENGTH);
      const overflow = (s: AsyncIoState): BufferOverflowError =>
        new BufferOverflowError(`${String(s)}: no ${needle.length}-byte delimiter within maxLength (${maxLength}) bytes`);
      asyncIoStateReadWithChecking(
        state,
        (s, view, end) => {
          // Resume the scan where the previous call stopped (a delimiter may straddle the two).
          const from = Math.max(0, s.oldLength - needle.length + 1);
          const at = view.indexOf(needle, from);
          if (at >= 0 && at + needle.length <= maxLength) {
            const record = Buffer.from(view.subarray(0, at + needle.length));
            asyncIoStateFinish(s, record.length);
            settle.resolve(record);
            return;
          }
          if (at >= 0 || end >= maxLength + (s.readStatus === 'eof' ? 1 : 0)) {
            asyncIoStateFinish(s, 0);
            settle.reject(overflow(s));
            return;
          }
          const status = s.readStatus;
          if (status === null) return; // keep the bytes, wait for more
          if (status === 'eof') {
            if (end === 0) {
              settle.resolve(null);
              return;
            }
            const rest = Buffer.from(view.subarray(0, end));
            asyncIoStateFinish(s, end);
            settle.resolve(rest);
          } else if (status === 'timeout') settle.reject(readTimeoutError(s));
          else settle.reject(status);
        },
        other,
      );
    },
  );
}
