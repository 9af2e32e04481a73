/**
 * asyncIoStateReadWithChecking: the operation that shows the program the
 * bytes buffered so far (a growing view), one callback per batch of new
 * bytes, until the program finishes it or the input ends. A layer of the
 * state (the read side extends it): its own type and file, but no object of
 * its own per state.
 */
import { BufferOverflowError, InvalidArgumentError, NotInCallbackError } from '../errors.js';
import { READ_AHEAD_BYTES } from '../options/defaults.js';
import type { IoStatus } from './status.js';
import { StateShell, type AnyCallback } from './state-shell.js';
import { DELIVERY_QUEUED, DELIVERY_RUNNING, IN_VIEW_CALLBACK, SIGNED } from './state-bits.js';

/** How read-with-checking presents the bytes. */
export type ElementType = 'base-char' | 'unsigned-byte-8' | 'signed-byte-8';

function runDelivery(read: CheckingReader, generation: number): void {
  read.runCheckingDelivery(generation);
}

function runAbort(read: CheckingReader, callback: AnyCallback): void {
  read.runCheckingAbort(callback);
}

/** The state's layer of the read-with-checking operation; the read side supplies the rest. */
export abstract class CheckingReader extends StateShell {
  /** How much of the current view the previous callback saw. */
  #oldLength = 0;
  /** The active operation's callback (any read operation's: the read side uses it too). */
  protected callback: AnyCallback | null = null;
  /** Bytes of the buffer the program has been shown. */
  #delivered = 0;

  /** @internal The read direction's status. */
  abstract status: IoStatus;
  /** @internal True once no more bytes will arrive. */
  abstract get inputEnded(): boolean;
  /** @internal Bumped whenever an operation starts or ends (clears DELIVERY_QUEUED and DELIVERY_RUNNING). */
  abstract generation: number;
  /** @internal True while read-with-checking of `generation` is the active operation. */
  abstract isCheckingCurrent(generation: number): boolean;
  /** @internal Ends the active operation. */
  abstract endOp(): void;
  /** @internal Turns reading on (the program wants more). */
  abstract flow(): void;
  /** @internal Turns reading off (hold the peer back). */
  abstract holdBack(): void;
  /** @internal The active operation's error callback, if it has one. */
  protected abstract get errorCallback(): AnyCallback | null;
  protected abstract set errorCallback(value: AnyCallback | null);

  /** How much of the current read-with-checking view was already seen by the previous callback. */
  get oldLength(): number {
    return this.#oldLength;
  }

  /** Starts the operation's part here (the read side already began it). */
  protected startChecking(callback: AnyCallback, errorCallback: AnyCallback | null, elementType: ElementType): void {
    this.callback = callback;
    this.errorCallback = errorCallback;
    this.bits = elementType === 'signed-byte-8' ? this.bits | SIGNED : this.bits & ~SIGNED;
    this.#delivered = 0;
    this.#oldLength = 0;
    if (this.bufferedLength > 0 || this.status !== null || this.inputEnded) this.queueCheckingDelivery(false);
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
    // Both flags speak of the current generation only: a new one clears them (a stale queued delivery must not block this one).
    if ((this.bits & (DELIVERY_QUEUED | DELIVERY_RUNNING)) !== 0) return;
    this.bits |= DELIVERY_QUEUED;
    this.schedule(fromEvent, runDelivery, this, this.generation);
  }

  /** Runs one callback (queued by `queueDelivery`). */
  runCheckingDelivery(generation: number): void {
    if (generation === this.generation) this.bits &= ~DELIVERY_QUEUED;
    if (this.closed || !this.isCheckingCurrent(generation)) return;
    const available = this.bufferedLength;
    const cap = this.maxBufferedInput;
    if (this.status === null && this.inputEnded && this.#delivered >= available) this.status = 'eof';
    let final = this.status !== null;
    if (!final) {
      if (available <= this.#delivered) return;
      if (this.#delivered >= cap) {
        // The program keeps maxBufferedInput bytes and more arrived: refuse to hold more.
        this.holdBack();
        this.status = new BufferOverflowError(
          `${String(this)} keeps ${this.#delivered} unconsumed bytes and more arrived, past maxBufferedInput (${cap})`,
        );
        final = true;
      }
    }
    // A view never holds more than maxBufferedInput bytes (unless the program already keeps more).
    const end = final
      ? Math.min(available, Math.max(this.#delivered, cap))
      : this.#delivered + Math.min(available - this.#delivered, this.maxRead, cap - this.#delivered);
    this.#oldLength = this.#delivered;
    this.#delivered = end;
    const callback = (final && this.status instanceof Error && this.errorCallback !== null ? this.errorCallback : this.callback) as AnyCallback;
    const outerView = this.bits & IN_VIEW_CALLBACK;
    this.bits |= DELIVERY_RUNNING | IN_VIEW_CALLBACK;
    // Bracketed here, not by `deliver`: the bookkeeping below must run before deferred aborts.
    this.enterCallback();
    try {
      (callback as (s: StateShell, view: Uint8Array | Int8Array, count: number) => void)(this, this.view(end, (this.bits & SIGNED) !== 0), end);
    } finally {
      this.bits = (this.bits & ~(DELIVERY_RUNNING | IN_VIEW_CALLBACK)) | outerView;
      // Ended by finish, an abort or close, or replaced by a new read started in the callback: nothing more to do.
      const stillActive = this.isCheckingCurrent(generation);
      if (stillActive && final) this.endOp();
      else if (stillActive) {
        if (this.bufferedLength - this.#delivered < READ_AHEAD_BYTES) this.flow();
        if (this.hasMoreToDeliver()) this.queueCheckingDelivery(false);
      }
      this.leaveCallback();
    }
  }

  private hasMoreToDeliver(): boolean {
    return this.bufferedLength > this.#delivered || this.status !== null || (this.inputEnded && this.#delivered >= this.bufferedLength);
  }

  /** The operation was aborted (the read side ended it): queues `abortCallback` with the whole buffer as its view. */
  protected checkingAborted(abortCallback: AnyCallback | null): void {
    this.#delivered = 0;
    if (abortCallback !== null) this.schedule(false, runAbort, this, abortCallback);
  }

  /** Runs the abort callback of an aborted operation (discard allowed in it). */
  runCheckingAbort(callback: AnyCallback): void {
    if (this.closed) return;
    const end = this.bufferedLength;
    const outerView = this.bits & IN_VIEW_CALLBACK;
    this.bits |= IN_VIEW_CALLBACK;
    this.#delivered = end;
    this.enterCallback();
    try {
      (callback as (s: StateShell, view: Uint8Array | Int8Array, count: number) => void)(this, this.view(end, (this.bits & SIGNED) !== 0), end);
    } finally {
      this.bits = (this.bits & ~IN_VIEW_CALLBACK) | outerView;
      this.#delivered = 0;
      this.leaveCallback();
    }
  }

  private assertInCallback(what: string): void {
    if ((this.bits & IN_VIEW_CALLBACK) === 0) {
      throw new NotInCallbackError(`${what} may only be called inside a read-with-checking callback of ${String(this)}`);
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
    // DELIVERY_RUNNING: the operation whose callback runs is still the active one (any new generation clears it).
    if ((this.bits & DELIVERY_RUNNING) !== 0) this.endOp();
    return this.bufferedLength;
  }
}
