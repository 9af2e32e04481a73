/**
 * A FIFO of pending callback invocations, stored flat (owner, function and
 * four arguments per entry) in one growing ring so that queueing work
 * allocates nothing once the ring is large enough.
 */

/** What a queued invocation is attributed to when it throws. */
export type WorkOwner = object | null;

/** A queued function: called with the four stored arguments. */
export type WorkFunction = (a: never, b: never, c: never, d: never) => void;

const STRIDE = 6;

/** The ring of pending work of one collection. */
export class WorkQueue {
  #slots: unknown[] = new Array<unknown>(STRIDE * 16);
  #head = 0;
  #size = 0;

  /** Entries waiting. */
  get size(): number {
    return this.#size;
  }

  /** Appends one invocation. */
  push(owner: WorkOwner, fn: WorkFunction, a: unknown, b: unknown, c: unknown, d: unknown): void {
    const capacity = this.#slots.length / STRIDE;
    if (this.#size === capacity) this.#grow(capacity);
    const at = ((this.#head + this.#size) % (this.#slots.length / STRIDE)) * STRIDE;
    const s = this.#slots;
    s[at] = owner;
    s[at + 1] = fn;
    s[at + 2] = a;
    s[at + 3] = b;
    s[at + 4] = c;
    s[at + 5] = d;
    this.#size++;
  }

  /**
   * Removes the oldest entry and runs `run` on it. Returns false when empty.
   * The slots are cleared first so the queue keeps no references.
   */
  shift(run: (owner: WorkOwner, fn: WorkFunction, a: unknown, b: unknown, c: unknown, d: unknown) => void): boolean {
    if (this.#size === 0) return false;
    const s = this.#slots;
    const at = this.#head * STRIDE;
    const owner = s[at] as WorkOwner;
    const fn = s[at + 1] as WorkFunction;
    const a = s[at + 2];
    const b = s[at + 3];
    const c = s[at + 4];
    const d = s[at + 5];
    s.fill(undefined, at, at + STRIDE);
    this.#head = (this.#head + 1) % (s.length / STRIDE);
    this.#size--;
    run(owner, fn, a, b, c, d);
    return true;
  }

  /** Drops every entry. */
  clear(): void {
    this.#slots = new Array<unknown>(STRIDE * 16);
    this.#head = 0;
    this.#size = 0;
  }

  #grow(capacity: number): void {
    const next = new Array<unknown>(capacity * 2 * STRIDE);
    for (let i = 0; i < this.#size; i++) {
      const from = ((this.#head + i) % capacity) * STRIDE;
      for (let k = 0; k < STRIDE; k++) next[i * STRIDE + k] = this.#slots[from + k];
    }
    this.#slots = next;
    this.#head = 0;
  }
}
