/**
 * The read operations: read-buffer, read-with-checking (with discard and
 * finish), wait-for-input, and the buffered data.
 */
import { InvalidArgumentError, OperationInProgressError } from '../errors.js';
import {
  checkBuffer,
  checkFunction,
  checkInteger,
  checkKeyword,
  checkOptions,
  checkRange,
  keys,
  optionalFunction,
  optionalSeconds,
} from '../options/validate.js';
import { AsyncIoState, checkOpenState, checkState } from './async-io-state.js';
import { READ_NONE, type ElementType, type ReadSide } from './read-side.js';
import type { BufferCallback, StateCallback } from './callbacks.js';

/** Options of asyncIoStateReadBuffer. */
export interface ReadBufferOptions<B> {
  /** First index to fill. @default 0 */
  start?: number;
  /** Index after the last one to fill. @default buffer.length */
  end?: number;
  /** Seconds without progress before the read ends with 'timeout'; also sets `state.readTimeout`. */
  timeout?: number | null;
  /** Called instead of `callback` when the read ends with an error status. */
  errorCallback?: BufferCallback<B> | null;
  /** Sets `state.userInfo`. */
  userInfo?: unknown;
}

/** Options of asyncIoStateReadWithChecking. */
export interface ReadWithCheckingOptions<B> {
  /** Seconds without progress before the read ends with 'timeout'; also sets `state.readTimeout`. */
  timeout?: number | null;
  /** Most new bytes per callback; also sets `state.maxRead`. @default 65536 */
  maxRead?: number;
  /** Called instead of `callback` for the final call when the read ends with an error. */
  errorCallback?: BufferCallback<B> | null;
  /** Sets `state.userInfo`. */
  userInfo?: unknown;
  /** `'signed-byte-8'` hands an `Int8Array`; the others a `Buffer` (decode `'base-char'` as latin1). @default 'base-char' */
  elementType?: ElementType;
}

/** Options of asyncIoStateWaitForInput. */
export interface WaitForInputOptions {
  /** Seconds to wait before the callback runs with readStatus 'timeout'; also sets `state.readTimeout`. */
  timeout?: number | null;
  /** Sets `state.userInfo`. */
  userInfo?: unknown;
}

const READ_BUFFER_KEYS = keys('start', 'end', 'timeout', 'errorCallback', 'userInfo');
const READ_WITH_CHECKING_KEYS = keys('timeout', 'maxRead', 'errorCallback', 'userInfo', 'elementType');
const WAIT_FOR_INPUT_KEYS = keys('timeout', 'userInfo');
const GET_BUFFERED_KEYS = keys('start', 'end');
const ELEMENT_TYPES: readonly ElementType[] = ['base-char', 'unsigned-byte-8', 'signed-byte-8'];

/** @internal Throws unless the read direction is free (and no TLS change runs). */
export function assertReadFree(state: AsyncIoState): void {
  if (state.kind.readBusy(state)) throw readActive(state);
  if (state.sslBusy) throw new OperationInProgressError(`a TLS attach, detach or handshake runs on ${String(state)}`);
}

function readActive(state: AsyncIoState): OperationInProgressError {
  return new OperationInProgressError(`a read operation is already active on ${String(state)}`);
}

// Byte-stream reads would lose a UDP state's datagram boundaries: its kind refuses them with these.
const READ_BUFFER_REFUSAL = 'asyncIoStateReadBuffer reads a byte stream, use asyncIoStateReceiveMessage';
const READ_CHECKING_REFUSAL = 'asyncIoStateReadWithChecking reads a byte stream, use asyncIoStateReceiveMessage';

/** The stream read side of `state` when it is free for a new read (else throws). */
function freeStreamReader(state: AsyncIoState, refusal: string): ReadSide {
  const reader = state.kind.streamReader(state, refusal);
  if (reader.op !== READ_NONE) throw readActive(state);
  if (state.sslBusy) throw new OperationInProgressError(`a TLS attach, detach or handshake runs on ${String(state)}`);
  return reader;
}

/** Applies the persistent `timeout`/`userInfo` of an operation's options to the state. */
function applyReadSettings(state: AsyncIoState, timeout: number | null | undefined, options: Readonly<Record<string, unknown>>): void {
  if (timeout !== undefined) state.readTimeout = timeout;
  if ('userInfo' in options) state.userInfo = options['userInfo'];
}

/**
 * Fills `buffer[start, end)` from the state. The callback `(state, buffer,
 * count)` runs when the range is full, or at EOF (`readStatus` 'eof'),
 * timeout ('timeout') or error with the count read so far; errors go to
 * `errorCallback` when given.
 */
export function asyncIoStateReadBuffer<B extends Uint8Array | Int8Array>(
  state: AsyncIoState,
  buffer: B,
  callback: BufferCallback<B>,
  options?: ReadBufferOptions<B>,
): void {
  const s = checkOpenState(state);
  const target = checkBuffer(buffer, 'buffer');
  checkFunction(callback, 'callback');
  const o = checkOptions(options, READ_BUFFER_KEYS);
  const [start, end] = checkRange(o['start'], o['end'], target.length);
  const timeout = optionalSeconds(o['timeout'], 'options.timeout');
  const errorCallback = optionalFunction<BufferCallback<B>>(o['errorCallback'], 'options.errorCallback');
  const reader = freeStreamReader(s, READ_BUFFER_REFUSAL);
  applyReadSettings(s, timeout, o);
  reader.startReadBuffer(
    target,
    start,
    end,
    callback,
    errorCallback,
  );
}

