/** Ending operations and states: abort, abort-and-close, close, shutdown. */
import { InvalidArgumentError, OperationInProgressError } from '../errors.js';
import { checkBoolean, checkKeyword, checkOptions, keys, optionalFunction } from '../options/validate.js';
import { checkOpenState, checkState, type AsyncIoState } from './async-io-state.js';
import { logger } from '../debug.js';

const log = logger('state');

/** A direction of a state. */
export type Direction = 'input' | 'output' | 'io';

const DIRECTIONS: readonly Direction[] = ['input', 'output', 'io'];
const ABORT_AND_CLOSE_KEYS = keys('closeCallback', 'keepAliveP');
const CLOSE_KEYS = keys('keepAliveP');
const SHUTDOWN_KEYS = keys('abort', 'callback');

/**
 * Aborts the operations of `direction` (default 'input'): none of their
 * callbacks runs again, and `abortCallback` runs later with the arguments the
 * aborted operation's callback would have had (`(state, null, null)` when
 * nothing was active; just `(state)` for 'io'). Called inside one of the
 * state's own callbacks, it takes effect when that callback returns. An
 * operation that completed before the abort took effect still gets its own
 * callback.
 */
export function asyncIoStateAbort(
  state: AsyncIoState,
  abortCallback: ((state: AsyncIoState, ...rest: never[]) => void) | null,
  direction: Direction = 'input',
): void {
  const s = checkOpenState(state);
  const callback = optionalFunction<(state: AsyncIoState, ...rest: never[]) => void>(abortCallback, 'abortCallback');
  const dir = checkKeyword(direction, 'direction', DIRECTIONS, 'input');
  s.whenOutsideCallback(() => {
    if (s.closed) return;
    if (log.enabled) log('%s: abort %s', s, dir);
    if (dir === 'input') s.kind.abortInput(s, callback);
    else if (dir === 'output') s.kind.abortOutput(s, callback);
    else {
      s.kind.abortInput(s, null);
      s.kind.abortOutput(s, null);
      if (callback !== null) s.deliver(false, callback);
    }
  });
}

/**
 * Aborts every operation and closes the state (keeping the socket open with
 * `keepAliveP`); `closeCallback(state)` runs through the collection once it
 * is closed. Inside one of the state's callbacks it happens when that
 * callback returns. Idempotent.
 */
export function asyncIoStateAbortAndClose(
  state: AsyncIoState,
  options?: { closeCallback?: ((state: AsyncIoState) => void) | null; keepAliveP?: boolean },
): void {
  const s = checkState(state);
  const o = checkOptions(options, ABORT_AND_CLOSE_KEYS);
  const closeCallback = optionalFunction<(state: AsyncIoState) => void>(o['closeCallback'], 'options.closeCallback');
  const keepAlive = checkBoolean(o['keepAliveP'], 'options.keepAliveP', false);
  s.whenOutsideCallback(() => {
    if (!s.closed) {
      s.closeAborted = true;
      s.kind.abortInput(s, null);
      s.kind.abortOutput(s, null);
      s.close(keepAlive);
    }
    if (closeCallback !== null && s.collection.alive) s.deliverEvenIfClosed(closeCallback);
  });
}

/**
 * Closes the state now: no callback of it runs again, its timers stop, and
 * its socket is destroyed (writes not yet handed to the kernel are dropped;
 * use asyncIoStateShutdown to end gracefully), or with `keepAliveP` handed
 * back paused, without TLS. Idempotent. Returns the bytes still buffered
 * (read them with asyncIoStateGetBufferedData).
 */
export function closeAsyncIoState(state: AsyncIoState, options?: { keepAliveP?: boolean }): number {
  const s = checkState(state);
  const o = checkOptions(options, CLOSE_KEYS);
  const keepAlive = checkBoolean(o['keepAliveP'], 'options.keepAliveP', false);
  return s.close(keepAlive);
}

/** The callback of asyncIoStateShutdown: `true` on success or the error code. */
export type ShutdownCallback = (state: AsyncIoState, result: true | string) => void;

/**
 * Shuts down a direction of the connection. 'output' sends FIN once the
 * writes in flight are flushed (the state can still read); 'input' stops
 * reading (Node.js has no SHUT_RD: further bytes are not read and reads see
 * 'eof' once the buffer is empty); 'io' both. With an operation active in
 * that direction it throws `ERR_COMMIO_OPERATION_IN_PROGRESS`, unless `abort`
 * is true: then the operation is aborted (silently) and the result is `null`.
 * Returns `true`, or the error code (`'ENOTCONN'`) when the socket is gone.
 * `callback(state, result)` runs once the shutdown is done (for 'output',
 * after FIN was sent).
 */
export function asyncIoStateShutdown(
  state: AsyncIoState,
  direction: Direction,
  options?: { abort?: boolean; callback?: ShutdownCallback | null },
): true | string | null {
  const s = checkOpenState(state);
  const dir = checkKeyword(direction, 'direction', DIRECTIONS);
  if (dir === undefined) throw new InvalidArgumentError('direction', "must be 'input', 'output' or 'io'");
  const o = checkOptions(options, SHUTDOWN_KEYS);
  const abort = checkBoolean(o['abort'], 'options.abort', false);
  const callback = optionalFunction<ShutdownCallback>(o['callback'], 'options.callback');
  const input = dir !== 'output';
  const output = dir !== 'input';
  if (log.enabled) log('%s: shutdown %s%s', s, dir, abort ? ' (aborting)' : '');
  const readBusy = input && s.kind.readBusy(s);
  if (readBusy && !abort) {
    throw new OperationInProgressError(`a read operation is active on ${String(s)}: pass abort: true to abort it`);
  }
  let aborted = false;
  if (readBusy) {
    s.kind.abortInput(s, null);
    aborted = true;
  }
  if (output && abort && s.kind.abortWritesForShutdown(s)) aborted = true;
  if (input) s.kind.shutdownInput(s);
  let result: true | string = true;
  if (output) result = s.kind.shutdownOutput(s, callback);
  // Input only: done at once (the callback still runs later).
  else if (callback !== null) s.deliver(false, callback, true);
  return aborted ? null : result;
}
