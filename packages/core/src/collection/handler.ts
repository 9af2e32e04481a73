/**
 * What a collection does with an error thrown by one of its callbacks: the
 * `handler` and `withBacktrace` options of `createAndRunWaitStateCollection`.
 */
import { InvalidArgumentError } from '../errors.js';
import { logger, printable } from '../debug.js';

const log = logger('collection');

/**
 * - `true` (default): print the error (with its stack unless `withBacktrace`
 *   is `false`) to stderr and go on;
 * - `'abort'`: drop it silently and go on;
 * - a function: called with the state or handle whose callback threw (or
 *   `null` for `applyInWaitStateCollectionProcess` work), the error and, unless
 *   `withBacktrace` is `false`, the stack text; then the loop goes on;
 * - `null`: re-throw it as an uncaught exception (outside the loop, which goes on).
 */
export type Handler<O = unknown> = null | true | 'abort' | ((object: O | null, error: unknown, backtrace?: string) => void);

/** How much backtrace a handler gets: `'quick'` the first frames, `true`/`'bug-form'` the whole stack, `false` none. */
export type WithBacktrace = 'bug-form' | 'quick' | boolean;

/** Checks a `handler` option. */
export function checkHandler<O>(value: unknown, name: string): Handler<O> {
  if (value === undefined || value === true) return true;
  if (value === null || value === 'abort' || typeof value === 'function') return value as Handler<O>;
  throw new InvalidArgumentError(name, `must be true, 'abort', null or a function`);
}

/** Checks a `withBacktrace` option. */
export function checkWithBacktrace(value: unknown, name: string): WithBacktrace {
  if (value === undefined) return true;
  if (value === true || value === false || value === 'bug-form' || value === 'quick') return value;
  throw new InvalidArgumentError(name, `must be a boolean, 'bug-form' or 'quick'`);
}

/** The backtrace text for `error` at the requested detail. */
export function backtraceOf(error: unknown, detail: WithBacktrace): string {
  const full = error instanceof Error && typeof error.stack === 'string' ? error.stack : printable(error);
  if (detail !== 'quick') return full;
  return full.split('\n').slice(0, 6).join('\n');
}

/** Prints an error that reached a collection's default handler. */
export function printError(collectionName: unknown, object: unknown, error: unknown, detail: WithBacktrace): void {
  const where = object === null ? '' : ` in a callback of ${printable(object)}`;
  const text = detail === false ? (error instanceof Error ? `${error.name}: ${error.message}` : printable(error)) : backtraceOf(error, detail);
  process.stderr.write(`commio: error in collection ${printable(collectionName)}${where}:\n${text}\n`);
}

/**
 * Gives an error thrown by a callback of `owner` (in the collection named
 * `collectionName`) to the collection's `handler`; never throws.
 */
export function handleCallbackError(handler: Handler, withBacktrace: WithBacktrace, collectionName: unknown, owner: unknown, error: unknown): void {
  log('%s: a callback threw: %s', printable(collectionName), error instanceof Error ? error.message : printable(error));
  if (handler === 'abort') return;
  if (handler === true) {
    printError(collectionName, owner, error, withBacktrace);
    return;
  }
  if (handler === null) {
    // An immediate of its own for each: a throw out of a nextTick leaves the
    // ticks queued behind it waiting for the next callback from the loop,
    // while every immediate runs, however many of them throw.
    setImmediate(() => {
      throw error;
    });
    return;
  }
  try {
    if (withBacktrace === false) handler(owner, error);
    else handler(owner, error, backtraceOf(error, withBacktrace));
  } catch (secondError) {
    printError(collectionName, owner, secondError, true);
  }
}
