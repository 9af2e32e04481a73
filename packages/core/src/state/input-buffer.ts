/**
 * The bytes a stream state received and the program has not consumed yet.
 * Pure: no socket, no timer, no callback (unit-tested on its own).
 *
 * Guarantees:
 * - a chunk appended while nothing is buffered is kept as is (no copy);
 * - memory that was ever handed out (by `view` or as an appended chunk) is
 *   never written again: appends go past the buffered end only into memory
 *   this buffer allocated itself, and compaction copies into new memory, so
 *   a view given to a read-with-checking callback never changes afterwards;
 * - consuming everything releases the memory (nothing is reset in place).
 *
 * Its one flag lives in bit 0 of `bits`, a small-integer field that classes
 * built over the buffer share for their own flags (an async-I/O state is one
 * object per connection, and each field costs a word).
 */

const EMPTY = Buffer.alloc(0);
const EMPTY_SIGNED = new Int8Array(0);

/** Bit of `bits`: the memory of the buffer is its own, so appends may go past the buffered end (no view reaches past it). */
export const BUFFER_OWNED = 1;

/** Unconsumed input: `buf[start, buf.length)` (the buffered end is the end of the view `buf`: one field less per state). */
export class InputBuffer {
  #buf: Buffer | null = null;
  #start = 0;
  /** BUFFER_OWNED; the other bits belong to subclasses. */
  protected bits = 0;

  /** Bytes buffered. */
  get bufferedLength(): number {
    return this.#buf === null ? 0 : this.#buf.length - this.#start;
  }

  /** Adds `chunk` (owned by the buffer from now on: its sender must not change it) after the buffered bytes. */
  append(chunk: Buffer): void {
    const length = chunk.length;
    if (length === 0) return;
    const buf = this.#buf;
    if (buf === null) {
      this.#buf = chunk;
      this.#start = 0;
      this.bits &= ~BUFFER_OWNED;
      return;
    }
    const end = buf.length;
    // Owned memory is never pooled (allocUnsafeSlow): everything past the view up to the ArrayBuffer's end is ours.
    if ((this.bits & BUFFER_OWNED) !== 0 && buf.buffer.byteLength - buf.byteOffset - end >= length) {
      const longer = Buffer.from(buf.buffer, buf.byteOffset, end + length);
      chunk.copy(longer, end);
      this.#buf = longer;
      return;
    }
    const kept = end - this.#start;
    const needed = kept + length;
    // Doubling while small, then half as much again: few copies of a growing backlog.
    const capacity = needed < 65536 ? Math.max(8192, needed * 2) : needed + (needed >> 1);
    const memory = Buffer.allocUnsafeSlow(capacity);
    buf.copy(memory, 0, this.#start, end);
    chunk.copy(memory, kept);
    this.#buf = memory.subarray(0, needed);
    this.#start = 0;
    this.bits |= BUFFER_OWNED;
  }

  /** Drops `n` bytes (at most what is buffered) from the front. */
  consume(n: number): void {
    if (this.#buf === null) return;
    this.#start += n;
    if (this.#start >= this.#buf.length) this.releaseMemory();
  }

  /** Copies up to `max` buffered bytes into `target` at index `at`, consumes them, and returns how many. */
  copyOut(target: Uint8Array | Int8Array, at: number, max: number): number {
    const buf = this.#buf;
    if (buf === null) return 0;
    const n = Math.min(max, buf.length - this.#start);
    if (n <= 0) return 0;
    new Uint8Array(target.buffer, target.byteOffset, target.byteLength).set(buf.subarray(this.#start, this.#start + n), at);
    this.consume(n);
    return n;
  }

  /** Takes every buffered byte out (null when empty); the buffer is empty after. */
  takeAll(): Buffer | null {
    const buf = this.#buf;
    if (buf === null) return null;
    const bytes = this.#start === 0 ? buf : buf.subarray(this.#start);
    this.releaseMemory();
    return bytes;
  }

  /**
   * The first `length` buffered bytes (at most all of them), as a `Buffer`
   * or, with `signed`, an `Int8Array` over the same memory. Never copied, and
   * never changed afterwards (see the module comment).
   */
  view(length: number, signed: boolean): Uint8Array | Int8Array {
    const buf = this.#buf;
    const end = Math.min(length, this.bufferedLength);
    if (buf === null || end <= 0) return signed ? EMPTY_SIGNED : EMPTY;
    // The whole chunk needs no view of its own.
    const view = this.#start === 0 && end === buf.length ? buf : buf.subarray(this.#start, this.#start + end);
    return signed ? new Int8Array(view.buffer, view.byteOffset, view.length) : view;
  }

  private releaseMemory(): void {
    // Released, never reset in place: views handed out stay intact.
    this.#buf = null;
    this.#start = 0;
    this.bits &= ~BUFFER_OWNED;
  }
}
