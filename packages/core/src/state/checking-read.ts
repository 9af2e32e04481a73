/**
 * asyncIoStateReadWithChecking: the operation that shows the program the
 * bytes buffered so far (a growing view), one callback per batch of new
 * bytes, until the program finishes it or the input ends. Made the first
 * time a state uses it and kept (states that never use it never pay).
 */
import { BufferOverflowError, InvalidArgumentError, NotInCallbackError } from '../errors.js';
import { READ_AHEAD_BYTES } from '../options/defaults.js';
import type { IoStatus } from './status.js';
import type { AnyCallback, StateShell } from './state-shell.js';

/** How read-with-checking presents the bytes. */
export type ElementType = 'base-char' | 'unsigned-byte-8' | 'signed-byte-8';

/** What the read-with-checking operation needs of its read side. */
export interface CheckingHost {
  readonly state: StateShell;
  status: IoStatus;
  readonly ended: boolean;
  readonly bufferedLength: number;
  /** Bumped whenever an operation starts or ends. */
  readonly generation: number;
  /** True while this operation of `generation` is the active one. */
  isCheckingCurrent(generation: number): boolean;
  view(length: number, signed: boolean): Uint8Array | Int8Array;
  consume(n: number): void;
  /** Ends the active operation. */
  endOp(): void;
  /** Turns reading on (the program wants more). */
  flow(): void;
  /** Turns reading off (hold the peer back). */
  holdBack(): void;
}

function runDelivery(read: CheckingRead, generation: number): void {
  read.runDelivery(generation);
}

function runAbort(read: CheckingRead, callback: AnyCallback): void {
  read.runAbort(callback);
}

/** The read-with-checking operation of one read side. */
export class CheckingRead {
  /** How much of the current view the previous callback saw. */
  oldLength = 0;
  readonly #host: CheckingHost;
  #callback: AnyCallback | null = null;
  #errorCallback: AnyCallback | null = null;
  #signed = false;
  /** Bytes of the buffer the program has been shown. */
  #delivered = 0;
  /** The generation whose delivery is queued (-1: none); a stale one must not block a new operation's. */
  #queuedGeneration = -1;
  /** The generation whose callback runs right now (-1: none). */
  #runningGeneration = -1;
  /** >0 while a callback (or its abort callback) runs: discard/finish allowed. */
  #depth = 0;

  constructor(host: CheckingHost) {
    this.#host = host;
  }

  /** Starts the operation (the host already began it). */
  start(callback: AnyCallback, errorCallback: AnyCallback | null, elementType: ElementType): void {
    const host = this.#host;
    this.#callback = callback;
    this.#errorCallback = errorCallback;
    this.#signed = elementType === 'signed-byte-8';
    this.#delivered = 0;
    this.oldLength = 0;
    if (host.bufferedLength > 0 || host.status !== null || host.ended) this.queueDelivery(false);
    host.flow();
  }

