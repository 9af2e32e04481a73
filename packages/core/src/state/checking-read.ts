/**
 * asyncIoStateReadWithChecking: the operation that shows the program the
 * bytes buffered so far (a growing view), one callback per batch of new
 * bytes, until the program finishes it or the input ends. A layer of the
 * read side (which extends it): its own type and file, but no object of its
 * own per state.
 */
import { BufferOverflowError, InvalidArgumentError, NotInCallbackError } from '../errors.js';
import { READ_AHEAD_BYTES } from '../options/defaults.js';
import type { IoStatus } from './status.js';
import type { AnyCallback, StateShell } from './state-shell.js';
import { InputBuffer } from './input-buffer.js';

/** How read-with-checking presents the bytes. */
export type ElementType = 'base-char' | 'unsigned-byte-8' | 'signed-byte-8';

function runDelivery(read: CheckingReader, generation: number): void {
  read.runCheckingDelivery(generation);
}

function runAbort(read: CheckingReader, callback: AnyCallback): void {
  read.runCheckingAbort(callback);
}

/** The input buffer with the read-with-checking operation; the read side supplies the rest. */
export abstract class CheckingReader extends InputBuffer {
  /** How much of the current view the previous callback saw. */
  oldLength = 0;
  /** The active operation's callback (any read operation's: the read side uses it too). */
  protected callback: AnyCallback | null = null;
  /** The active operation's error callback. */
  protected errorCallback: AnyCallback | null = null;
  #signed = false;
  /** Bytes of the buffer the program has been shown. */
  #delivered = 0;
  /** The generation whose delivery is queued (-1: none); a stale one must not block a new operation's. */
  #queuedGeneration = -1;
  /** The generation whose callback runs right now (-1: none). */
  #runningGeneration = -1;
  /** >0 while a callback (or its abort callback) runs: discard/finish allowed. */
  #depth = 0;

  /** The state the read side belongs to. */
  abstract readonly state: StateShell;
  /** The read direction's status. */
  abstract status: IoStatus;
  /** True once no more bytes will arrive. */
  abstract get ended(): boolean;
  /** Bumped whenever an operation starts or ends. */
  abstract generation: number;
  /** True while read-with-checking of `generation` is the active operation. */
  abstract isCheckingCurrent(generation: number): boolean;
  /** Ends the active operation. */
  abstract endOp(): void;
  /** Turns reading on (the program wants more). */
  abstract flow(): void;
  /** Turns reading off (hold the peer back). */
  abstract holdBack(): void;

  /** Starts the operation's part here (the read side already began it). */
  protected startChecking(callback: AnyCallback, errorCallback: AnyCallback | null, elementType: ElementType): void {
    this.callback = callback;
    this.errorCallback = errorCallback;
    this.#signed = elementType === 'signed-byte-8';
    this.#delivered = 0;
    this.oldLength = 0;
    if (this.bufferedLength > 0 || this.status !== null || this.ended) this.queueCheckingDelivery(false);
    this.flow();
  }

