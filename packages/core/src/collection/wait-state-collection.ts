/**
 * The wait-state collection: a logical event loop multiplexed on Node's.
 *
 * Guarantees:
 * - every callback of every state and handle of a collection, and every
 *   function given to `applyInWaitStateCollectionProcess`, runs through it:
 *   one at a time, in order of readiness, never re-entrantly, and never inside
 *   the call that started the operation;
 * - no commio callback ever runs inside another one, across collections too;
 * - a throw in a callback goes to the collection's handler; the loop never dies
 *   from a user error and other collections never notice;
 * - fairness: queued work runs in turns from `setImmediate`, each bounded in
 *   time (2 ms) and count (512 invocations; see turn-budget.ts for how the
 *   clock is read). Collections with pending work take turns in the order
 *   they became ready, and Node's timers and I/O run between rounds of turns.
 *   So a callback, a timer or an I/O event waits at most one turn per busy
 *   collection plus the callback that is running: about 2 ms per busy
 *   neighbour, or one callback of it when each of its callbacks is longer.
 */
import { CollectionClosedError, OperationInProgressError, toError } from '../errors.js';
import { logger, printable } from '../debug.js';
import { checkOptions, keys, checkFunction, invalid } from '../options/validate.js';
import { TurnBudget } from './turn-budget.js';
import { WorkQueue, type WorkFunction, type WorkOwner } from './work-queue.js';
import { MemberList, type CollectionMember } from './member-list.js';

export type { CollectionMember } from './member-list.js';
import { checkHandler, checkWithBacktrace, handleCallbackError, type Handler, type WithBacktrace } from './handler.js';

const log = logger('collection');


/** Something with output batched during a pass of the loop, flushed when the pass ends. */
export interface PassFlushable {
  flushAfterPass(): void;
}

/** Depth of commio callbacks running right now, across all collections. */
let callbackDepth = 0;

/** True while any commio callback is running (in any collection). */
export function insideCallback(): boolean {
  return callbackDepth > 0;
}

/**
 * Output batched during the current pass, across all collections: a callback
 * of one collection may write to a state of another, and that write must be
 * flushed when this pass ends, not whenever the other collection next runs.
 */
const passFlushables: (PassFlushable | null)[] = [];
/** Entries of passFlushables in use; the array itself never shrinks (a length of 0 would drop its memory every pass). */
let passFlushCount = 0;

let nextSerial = 1;

/** Options of `createAndRunWaitStateCollection`. */
export interface CreateAndRunOptions {
  /** What to do when a callback throws. @default true (print and go on) */
  handler?: Handler;
  /** How much backtrace the handler gets. @default true */
  withBacktrace?: WithBacktrace;
}

/**
 * A logical event loop that runs the callbacks of its states and handles.
 * Fair to its neighbours: while it has work queued it runs it in turns of
 * about 2 ms (at most 512 invocations), so a callback of another collection,
 * a timer or an I/O event waits at most one turn per busy collection plus
 * the callback that is running (see the module comment).
 */
export class WaitStateCollection {
  /** The name given to `createAndRunWaitStateCollection` (`null` for `makeWaitStateCollection`). */
  readonly name: unknown;
  readonly #serial = nextSerial++;
  readonly #queue = new WorkQueue();
  readonly #turnBudget = new TurnBudget();
  readonly #members = new MemberList();
  #handler: Handler;
  #withBacktrace: WithBacktrace;
  /** Created by `createAndRunWaitStateCollection`: stopping the loop closes it for good. */
  readonly #ownsLoop: boolean;
  #looping = false;
  #dead = false;
  #drainScheduled = false;
  #stopLoop: (() => void) | null = null;
  #waiters: (() => void)[] = [];

  /** @internal use makeWaitStateCollection or createAndRunWaitStateCollection */
  constructor(name: unknown, handler: Handler, withBacktrace: WithBacktrace, ownsLoop: boolean) {
    this.name = name;
    this.#handler = handler;
    this.#withBacktrace = withBacktrace;
    this.#ownsLoop = ownsLoop;
    log('collection %s made', this);
  }

  /**
   * False once the loop of a collection made by `createAndRunWaitStateCollection`
   * has stopped (it then takes no new states or work). A collection from
   * `makeWaitStateCollection` stays alive: it may be looped again.
   */
  get alive(): boolean {
    return !this.#dead;
  }

  /** True while `loopProcessingWaitStateCollection` runs on it. */
  get looping(): boolean {
    return this.#looping;
  }

  /** Invocations waiting to run. */
  get pendingCount(): number {
    return this.#queue.size;
  }

  toString(): string {
    return `#<wait-state-collection ${this.name === null ? this.#serial : printable(this.name)}>`;
  }

