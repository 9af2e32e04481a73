/**
 * The timeout of an operation direction (read or write): armed with the
 * state's timeout in seconds, refreshed on progress, cleared at close. Runs
 * on `clock.ts`, so a fake clock drives it in tests. Made only when a state
 * first uses a timeout.
 */
import { clearTimer, refreshTimer, setTimer, type Timer } from '../clock.js';
import { secondsToMs } from '../options/validate.js';

/** One re-armable timer calling `fn(target)`. */
export class OpTimer<T> {
  /** What the owner tags the armed timer with (the read side: the operation's generation). */
  generation = -1;
  #timer: Timer | null = null;
  #ms = 0;
  readonly #fn: (target: T) => void;
  readonly #target: T;

  constructor(fn: (target: T) => void, target: T) {
    this.#fn = fn;
    this.#target = target;
  }

  /** True while armed (it may have run already). */
  get armed(): boolean {
    return this.#timer !== null;
  }

  /** Arms it for `seconds` from now (reusing the timer when the duration is the same). */
  arm(seconds: number): void {
    const ms = secondsToMs(seconds);
    if (this.#timer !== null && this.#ms === ms) {
      refreshTimer(this.#timer);
      return;
    }
    if (this.#timer !== null) clearTimer(this.#timer);
    this.#ms = ms;
    this.#timer = setTimer(this.#fn, ms, this.#target);
  }

  /** Restarts the armed timer from now (progress was made). */
  refresh(): void {
    if (this.#timer !== null) refreshTimer(this.#timer);
  }

  /** Stops it. */
  clear(): void {
    if (this.#timer === null) return;
    clearTimer(this.#timer);
    this.#timer = null;
  }
}
