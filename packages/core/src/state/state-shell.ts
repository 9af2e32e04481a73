/**
 * The part of a state every kind shares (stream or UDP): membership in its
 * collection, its limits, whether it is closed, and the one way its
 * callbacks run: `deliver`, through the collection, bracketed so that
 * aborts asked for inside a callback wait until it returns and nothing runs
 * once the state is closed.
 */
import { printable } from '../debug.js';
import { StateClosedError } from '../errors.js';
import { checkInteger, checkSeconds, invalid } from '../options/validate.js';
import type { CollectionMember, WaitStateCollection } from '../collection/wait-state-collection.js';
import { limitsOf, type StateLimits, type StateSettings } from './state-limits.js';

/** Any callback of a state, as stored (the first argument is the state). */
export type AnyCallback = (...args: never[]) => void;

/** Marks an argument a delivered callback does not get: `deliver(f, x)` calls `f(state, x)`, not `f(state, x, undefined)`. */
const NO_ARGUMENT: unique symbol = Symbol('commio.noArgument');
type Argument = unknown;

/**
 * Runs `callback(state[, a[, b]])` bracketed as a callback of `state`: its
 * depth counts, and what was deferred to after it (aborts, closes asked
 * inside it) runs when it returns. Even when the state is closed: only
 * `asyncIoStateAbortAndClose`'s close callback wants that; every other
 * callback goes through `runIfOpen`.
 */
export function runBracketed(state: StateShell, callback: AnyCallback, a: Argument, b: Argument): void {
  state.enterCallback();
  try {
    const fn = callback as (...args: unknown[]) => void;
    if (a === NO_ARGUMENT) fn(state);
    else if (b === NO_ARGUMENT) fn(state, a);
    else fn(state, a, b);
  } finally {
    state.leaveCallback();
  }
}

function runIfOpen(state: StateShell, callback: AnyCallback, a: Argument, b: Argument): void {
  if (!state.closed) runBracketed(state, callback, a, b);
}

/** Runs `callback(state)` (or `callback(state, a)` when `a` is given) bracketed now, from work already running through the collection, unless the state is closed. */
export function runStateCallback(state: StateShell, callback: AnyCallback, a: Argument = NO_ARGUMENT): void {
  if (!state.closed) runBracketed(state, callback, a, NO_ARGUMENT);
}

let nextSerial = 1;

/** What every state is before its transport: see the module comment. */
export abstract class StateShell implements CollectionMember {
  /** The collection whose loop runs this state's callbacks. */
  readonly collection: WaitStateCollection;
  /**
   * What the state wraps: the object given to `createAsyncIoState`, else the
   * Node socket. On the native transport, the connection's native id until
   * a keep-alive close hands the connection back, then that `net.Socket`.
   */
  object: unknown;
  /** Any value; shown when the state is printed. */
  name: unknown;
  /** Any value; never used by commio. */
  userInfo: unknown;
  /** Whether overlapping writes queue (true) or throw (false). */
  readonly queueOutput: boolean;
  /** @internal */
  readonly serial = nextSerial++;
  /** @internal Told once, after the state closed (an accepting handle counts its open states with it). */
  closeObserver: { stateClosed(state: StateShell): void } | null = null;
  #limits: StateLimits;
  #closed = false;
  #callbackDepth = 0;
  #deferred: (() => void)[] | null = null;

  constructor(collection: WaitStateCollection, object: unknown, settings: StateSettings) {
    this.collection = collection;
    this.object = object;
    this.name = settings.name;
    this.userInfo = settings.userInfo;
    this.queueOutput = settings.queueOutput;
    this.#limits = limitsOf(settings);
  }

  toString(): string {
    return `#<async-io-state ${this.name === undefined || this.name === null ? this.serial : printable(this.name)}>`;
  }