  /** @internal Throws if the collection takes no new members. */
  assertAlive(): void {
    if (this.#dead) throw new CollectionClosedError(`the collection ${String(this)} has been stopped and closed`);
  }

  /** @internal Registers a state or handle. */
  addMember(member: CollectionMember): void {
    this.assertAlive();
    this.#members.add(member);
  }

  /** @internal Forgets a state or handle (it closed). */
  removeMember(member: CollectionMember): void {
    this.#members.delete(member);
  }

  /** @internal The live states and handles, a snapshot (drain). */
  members(): CollectionMember[] { return this.#members.toArray(); }

  /** @internal Number of live states and handles. */
  get memberCount(): number {
    return this.#members.size;
  }

  /**
   * @internal Runs `fn(a, b, c, d)` as a callback of `owner`: at once when the
   * loop is running and idle with nothing queued (the common case for events
   * coming from Node), otherwise queued behind the pending work. Never use it
   * from inside the call that starts an operation: use `post`.
   */
  dispatch<A, B, C = undefined, D = undefined>(owner: WorkOwner, fn: (a: A, b: B, c: C, d: D) => void, a: A, b: B, c?: C, d?: D): void {
    if (this.#looping && callbackDepth === 0 && this.#queue.size === 0) {
      this.#invoke(owner, fn, a, b, c, d);
      this.#endPass();
      return;
    }
    this.post(owner, fn, a, b, c, d);
  }

  /** @internal Queues `fn(a, b, c, d)` as a callback of `owner`; always runs later. `c` and `d` may be left out when `fn` takes fewer. */
  post<A, B, C = undefined, D = undefined>(owner: WorkOwner, fn: (a: A, b: B, c: C, d: D) => void, a: A, b: B, c?: C, d?: D): void {
    if (this.#dead) return;
    this.#queue.push(owner, fn, a, b, c, d);
    if (this.#looping) this.#scheduleDrain();
    else this.#wakeWaiters();
  }

  /** @internal Flushes `target` when the current pass of the loop ends. */
  flushWhenPassEnds(target: PassFlushable): void {
    passFlushables[passFlushCount++] = target;
  }

  #invoke(owner: WorkOwner, fn: WorkFunction, a: unknown, b: unknown, c: unknown, d: unknown): void {
    callbackDepth++;
    try {
      (fn as (a: unknown, b: unknown, c: unknown, d: unknown) => void)(a, b, c, d);
    } catch (error) {
      handleCallbackError(this.#handler, this.#withBacktrace, this.name ?? this.#serial, owner, error);
    } finally {
      callbackDepth--;
    }
  }

  readonly #runEntry = (owner: WorkOwner, fn: WorkFunction, a: unknown, b: unknown, c: unknown, d: unknown): void => {
    this.#invoke(owner, fn, a, b, c, d);
  };

  #endPass(): void {
    const count = passFlushCount;
    if (count === 0) return;
    // Reused, not replaced or truncated: no allocation per pass. Flushing
    // never adds to it (uncorking writes synchronously and runs no callback).
    const list = passFlushables;
    for (let i = 0; i < count; i++) {
      const target = list[i] as PassFlushable;
      list[i] = null;
      target.flushAfterPass();
    }
    passFlushCount = 0;
  }

  #scheduleDrain(): void {
    if (this.#drainScheduled) return;
    this.#drainScheduled = true;
    setImmediate(this.#drainTurn);
  }

  readonly #drainTurn = (): void => {
    this.#drainScheduled = false;
    if (!this.#looping) return;
    this.#runTurn();
    // A callback may have stopped the loop.
    if (this.looping && this.#queue.size > 0) this.#scheduleDrain();
  };

  /** One turn: queued invocations until the turn's budget is spent, the queue is empty or the loop stops. */
  #runTurn(): void {
    const budget = this.#turnBudget;
    budget.begin();
    while (this.#looping && callbackDepth === 0 && this.#queue.shift(this.#runEntry)) {
      if (budget.spent()) break;
    }
    this.#endPass();
  }

  /** Runs every invocation queued now, with no budget (a manual call drives the collection); stops early inside a callback. */
  #runAllQueued(): void {
    let left = this.#queue.size;
    while (left-- > 0 && callbackDepth === 0) {
      if (!this.#queue.shift(this.#runEntry)) break;
    }
    this.#endPass();
  }

  #wakeWaiters(): void {
    const waiters = this.#waiters;
    if (waiters.length === 0) return;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  /** @internal see loopProcessingWaitStateCollection */
  loop(): Promise<void> {
    if (this.#dead) return Promise.reject(new CollectionClosedError(`the collection ${String(this)} has been stopped and closed`));
    if (this.#looping) return Promise.reject(new OperationInProgressError(`a loop already runs on ${String(this)}`));
    this.#looping = true;
    log('%s: loop started', this);
    if (this.#queue.size > 0) this.#scheduleDrain();
    return new Promise<void>((resolve) => {
      this.#stopLoop = resolve;
    });
  }

  /** @internal see waitStateCollectionStopLoop */
  stop(): void {
    if (!this.#looping) {
      if (this.#ownsLoop && !this.#dead) this.#die();
      return;
    }
    this.#looping = false;
    log('%s: loop stopped', this);
    const resolve = this.#stopLoop;
    this.#stopLoop = null;
    if (this.#ownsLoop) this.#die();
    resolve?.();
  }

  #die(): void {
    this.closeMembers();
    this.#dead = true;
    this.#queue.clear();
    this.#wakeWaiters();
  }

  /** @internal see waitForWaitStateCollection */
  waitForWork(): Promise<void> {
    if (this.#looping) return Promise.reject(new OperationInProgressError(`a loop runs on ${String(this)}: it waits for the work itself`));
    if (this.#queue.size > 0 || this.#dead) return Promise.resolve();
    return new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  /** @internal see callWaitStateCollection */
  callOnce(): void {
    if (this.#looping) throw new OperationInProgressError(`a loop runs on ${String(this)}: it calls the pending work itself`);
    if (callbackDepth > 0) throw new OperationInProgressError('callWaitStateCollection cannot run inside a commio callback');
    this.#runAllQueued();
  }

  /** @internal see closeWaitStateCollection */
  closeMembers(): void {
    const members = this.#members.takeAll();
    if (members.length > 0) log('%s: closing %d states and handles', this, members.length);
    for (const member of members) member.closeForCollection();
  }
}

const CREATE_AND_RUN_KEYS = keys('handler', 'withBacktrace');

/** A new, empty collection with no loop running: drive it with `loopProcessingWaitStateCollection` or wait/call. */
export function makeWaitStateCollection(): WaitStateCollection {
  return new WaitStateCollection(null, true, true, false);
}

/**
 * A new collection whose loop runs at once. Stopping the loop
 * (`waitStateCollectionStopLoop`) closes every state and handle of it and
 * makes it dead (`alive` false).
 */
export function createAndRunWaitStateCollection(name: unknown, options?: CreateAndRunOptions): WaitStateCollection {
  const o = checkOptions(options, CREATE_AND_RUN_KEYS);
  const handler = checkHandler(o['handler'], 'options.handler');
  const withBacktrace = checkWithBacktrace(o['withBacktrace'], 'options.withBacktrace');
  const collection = new WaitStateCollection(name, handler, withBacktrace, true);
  void collection.loop();
  return collection;
}

/** Checks that `value` is a collection. */
export function checkCollection(value: unknown, name = 'collection'): WaitStateCollection {
  if (!(value instanceof WaitStateCollection)) invalid(name, 'a WaitStateCollection', value);
  return value;
}

/**
 * Runs the collection's loop: queued and future callbacks run until
 * `waitStateCollectionStopLoop`. Resolves when the loop stops. Only one loop
 * may run on a collection at a time (a second rejects with
 * `ERR_COMMIO_OPERATION_IN_PROGRESS`). The loop itself does not keep Node
 * running: sockets, servers and timers do.
 */
export function loopProcessingWaitStateCollection(collection: WaitStateCollection): Promise<void> {
  try {
    return checkCollection(collection).loop();
  } catch (error) {
    return Promise.reject(toError(error));
  }
}

/** Resolves when work is pending on a collection that no loop drives (then call `callWaitStateCollection`). */
export function waitForWaitStateCollection(collection: WaitStateCollection): Promise<void> {
  try {
    return checkCollection(collection).waitForWork();
  } catch (error) {
    return Promise.reject(toError(error));
  }
}

/** Runs, once, the work pending on a collection that no loop drives. */
export function callWaitStateCollection(collection: WaitStateCollection): void {
  checkCollection(collection).callOnce();
}

/**
 * Stops the collection's loop (from anywhere, also inside its callbacks).
 * For a collection from `createAndRunWaitStateCollection` it then closes every
 * state and accepting handle of it, and `alive` becomes false.
 */
export function waitStateCollectionStopLoop(collection: WaitStateCollection): void {
  checkCollection(collection).stop();
}

/** `collection.alive`. */
export function waitStateCollectionAliveP(collection: WaitStateCollection): boolean {
  return checkCollection(collection).alive;
}

/**
 * Runs `fn(...args)` through the collection, always later (even when called
 * from inside the collection). A throw goes to the collection's handler with
 * `null` as the object.
 */
export function applyInWaitStateCollectionProcess<Args extends unknown[]>(
  collection: WaitStateCollection,
  fn: (...args: Args) => void,
  ...args: Args
): void {
  const c = checkCollection(collection);
  checkFunction(fn, 'fn');
  c.assertAlive();
  c.post(null, applyWork, fn as (...a: unknown[]) => void, args);
}

function applyWork(fn: (...a: unknown[]) => void, args: unknown[]): void {
  fn(...args);
}

/**
 * Closes every state and accepting handle of the collection at once: sockets
 * are destroyed and no further callbacks of them run. The collection stays
 * usable (new states may be added, its loop goes on). Safe inside a callback.
 */
export function closeWaitStateCollection(collection: WaitStateCollection): void {
  checkCollection(collection).closeMembers();
}
