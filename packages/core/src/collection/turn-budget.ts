/**
 * How long one turn of a collection's loop may run: the time and count
 * budget that makes busy collections take turns.
 *
 * A turn ends once it has run for `TURN_BUDGET_MS` or
 * `TURN_MAX_INVOCATIONS` invocations, whichever comes first, and always runs
 * at least one. Reading the clock on every invocation would cost too much at
 * millions of callbacks a second, so the turn reads it after its first
 * invocation and then with a stride that doubles (up to
 * `MAX_CLOCK_STRIDE`) while invocations are fast, and falls back to 1 when
 * they average `TURN_BUDGET_MS / MAX_CLOCK_STRIDE` or more. A turn therefore
 * overshoots its budget by at most the invocations since the last reading:
 * one when they are slow, at most 64 fast ones otherwise.
 */

/** A turn ends once it has run this long (ms), at its next clock reading. */
export const TURN_BUDGET_MS = 2;
/** ... or after this many invocations, whichever comes first. */
export const TURN_MAX_INVOCATIONS = 512;
/** While invocations are fast, the clock is read at most this many invocations apart. */
export const MAX_CLOCK_STRIDE = 64;
/** Invocations averaging this long (ms) or more make the turn read the clock after each one. */
const SLOW_INVOCATION_MS = TURN_BUDGET_MS / MAX_CLOCK_STRIDE;

/** The clock a turn reads, in ms (replaceable for tests). */
export type Clock = () => number;

const realClock: Clock = () => performance.now();

/** The budget of one turn: `begin()` when it starts, `spent()` after each invocation. */
export class TurnBudget {
  readonly #clock: Clock;
  #deadline = 0;
  #lastReading = 0;
  #ran = 0;
  #stride = 1;
  #nextReading = 1;
  /** Clock readings in this turn (for tests and benchmarks). */
  readings = 0;

  constructor(clock: Clock = realClock) {
    this.#clock = clock;
  }

  /** Starts a turn now. */
  begin(): void {
    this.#lastReading = this.#clock();
    this.#deadline = this.#lastReading + TURN_BUDGET_MS;
    this.#ran = 0;
    this.#stride = 1;
    this.#nextReading = 1;
    this.readings = 0;
  }

  /** Counts one finished invocation; true when the turn must end now. */
  spent(): boolean {
    const ran = ++this.#ran;
    if (ran !== this.#nextReading) return ran >= TURN_MAX_INVOCATIONS;
    const now = this.#clock();
    this.readings++;
    if (now >= this.#deadline) return true;
    const stride = this.#stride;
    this.#stride = now - this.#lastReading < SLOW_INVOCATION_MS * stride ? Math.min(stride * 2, MAX_CLOCK_STRIDE) : 1;
    this.#lastReading = now;
    this.#nextReading = ran + this.#stride;
    return ran >= TURN_MAX_INVOCATIONS;
  }
}
