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
import type { StateSettings } from './state-limits.js';
import { contextOf, withLimit, withObserver, type CloseObserver, type StateContext } from './state-context.js';
import { InputBuffer } from './input-buffer.js';
import { newRareFields, type RareFields } from './rare-fields.js';
import { CLOSE_ABORTED, CLOSED, DEPTH_MASK, DEPTH_UNIT, NEW_STATE_BITS, QUEUE_OUTPUT } from './state-bits.js';

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

export type { CloseObserver } from './state-context.js';

let nextSerial = 1;

/**
 * What every state is before its transport: see the module comment. It
 * extends the input buffer (a stream state's read side is a layer of the
 * state, not an object of its own: one object per connection).
 */
export abstract class StateShell extends InputBuffer implements CollectionMember {
  /**
   * What the state wraps: the object given to `createAsyncIoState`, else the
   * Node socket. On the native transport, the connection's native id until
   * a keep-alive close hands the connection back, then that `net.Socket`.
   */
  object: unknown;
  /** @internal Link of the collection's member list (member-list.ts). */
  previousMember: CollectionMember | null = null;
  /** @internal Link of the collection's member list (member-list.ts). */
  nextMember: CollectionMember | null = null;
  /** Collection, close observer and limits, shared with the states made alongside (state-context.ts). */
  #context: StateContext;
  /** @internal What only some states need (rare-fields.ts): made on the first write of one of them. */
  protected rare: RareFields | null = null;

  constructor(collection: WaitStateCollection, object: unknown, settings: StateSettings) {
    super();
    this.object = object;
    this.#context = contextOf(collection, settings);
    // `bits` (of the input buffer) holds the flags and counters of every layer (state-bits.ts).
    this.bits |= settings.queueOutput ? NEW_STATE_BITS | QUEUE_OUTPUT : NEW_STATE_BITS;
    if (settings.name !== null) this.name = settings.name;
    if (settings.userInfo !== null) this.userInfo = settings.userInfo;
  }

  /** The collection whose loop runs this state's callbacks. */
  get collection(): WaitStateCollection {
    return this.#context.collection;
  }

  /**
   * @internal Told once, after the state closed (an accepting handle counts
   * its open states with it); its `counters` are the statistics of the
   * handle that accepted the state. Kept after the close (the close is told
   * once: the closed flag guards it).
   */
  get closeObserver(): CloseObserver | null {
    return this.#context.closeObserver;
  }
  /** @internal Sets the observer (the state then points to the context shared by the states with that observer). */
  set closeObserver(value: CloseObserver | null) {
    this.#context = withObserver(this.#context, value);
  }

  /** @internal The rare fields, made now if they were not. */
  protected rareFields(): RareFields {
    return (this.rare ??= newRareFields());
  }

  /** Any value; shown when the state is printed. */
  get name(): unknown {
    return this.rare === null ? null : this.rare.name;
  }
  /** Sets the name (kept in the rare fields unless null). */
  set name(value: unknown) {
    if (value !== null || this.rare !== null) this.rareFields().name = value;
  }

  /** Any value; never used by commio. */
  get userInfo(): unknown {
    return this.rare === null ? null : this.rare.userInfo;
  }
  /** Sets the user info (kept in the rare fields unless null). */
  set userInfo(value: unknown) {
    if (value !== null || this.rare !== null) this.rareFields().userInfo = value;
  }

  /** Whether overlapping writes queue (true) or throw (false). */
  get queueOutput(): boolean {
    return (this.bits & QUEUE_OUTPUT) !== 0;
  }

  /** @internal Statistics: closed by an abort, the collection's close or a drain's timeout. */
  get closeAborted(): boolean {
    return (this.bits & CLOSE_ABORTED) !== 0;
  }
  /** @internal Marks the close as an abort (or not). */
  set closeAborted(value: boolean) {
    this.bits = value ? this.bits | CLOSE_ABORTED : this.bits & ~CLOSE_ABORTED;
  }

  /** @internal A number told apart from other states' (printed when the state has no name), given on first use. */
  get serial(): number {
    const rare = this.rareFields();
    if (rare.serial === 0) rare.serial = nextSerial++;
    return rare.serial;
  }

  override toString(): string {
    return `#<async-io-state ${this.name === undefined || this.name === null ? this.serial : printable(this.name)}>`;
  }

  /** Seconds a read operation may go without progress; `null` for no limit. */
  get readTimeout(): number | null {
    return this.#context.readTimeout;
  }
  set readTimeout(value: number | null) {
    const readTimeout = checkSeconds(value, 'readTimeout');
    this.#context = withLimit(this.#context, 'readTimeout', readTimeout);
  }

