/**
 * Why a state closed, derived at close from what it already records: the
 * statuses of its two directions, whether its input ended, and whether it
 * was aborted. The first that applies wins, so a program that closes a
 * connection after its read saw 'eof' or timed out counts that, not its
 * own close.
 */
import { BufferOverflowError, OutputOverflowError } from '../errors.js';
import type { IoStatus } from '../state/status.js';

/** Why a state closed (see `ClosedCounts`). */
export type CloseReason = 'eof' | 'timeout' | 'error' | 'outputOverflow' | 'bufferOverflow' | 'aborted' | 'closed';

/** The reason and, for `'error'`, the error's code (else null). */
export interface ClosedBecause {
  readonly reason: CloseReason;
  readonly code: string | null;
}

function codeOf(error: Error): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : error.name;
}

// One shared object per reason without a code: a close allocates nothing for it.
const OUTPUT_OVERFLOW: ClosedBecause = Object.freeze({ reason: 'outputOverflow', code: null });
const BUFFER_OVERFLOW: ClosedBecause = Object.freeze({ reason: 'bufferOverflow', code: null });
const TIMEOUT: ClosedBecause = Object.freeze({ reason: 'timeout', code: null });
const EOF: ClosedBecause = Object.freeze({ reason: 'eof', code: null });
const ABORTED: ClosedBecause = Object.freeze({ reason: 'aborted', code: null });
const CLOSED: ClosedBecause = Object.freeze({ reason: 'closed', code: null });

/**
 * The reason for statuses `read` and `write`: an overflow first, then an
 * error, a timeout, the end of input (`inputEnded`), an abort, and else a
 * plain close by the program. The result is shared: read it, never change it.
 */
export function closeReasonOf(read: IoStatus, write: IoStatus, inputEnded: boolean, aborted: boolean): ClosedBecause {
  if (write instanceof OutputOverflowError || read instanceof OutputOverflowError) return OUTPUT_OVERFLOW;
  if (read instanceof BufferOverflowError || write instanceof BufferOverflowError) return BUFFER_OVERFLOW;
  if (read instanceof Error) return { reason: 'error', code: codeOf(read) };
  if (write instanceof Error) return { reason: 'error', code: codeOf(write) };
  if (read === 'timeout' || write === 'timeout') return TIMEOUT;
  if (inputEnded || read === 'eof') return EOF;
  return aborted ? ABORTED : CLOSED;
}