  /** Bytes arrived during the operation (already buffered). */
  protected checkingReceived(): void {
    // Hold the peer back while the program has not been shown what is here yet.
    if (this.bufferedLength - this.#delivered >= READ_AHEAD_BYTES) this.holdBack();
    this.queueCheckingDelivery(true);
  }

  /** Queues the next callback unless one is queued or runs now (it queues the next when it returns). */
  protected queueCheckingDelivery(fromEvent: boolean): void {
    const generation = this.generation;
    if (this.#queuedGeneration === generation || this.#runningGeneration === generation) return;
    this.#queuedGeneration = generation;
    this.state.schedule(fromEvent, runDelivery, this, generation);
  }

  /** Runs one callback (queued by `queueDelivery`). */
  runCheckingDelivery(generation: number): void {
    if (this.#queuedGeneration === generation) this.#queuedGeneration = -1;
    const state = this.state;
    if (state.closed || !this.isCheckingCurrent(generation)) return;
    const available = this.bufferedLength;
    const cap = state.maxBufferedInput;
    if (this.status === null && this.ended && this.#delivered >= available) this.status = 'eof';
    let final = this.status !== null;
    if (!final) {
      if (available <= this.#delivered) return;
      if (this.#delivered >= cap) {
        // The program keeps maxBufferedInput bytes and more arrived: refuse to hold more.
        this.holdBack();
        this.status = new BufferOverflowError(
          `${String(state)} keeps ${this.#delivered} unconsumed bytes and more arrived, past maxBufferedInput (${cap})`,
        );
        final = true;
      }
    }
    // A view never holds more than maxBufferedInput bytes (unless the program already keeps more).
    const end = final
      ? Math.min(available, Math.max(this.#delivered, cap))
      : this.#delivered + Math.min(available - this.#delivered, state.maxRead, cap - this.#delivered);
    this.oldLength = this.#delivered;
    this.#delivered = end;
    const callback = (final && this.status instanceof Error && this.errorCallback !== null ? this.errorCallback : this.callback) as AnyCallback;
    this.#runningGeneration = generation;
    this.#depth++;
    // Bracketed here, not by `deliver`: the bookkeeping below must run before deferred aborts.
    state.enterCallback();
    try {
      (callback as (s: StateShell, view: Uint8Array | Int8Array, count: number) => void)(state, this.view(end, this.#signed), end);
    } finally {
      this.#depth--;
      this.#runningGeneration = -1;
      // Ended by finish, an abort or close, or replaced by a new read started in the callback: nothing more to do.
      const stillActive = this.isCheckingCurrent(generation);
      if (stillActive && final) this.endOp();
      else if (stillActive) {
        if (this.bufferedLength - this.#delivered < READ_AHEAD_BYTES) this.flow();
        if (this.hasMoreToDeliver()) this.queueCheckingDelivery(false);
      }
      state.leaveCallback();
    }
  }

  private hasMoreToDeliver(): boolean {
    return this.bufferedLength > this.#delivered || this.status !== null || (this.ended && this.#delivered >= this.bufferedLength);
  }

  /** The operation was aborted (the read side ended it): queues `abortCallback` with the whole buffer as its view. */
  protected checkingAborted(abortCallback: AnyCallback | null): void {
    this.#delivered = 0;
    if (abortCallback !== null) this.state.schedule(false, runAbort, this, abortCallback);
  }

  /** Runs the abort callback of an aborted operation (discard allowed in it). */
  runCheckingAbort(callback: AnyCallback): void {
    const state = this.state;
    if (state.closed) return;
    const end = this.bufferedLength;
    this.#depth++;
    this.#delivered = end;
    state.enterCallback();
    try {
      (callback as (s: StateShell, view: Uint8Array | Int8Array, count: number) => void)(state, this.view(end, this.#signed), end);
    } finally {
      this.#depth--;
      this.#delivered = 0;
      state.leaveCallback();
    }
  }

  private assertInCallback(what: string): void {
    if (this.#depth === 0) {
      throw new NotInCallbackError(`${what} may only be called inside a read-with-checking callback of ${String(this.state)}`);
    }
  }

  /** asyncIoStateDiscard: drops `n` bytes of the current view; returns what stays buffered. */
  discard(n: number): number {
    this.assertInCallback('asyncIoStateDiscard');
    if (n > this.#delivered) {
      throw new InvalidArgumentError('n', `must not exceed the bytes in the current view (${this.#delivered}), got ${n}`);
    }
    this.consume(n);
    this.#delivered -= n;
    return this.bufferedLength;
  }

  /**
   * asyncIoStateFinish: drops `n` bytes, then ends the operation at once, so
   * the callback may start the next read before it returns.
   */
  finish(n: number): number {
    this.assertInCallback('asyncIoStateFinish');
    if (n > 0) this.discard(n);
    if (this.#runningGeneration !== -1 && this.isCheckingCurrent(this.#runningGeneration)) this.endOp();
    return this.bufferedLength;
  }
}