/**
 * Continuous read: each time bytes arrive, `callback(state, view, end)` gets
 * a view `[0, end)` of the state's buffer (at most `maxRead` new bytes per
 * call; `state.oldLength` says how many it saw in the previous call). The
 * callback keeps the bytes (returns), drops a prefix (asyncIoStateDiscard),
 * or ends the read (asyncIoStateFinish). At EOF, timeout or error it is
 * called once more with the status set (errors go to `errorCallback` when
 * given), even with `end === 0`, and the read ends.
 *
 * A view never holds more than `maxBufferedInput` bytes: when the callback
 * keeps that many and more arrive, the read ends with an error status whose
 * code is `ERR_COMMIO_BUFFER_OVERFLOW`. While bytes wait to be shown, the
 * state stops reading, so TCP holds the peer back.
 *
 * commio never writes into a view after handing it out, so its bytes may be
 * kept or written out without copying.
 */
export function asyncIoStateReadWithChecking<B extends Uint8Array | Int8Array = Buffer>(
  state: AsyncIoState,
  callback: BufferCallback<B>,
  options?: ReadWithCheckingOptions<B>,
): void {
  const s = checkOpenState(state);
  checkFunction(callback, 'callback');
  if (options === undefined) {
    // The common case: nothing else to check or apply.
    freeStreamReader(s, READ_CHECKING_REFUSAL).startReadWithChecking(callback, null, 'base-char');
    return;
  }
  const o = checkOptions(options, READ_WITH_CHECKING_KEYS);
  const timeout = optionalSeconds(o['timeout'], 'options.timeout');
  const maxRead = checkInteger(o['maxRead'], 'options.maxRead', 1, 0x7fffffff);
  const errorCallback = optionalFunction<BufferCallback<B>>(o['errorCallback'], 'options.errorCallback');
  const elementType = checkKeyword(o['elementType'], 'options.elementType', ELEMENT_TYPES, 'base-char');
  const reader = freeStreamReader(s, READ_CHECKING_REFUSAL);
  applyReadSettings(s, timeout, o);
  if (maxRead !== undefined) s.maxRead = maxRead;
  reader.startReadWithChecking(
    callback,
    errorCallback,
    elementType,
  );
}

/**
 * Inside a read-with-checking callback (or its abort callback): drops the
 * first `n` bytes of the view; the rest stay for the next call. Returns the
 * bytes still buffered. The view must not be used afterwards.
 */
export function asyncIoStateDiscard(state: AsyncIoState, n: number): number {
  // Fast path for a valid call (a small non-negative integer); anything else takes the full checks below.
  if (state instanceof AsyncIoState && typeof n === 'number' && (n | 0) === n && n >= 0) return state.reader.discard(n);
  const s = checkState(state);
  const count = checkInteger(n, 'n', 0, Number.MAX_SAFE_INTEGER);
  if (count === undefined) throw new InvalidArgumentError('n', 'must be the number of bytes to discard');
  return s.reader.discard(count);
}

/**
 * Inside a read-with-checking callback: ends the read at once (no further
 * calls), first dropping `n` bytes if given, so the callback may start the
 * next read before it returns. The rest stays buffered for the next read of
 * any kind. Returns the bytes still buffered.
 */
export function asyncIoStateFinish(state: AsyncIoState, n?: number | null): number {
  if (n === undefined && state instanceof AsyncIoState) return state.reader.finish(0);
  const s = checkState(state);
  const count = n === null ? 0 : checkInteger(n, 'n', 0, Number.MAX_SAFE_INTEGER, 0);
  return s.reader.finish(count);
}

/**
 * Calls `callback(state)` once input can be read: at once (later) when bytes
 * are buffered, else when bytes, EOF or an error arrive, or with readStatus
 * 'timeout' after `timeout` seconds. Counts as a read operation.
 */
export function asyncIoStateWaitForInput(state: AsyncIoState, callback: StateCallback, options?: WaitForInputOptions): void {
  const s = checkOpenState(state);
  checkFunction(callback, 'callback');
  const o = checkOptions(options, WAIT_FOR_INPUT_KEYS);
  const timeout = optionalSeconds(o['timeout'], 'options.timeout');
  assertReadFree(s);
  applyReadSettings(s, timeout, o);
  // On a UDP state, input is a datagram (or error) waiting for a receive.
  s.kind.waitForInput(s, callback);
}

/**
 * Moves buffered bytes into `buffer[start, end)` and returns how many. Works
 * after close too (`closeAsyncIoState` returns the count left). Throws while
 * a read operation is active.
 */
export function asyncIoStateGetBufferedData(state: AsyncIoState, buffer: Uint8Array | Int8Array, options?: { start?: number; end?: number }): number {
  const s = checkState(state);
  const target = checkBuffer(buffer, 'buffer');
  const o = checkOptions(options, GET_BUFFERED_KEYS);
  const [start, end] = checkRange(o['start'], o['end'], target.length);
  if (s.kind.readBusy(s)) throw new OperationInProgressError(`a read operation is active on ${String(s)}`);
  return s.reader.getBufferedData(target, start, end);
}

/** `state.bufferedDataLength`: bytes received and not yet consumed. */
export function asyncIoStateBufferedDataLength(state: AsyncIoState): number {
  return checkState(state).bufferedDataLength;
}
