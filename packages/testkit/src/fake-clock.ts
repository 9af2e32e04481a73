/**
 * A fake clock for commio's timeouts: while installed, every timer commio
 * arms (read and write timeouts of states, connect timeouts, TLS handshake
 * timeouts, UDP send timeouts) waits for `advance` instead of real time.
 * Time moves only when the test says so: a timeout test runs in no real
 * time and always the same way.
 *
 * Not driven by it (they stay on Node's timers): the bind retry of
 * `initTimeout` and the accept back-off under descriptor exhaustion. They
 * pace retries against the operating system (a port being freed,
 * descriptors coming back), which only real time brings; frozen, they would
 * stall a server that a test left running.
 */
import { InvalidArgumentError, OperationInProgressError } from '@commio/core';
import { checkSeconds, nodeClock, useClock, type Clock, type Timer } from '@commio/core/internal';

/** A fake clock installed with `installFakeClock`. */
export interface FakeClock {
  /**
   * Moves the clock `seconds` forward (fractions allowed), running every
   * timer that falls due on the way, in time order (in arming order for
   * equal times), each with the clock showing its due time. Timers armed
   * or refreshed by those callbacks run too when they fall within the
   * window. `advance(0)` runs what is due now. The state callbacks a timer
   * causes (a read or write callback with a timeout status, a connect
   * callback with `ERR_COMMIO_CONNECT_TIMEOUT`) run through the state's
   * collection as always: possibly during `advance`, else right after it;
   * wait for them as for any callback. Throws `ERR_COMMIO_INVALID_ARGUMENT`
   * for a negative or non-finite duration, `ERR_COMMIO_OPERATION_IN_PROGRESS`
   * when called from a timer it runs, and what a timer callback throws (the
   * timers after it stay armed).
   */
  advance(seconds: number): void;
  /** Seconds the clock has been advanced since it was installed. */
  readonly elapsed: number;
  /** Timers armed and not yet run or cleared: 0 once a test closed everything. */
  readonly pendingTimers: number;
  /**
   * Gives commio its previous clock back (real time). Fake timers still
   * armed are dropped and never run: close states first. Idempotent.
   */
  uninstall(): void;
}

/** Marks a fake clock, across loaded copies of this package. */
const kFakeClock = Symbol.for('commio.testkit.fakeClock');

/** One armed timer of the fake clock. */
class FakeTimer {
  due = 0;
  order = 0;
  armed = false;
  readonly owner: FakeClockImpl;
  readonly ms: number;
  readonly fn: (target: unknown) => void;
  readonly target: unknown;

  constructor(owner: FakeClockImpl, fn: (target: unknown) => void, ms: number, target: unknown) {
    this.owner = owner;
    this.fn = fn;
    // Like Node's timers: less than 1 ms counts as 1 ms.
    this.ms = ms >= 1 ? ms : 1;
    this.target = target;
  }

  /** A timer left over after `uninstall` may still be refreshed through Node's clock: it stays dead. */
  refresh(): void {
    this.owner.refreshTimer(this as unknown as Timer);
  }
}

function isFakeClock(clock: Clock): boolean {
  return (clock as unknown as Record<symbol, unknown>)[kFakeClock] === true;
}

class FakeClockImpl implements Clock, FakeClock {
  readonly [kFakeClock] = true;
  #previous: Clock | null = null;
  #start = 0;
  #now = 0;
  #armed = new Set<FakeTimer>();
  #order = 0;
  #advancing = false;
  #installed = false;

  /** Puts this clock in place; false (nothing changed) when another fake clock is. */
  install(): boolean {
    const previous = useClock(this);
    if (isFakeClock(previous)) {
      // Installed by another loaded copy of this package.
      useClock(previous);
      return false;
    }
    this.#previous = previous;
    this.#installed = true;
    // Starts at the real clock's reading (rounded up to a whole millisecond, so
    // that fake times add up exactly), so time never runs backwards for code comparing readings.
    this.#start = Math.ceil(previous.now());
    this.#now = this.#start;
    return true;
  }

  /** The clock timers armed before the install belong to. */
  get #real(): Clock {
    return this.#previous ?? nodeClock;
  }

  setTimer<T>(fn: (target: T) => void, ms: number, target: T): Timer {
    const timer = new FakeTimer(this, fn as (target: unknown) => void, ms, target);
    if (this.#installed) this.#arm(timer);
    return timer as unknown as Timer;
  }

  clearTimer(timer: Timer): void {
    if (!(timer instanceof FakeTimer)) {
      // Armed on the real clock before this one was installed.
      this.#real.clearTimer(timer);
      return;
    }
    timer.armed = false;
    timer.owner.#armed.delete(timer);
  }

  refreshTimer(timer: Timer): void {
    if (!(timer instanceof FakeTimer)) {
      this.#real.refreshTimer(timer);
      return;
    }
    const owner = timer.owner;
    if (owner.#installed) owner.#arm(timer);
  }

  now(): number {
    return this.#now;
  }

  get elapsed(): number {
    return (this.#now - this.#start) / 1000;
  }

  get pendingTimers(): number {
    return this.#armed.size;
  }

  advance(seconds: number): void {
    if (typeof seconds !== 'number') throw new InvalidArgumentError('seconds', 'must be a non-negative number of seconds');
    const duration = checkSeconds(seconds, 'seconds') ?? 0;
    if (this.#advancing) throw new OperationInProgressError('advance() was called from a timer that advance() runs');
    this.#advancing = true;
    try {
      // Whole microseconds: `0.7 * 1000` is not exactly 700 in floating point.
      const end = this.#now + Math.round(duration * 1e6) / 1e3;
      for (let timer = this.#earliestDue(end); timer !== null; timer = this.#earliestDue(end)) {
        this.#now = timer.due;
        timer.armed = false;
        this.#armed.delete(timer);
        timer.fn(timer.target);
      }
      this.#now = end;
    } finally {
      this.#advancing = false;
    }
  }

  uninstall(): void {
    if (!this.#installed) return;
    this.#installed = false;
    for (const timer of this.#armed) timer.armed = false;
    this.#armed.clear();
    useClock(this.#real);
    installed = null;
  }

  #arm(timer: FakeTimer): void {
    timer.due = this.#now + timer.ms;
    timer.order = this.#order++;
    timer.armed = true;
    this.#armed.add(timer);
  }

  /** The armed timer that runs first, if it is due by `end`. */
  #earliestDue(end: number): FakeTimer | null {
    let first: FakeTimer | null = null;
    for (const timer of this.#armed) {
      if (timer.due > end) continue;
      if (first === null || timer.due < first.due || (timer.due === first.due && timer.order < first.order)) first = timer;
    }
    return first;
  }
}

let installed: FakeClockImpl | null = null;

/**
 * Makes commio's timeouts follow a fake clock until `uninstall()`: see
 * `FakeClock`. The clock is process-wide: install it in tests that run one
 * at a time (ava: `test.serial`), before making the states or connections
 * whose timeouts it should drive (a timer armed before keeps real time),
 * and uninstall it in a teardown. Throws `ERR_COMMIO_OPERATION_IN_PROGRESS`
 * while another fake clock is installed.
 */
export function installFakeClock(): FakeClock {
  const clock = new FakeClockImpl();
  if (installed !== null || !clock.install()) throw new OperationInProgressError('a fake clock is installed already: uninstall() it first');
  installed = clock;
  return clock;
}