  /** Seconds a write may take; `null` for no limit. */
  get writeTimeout(): number | null {
    return this.#context.writeTimeout;
  }
  set writeTimeout(value: number | null) {
    const writeTimeout = checkSeconds(value, 'writeTimeout');
    this.#context = withLimit(this.#context, 'writeTimeout', writeTimeout);
  }

  /** Most new bytes handed to one read-with-checking callback. @default 65536 */
  get maxRead(): number {
    return this.#context.maxRead;
  }
  set maxRead(value: number) {
    const maxRead = checkInteger(value, 'maxRead', 1, 0x7fffffff) ?? invalid('maxRead', 'an integer from 1 to 2147483647', value);
    this.#context = withLimit(this.#context, 'maxRead', maxRead);
  }

  /** Bytes of writes not yet completed that the state accepts (a lone write always is). @default 16 MiB */
  get maxQueuedOutput(): number {
    return this.#context.maxQueuedOutput;
  }
  set maxQueuedOutput(value: number) {
    const maxQueuedOutput = checkInteger(value, 'maxQueuedOutput', 1, Number.MAX_SAFE_INTEGER) ?? invalid('maxQueuedOutput', 'a positive integer', value);
    this.#context = withLimit(this.#context, 'maxQueuedOutput', maxQueuedOutput);
  }

  /** Bytes received and not yet consumed that the state holds before a read fails. @default 16 MiB */
  get maxBufferedInput(): number {
    return this.#context.maxBufferedInput;
  }
  set maxBufferedInput(value: number) {
    const maxBufferedInput = checkInteger(value, 'maxBufferedInput', 1, Number.MAX_SAFE_INTEGER) ?? invalid('maxBufferedInput', 'a positive integer', value);
    this.#context = withLimit(this.#context, 'maxBufferedInput', maxBufferedInput);
  }

  /**
   * UDP: datagrams received while no receive waits that the state holds;
   * past it (or past `maxBufferedInput` bytes) the oldest are dropped and
   * counted in `droppedMessageCount`. Unused on TCP states. @default 1024
   */
  get maxQueuedMessages(): number {
    return this.#context.maxQueuedMessages;
  }
  set maxQueuedMessages(value: number) {
    const maxQueuedMessages = checkInteger(value, 'maxQueuedMessages', 1, 0x7fffffff, this.#context.maxQueuedMessages);
    this.#context = withLimit(this.#context, 'maxQueuedMessages', maxQueuedMessages);
  }

  /** True once closed. */
  get closed(): boolean {
    return (this.bits & CLOSED) !== 0;
  }

  /** @internal Throws `ERR_COMMIO_STATE_CLOSED` when closed. */
  assertOpen(): void {
    if ((this.bits & CLOSED) !== 0) throw new StateClosedError(`${String(this)} is closed`);
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
    return (this.bits & DEPTH_MASK) !== 0;
  }

  /** @internal Brackets a user callback of this state (use `deliver`; only a callback with bookkeeping around it brackets itself). */
  enterCallback(): void {
    this.bits += DEPTH_UNIT;
  }

  /** @internal Ends a user callback; runs what was deferred until it returned. */
  leaveCallback(): void {
    this.bits -= DEPTH_UNIT;
    if ((this.bits & DEPTH_MASK) !== 0) return;
    const deferred = this.rare === null ? null : this.rare.deferred;
    if (deferred === null) return;
    (this.rare as RareFields).deferred = null;
    for (const action of deferred) action();
  }

  /** @internal Runs `action` now, or when the running callback of this state returns. */
  whenOutsideCallback(action: () => void): void {
    if ((this.bits & DEPTH_MASK) === 0) {
      action();
      return;
    }
    (this.rareFields().deferred ??= []).push(action);
  }

  /**
   * @internal Marks the state closed and leaves its collection; false when
   * it already was. The subclass closes its transport after.
   */
  protected markClosed(): boolean {
    if ((this.bits & CLOSED) !== 0) return false;
    this.bits |= CLOSED;
    if (this.rare !== null) this.rare.deferred = null;
    this.collection.removeMember(this);
    return true;
  }

  /** @internal Tells the close observer (once). */
  protected notifyClosed(): void {
    this.#context.closeObserver?.stateClosed(this);
  }

  /** @internal The collection is closing: close without callbacks. */
  abstract closeForCollection(): void;
}
