/**
 * Per-direction status of a state.
 *
 * ```
 *   null ──timeout──▶ 'timeout' ──next operation starts──▶ null
 *    │
 *    ├──FIN seen by a read──▶ 'eof'    (sticky)
 *    └──socket/TLS error────▶ Error    (sticky; .code e.g. 'ECONNRESET')
 * ```
 * An operation started while the status is sticky completes at once (through
 * its callback, later) with that status.
 */
import { ConnectionClosedError } from '../errors.js';

/** `null` healthy, `'eof'` end of input, `'timeout'` the last operation timed out, or the error. */
export type IoStatus = null | 'eof' | 'timeout' | Error;

/** True for the statuses that never reset: `'eof'` and errors. */
export function isSticky(status: IoStatus): status is 'eof' | Error {
  return status === 'eof' || status instanceof Error;
}

/** The error a direction gets when its socket went away under it (`ECONNRESET`). */
export function transportClosedError(): Error {
  return new ConnectionClosedError('the connection is closed');
}