  /** Bytes arrived (already buffered by the host). */
  received(): void {
    // Hold the peer back while the program has not been shown what is here yet.
    if (this.#host.bufferedLength - this.#delivered >= READ_AHEAD_BYTES) this.#host.holdBack();
    this.queueDelivery(true);
  }

  /** The operation ended: forget its callbacks. */
  ended(): void {
    this.#callback = null;
    this.#errorCallback = null;
  }

  /** Queues the next callback unless one is queued or runs now (it queues the next when it returns). */
  queueDelivery(fromEvent: boolean): void {
    const host = this.#host;
    const generation = host.generation;
    if (this.#queuedGeneration === generation || this.#runningGeneration === generation) return;
    this.#queuedGeneration = generation;
    host.state.schedule(fromEvent, runDelivery, this, generation);
  }

  /** Runs one callback (queued by `queueDelivery`). */
  runDelivery(generation: number): void {
    if (this.#queuedGeneration === generation) this.#queuedGeneration = -1;
    const host = this.#host;
    const state = host.state;
    if (state.closed || !host.isCheckingCurrent(generation)) return;
    const available = host.bufferedLength;
    const cap = state.maxBufferedInput;
    if (host.status === null && host.ended && this.#delivered >= available) host.status = 'eof';
    let final = host.status !== null;
    if (!final) {
      if (available <= this.#delivered) return;
      if (this.#delivered >= cap) {
        // The program keeps maxBufferedInput bytes and more arrived: refuse to hold more.
        host.holdBack();
        host.status = new BufferOverflowError(
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
    const callback = (final && host.status instanceof Error && this.#errorCallback !== null ? this.#errorCallback : this.#callback) as AnyCallback;
    this.#runningGeneration = generation;
    this.#depth++;
    // Bracketed here, not by `deliver`: the bookkeeping below must run before deferred aborts.
    state.enterCallback();
    try {
      (callback as (s: StateShell, view: Uint8Array | Int8Array, count: number) => void)(state, host.view(end, this.#signed), end);
    } finally {
      this.#depth--;
      this.#runningGeneration = -1;
      // Ended by finish, an abort or close, or replaced by a new read started in the callback: nothing more to do.
      const stillActive = host.isCheckingCurrent(generation);
      if (stillActive && final) host.endOp();
      else if (stillActive) {
        if (host.bufferedLength - this.#delivered < READ_AHEAD_BYTES) host.flow();
        if (this.#hasMoreToDeliver()) this.queueDelivery(false);
      }
      state.leaveCallback();
    }
  }

  #hasMoreToDeliver(): boolean {
    const host = this.#host;
    return host.bufferedLength > this.#delivered || host.status !== null || (host.ended && this.#delivered >= host.bufferedLength);
  }

  /** The operation was aborted (the host ended it): queues `abortCallback` with the whole buffer as its view. */
  aborted(abortCallback: AnyCallback | null): void {
    this.#delivered = 0;
    if (abortCallback !== null) this.#host.state.schedule(false, runAbort, this, abortCallback);
  }

  /** Runs the abort callback of an aborted operation (discard allowed in it). */
  runAbort(callback: AnyCallback): void {
    const host = this.#host;
    const state = host.state;
    if (state.closed) return;
    const end = host.bufferedLength;
    this.#depth++;
    this.#delivered = end;
    state.enterCallback();
    try {
      (callback as (s: StateShell, view: Uint8Array | Int8Array, count: number) => void)(state, host.view(end, this.#signed), end);
    } finally {
      this.#depth--;
      this.#delivered = 0;
      state.leaveCallback();
    }
  }

  #assertInCallback(what: string): void {
    if (this.#depth === 0) {
      throw new NotInCallbackError(`${what} may only be called inside a read-with-checking callback of ${String(this.#host.state)}`);
    }
  }

  /** asyncIoStateDiscard: drops `n` bytes of the current view; returns what stays buffered. */
  discard(n: number): number {
    this.#assertInCallback('asyncIoStateDiscard');
    if (n > this.#delivered) {
      throw new InvalidArgumentError('n', `must not exceed the bytes in the current view (${this.#delivered}), got ${n}`);
    }
    this.#host.consume(n);
    this.#delivered -= n;
    return this.#host.bufferedLength;
  }

  /**
   * asyncIoStateFinish: drops `n` bytes, then ends the operation at once, so
   * the callback may start the next read before it returns.
   */
  finish(n: number): number {
    this.#assertInCallback('asyncIoStateFinish');
    if (n > 0) this.discard(n);
    if (this.#runningGeneration !== -1 && this.#host.isCheckingCurrent(this.#runningGeneration)) this.#host.endOp();
    return this.#host.bufferedLength;
  }
}

/** Throws `ERR_COMMIO_NOT_IN_CALLBACK` for discard/finish on a state that never read with checking. */
export function notInCheckingCallback(state: StateShell, what: string): never {
  throw new NotInCallbackError(`${what} may only be called inside a read-with-checking callback of ${String(state)}`);
}
