/**
 * The writes of a state handed to the socket and not yet completed, oldest
 * first. Slots are reused, so a steady stream of writes allocates nothing.
 */

/** One write in flight. */
export interface WriteRecord {
  buffer: Uint8Array | Int8Array | null;
  length: number;
  callback: ((...args: never[]) => void) | null;
  errorCallback: ((...args: never[]) => void) | null;
  /** Its callback was already called (timeout) or cancelled (abort): complete silently. */
  silenced: boolean;
}

function emptyRecord(): WriteRecord {
  return { buffer: null, length: 0, callback: null, errorCallback: null, silenced: false };
}

/** The slots of every queue that holds no write yet (`grow` replaces it on the first push). */
const NO_SLOTS: WriteRecord[] = [];

/** FIFO of in-flight writes. */
export class WriteQueue {
  #slots: WriteRecord[] = NO_SLOTS;
  #head = 0;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** Appends a write and returns its record. */
  push(
    buffer: Uint8Array | Int8Array,
    length: number,
    callback: (...args: never[]) => void,
    errorCallback: ((...args: never[]) => void) | null,
  ): WriteRecord {
    if (this.#size === this.#slots.length) this.grow();
    const slot = this.#slots[(this.#head + this.#size) % this.#slots.length] as WriteRecord;
    slot.buffer = buffer;
    slot.length = length;
    slot.callback = callback;
    slot.errorCallback = errorCallback;
    slot.silenced = false;
    this.#size++;
    return slot;
  }

  /** The oldest write, or null. */
  peek(): WriteRecord | null {
    return this.#size === 0 ? null : (this.#slots[this.#head] as WriteRecord);
  }

  /**
   * Removes the oldest write, copying it into `into` (the slot itself is
   * recycled at once). Returns false when empty.
   */
  shiftInto(into: WriteRecord): boolean {
    if (this.#size === 0) return false;
    const slot = this.#slots[this.#head] as WriteRecord;
    into.buffer = slot.buffer;
    into.length = slot.length;
    into.callback = slot.callback;
    into.errorCallback = slot.errorCallback;
    into.silenced = slot.silenced;
    slot.buffer = null;
    slot.callback = null;
    slot.errorCallback = null;
    this.#head = (this.#head + 1) % this.#slots.length;
    this.#size--;
    return true;
  }

  /** Calls `fn` on every queued write, oldest first. */
  forEach(fn: (record: WriteRecord) => void): void {
    for (let i = 0; i < this.#size; i++) fn(this.#slots[(this.#head + i) % this.#slots.length] as WriteRecord);
  }

  /** Forgets every write (the state closed). */
  clear(): void {
    this.#slots = NO_SLOTS;
    this.#head = 0;
    this.#size = 0;
  }

  private grow(): void {
    const old = this.#slots;
    // One slot first: most states have one write in flight at a time, and an
    // idle connection that wrote once keeps its slots. Sized exactly (a
    // pushed-to array would reserve 17).
    const target = Math.max(1, old.length * 2);
    const next = new Array<WriteRecord>(target);
    for (let i = 0; i < this.#size; i++) next[i] = old[(this.#head + i) % old.length] as WriteRecord;
    for (let i = this.#size; i < target; i++) next[i] = emptyRecord();
    this.#slots = next;
    this.#head = 0;
  }
}

/** A scratch record for `shiftInto`. */
export function scratchRecord(): WriteRecord {
  return emptyRecord();
}