  /** Seconds a read operation may go without progress; `null` for no limit. */
  get readTimeout(): number | null {
    return this.#limits.readTimeout;
  }
  set readTimeout(value: number | null) {
    const readTimeout = checkSeconds(value, 'readTimeout');
    if (readTimeout !== this.#limits.readTimeout) this.#limits = { ...this.#limits, readTimeout };
  }

  /** Seconds a write may take; `null` for no limit. */
  get writeTimeout(): number | null {
    return this.#limits.writeTimeout;
  }
  set writeTimeout(value: number | null) {
    const writeTimeout = checkSeconds(value, 'writeTimeout');
    if (writeTimeout !== this.#limits.writeTimeout) this.#limits = { ...this.#limits, writeTimeout };
  }

  /** Most new bytes handed to one read-with-checking callback. @default 65536 */
  get maxRead(): number {
    return this.#limits.maxRead;
  }
  set maxRead(value: number) {
    const maxRead = checkInteger(value, 'maxRead', 1, 0x7fffffff) ?? invalid('maxRead', 'an integer from 1 to 2147483647', value);
    if (maxRead !== this.#limits.maxRead) this.#limits = { ...this.#limits, maxRead };
  }

  /** Bytes of writes not yet completed that the state accepts (a lone write always is). @default 16 MiB */
  get maxQueuedOutput(): number {
    return this.#limits.maxQueuedOutput;
  }
  set maxQueuedOutput(value: number) {
    const maxQueuedOutput = checkInteger(value, 'maxQueuedOutput', 1, Number.MAX_SAFE_INTEGER) ?? invalid('maxQueuedOutput', 'a positive integer', value);
    if (maxQueuedOutput !== this.#limits.maxQueuedOutput) this.#limits = { ...this.#limits, maxQueuedOutput };
  }

  /** Bytes received and not yet consumed that the state holds before a read fails. @default 16 MiB */
  get maxBufferedInput(): number {
    return this.#limits.maxBufferedInput;
  }
  set maxBufferedInput(value: number) {
    const maxBufferedInput = checkInteger(value, 'maxBufferedInput', 1, Number.MAX_SAFE_INTEGER) ?? invalid('maxBufferedInput', 'a positive integer', value);
    if (maxBufferedInput !== this.#limits.maxBufferedInput) this.#limits = { ...this.#limits, maxBufferedInput };
  }

  /**
   * UDP: datagrams received while no receive waits that the state holds;
   * past it (or past `maxBufferedInput` bytes) the oldest are dropped and
   * counted in `droppedMessageCount`. Unused on TCP states. @default 1024
   */
  get maxQueuedMessages(): number {
    return this.#limits.maxQueuedMessages;
  }
  set maxQueuedMessages(value: number) {
    const maxQueuedMessages = checkInteger(value, 'maxQueuedMessages', 1, 0x7fffffff, this.#limits.maxQueuedMessages);
    if (maxQueuedMessages !== this.#limits.maxQueuedMessages) this.#limits = { ...this.#limits, maxQueuedMessages };
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** @internal Throws `ERR_COMMIO_STATE_CLOSED` when closed. */
  assertOpen(): void {
    if (this.#closed) throw new StateClosedError(`${String(this)} is closed`);
  }

  /**
   * @internal Runs `callback(state)`, `(state, a)` or `(state, a, b)` (as
   * many arguments as given) as a callback of this state through its
   * collection, unless the state is closed by then. `fromEvent`: the call
   * comes from an event of Node's loop, not from the call that started an
   * operation, so it may run at once when the collection is idle.
   */
  deliver(fromEvent: boolean, callback: AnyCallback, a: Argument = NO_ARGUMENT, b: Argument = NO_ARGUMENT): void {
    if (fromEvent) this.collection.dispatch(this, runIfOpen, this, callback, a, b);
    else this.collection.post(this, runIfOpen, this, callback, a, b);
  }

  /**
   * @internal Runs `fn(a, b[, c])` as work of this state through its collection
   * (for steps that bracket a callback themselves, with bookkeeping around
   * it). `fromEvent` as for `deliver`.
   */
  schedule<A, B, C = undefined>(fromEvent: boolean, fn: (a: A, b: B, c: C) => void, a: A, b: B, c?: C): void {
    if (fromEvent) this.collection.dispatch(this, fn, a, b, c);
    else this.collection.post(this, fn, a, b, c);
  }

  /** @internal Like `deliver` (later, never at once), but runs even when the state is closed by then. */
  deliverEvenIfClosed(callback: AnyCallback, a: Argument = NO_ARGUMENT, b: Argument = NO_ARGUMENT): void {
    this.collection.post(this, runBracketed, this, callback, a, b);
  }

  /** @internal True while one of this state's callbacks runs. */
  get inCallback(): boolean {
    return this.#callbackDepth > 0;
  }

  /** @internal Brackets a user callback of this state (use `deliver`; only a callback with bookkeeping around it brackets itself). */
  enterCallback(): void {
    this.#callbackDepth++;
  }

  /** @internal Ends a user callback; runs what was deferred until it returned. */
  leaveCallback(): void {
    if (--this.#callbackDepth > 0) return;
    const deferred = this.#deferred;
    if (deferred === null) return;
    this.#deferred = null;
    for (const action of deferred) action();
  }

  /** @internal Runs `action` now, or when the running callback of this state returns. */
  whenOutsideCallback(action: () => void): void {
    if (this.#callbackDepth === 0) {
      action();
      return;
    }
    (this.#deferred ??= []).push(action);
  }

  /**
   * @internal Marks the state closed and leaves its collection; false when
   * it already was. The subclass closes its transport after.
   */
  protected markClosed(): boolean {
    if (this.#closed) return false;
    this.#closed = true;
    this.#deferred = null;
    this.collection.removeMember(this);
    return true;
  }

  /** @internal Tells the close observer (once). */
  protected notifyClosed(): void {
    const observer = this.closeObserver;
    if (observer === null) return;
    this.closeObserver = null;
    observer.stateClosed(this);
  }

  /** @internal The collection is closing: close without callbacks. */
  abstract closeForCollection(): void;
}
