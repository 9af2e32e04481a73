/**
 * The write direction of a stream state: writes in flight, their callbacks,
 * the output cap and the write timeout, over the state's transport.
 *
 * Each write is handed to the transport at once (it keeps their order);
 * inside a pass of the collection's loop the transport may batch them until
 * the pass ends (`flushAfterPass`). A write completes when its bytes reached
 * the kernel: one the transport reports taken at once (`WRITE_DONE`) is
 * completed right away, any other when the transport reports it. Either
 * signal queues one completion through the collection, which takes the
 * oldest write when it runs, so callbacks always run in the order the
 * writes were made. Bytes already handed to the transport cannot be
 * recalled: an abort or a timeout silences their callbacks, but they may
 * still be sent.
 */
import { OutputOverflowError, WriteAfterShutdownError } from '../errors.js';
import { insideCallback } from '../collection/wait-state-collection.js';
import { WRITE_DONE, type StreamTransport } from '../transports/stream-transport.js';
import { WriteQueue, scratchRecord, type WriteRecord } from './write-queue.js';
import { OpTimer } from './op-timer.js';
import { runBracketed, type AnyCallback, type StateShell } from './state-shell.js';
import { transportClosedError, type IoStatus } from './status.js';

/** Told when `shutdownOutput` is done: `true` once FIN was sent, else the error code. */
export type ShutdownNotify = (state: never, result: true | string) => void;

/** What the write side needs of its state besides the shell: its transport. */
export interface WriteOwner extends StateShell {
  /** The stream transport, or null when the state has none (closed, or between TLS handles). */
  readonly transport: StreamTransport | null;
  /** The transport's handle of this connection. */
  readonly handle: unknown;
  /** Flushes what the transport batched in this pass (the collection calls it when the pass ends). */
  flushAfterPass(): void;
}

/** Scratch for `completeOldest`, which uses it synchronously only: one serves every state. */
const DONE: WriteRecord = scratchRecord();

/**
 * Completes the oldest write in flight (a callback of the state, queued in
 * the order the completion signals came, which is the order of the writes).
 */
function completeOldest(writer: WriteSide, failure: Error | null): void {
  writer.completeOldest(failure);
}

function onWriteTimer(writer: WriteSide): void {
  writer.onTimer();
}

function asUint8(buffer: Uint8Array | Int8Array, start: number, end: number): Uint8Array {
  if (buffer instanceof Uint8Array) return start === 0 && end === buffer.length ? buffer : buffer.subarray(start, end);
  return new Uint8Array(buffer.buffer, buffer.byteOffset + start, end - start);
}

/** The write direction of one stream state. */
export class WriteSide {
  status: IoStatus = null;
  /** Bytes handed to the state and not yet completed. */
  pendingBytes = 0;
  /** Bytes of completed writes (statistics; the state's `bytesWritten`). */
  bytesWritten = 0;
  /** Writes in flight whose callback is still to come (not timed out, not aborted). */
  #live = 0;
  /** Writes reported done (by the transport or at once) whose completion waits in the collection. */
  #signalled = 0;
  readonly #state: WriteOwner;
  readonly #queue = new WriteQueue();
  /** The state is on the collection's end-of-pass list for this pass. */
  #passRegistered = false;
  #outputShut = false;
  /** The callback of a shutdown('output') whose FIN is not sent yet. */
  #shutdownCallback: AnyCallback | null = null;
  #timer: OpTimer<WriteSide> | null = null;

  constructor(state: WriteOwner) {
    this.#state = state;
  }

  /**
   * Writes whose callback is still to come. A write that timed out or was
   * aborted is over for the program (its bytes may still be sent), so it
   * does not block a new write.
   */
  get activeCount(): number {
    return this.#live;
  }

  /** True after `shutdown('output')`. */
  get outputShut(): boolean {
    return this.#outputShut;
  }

  /** Starts asyncIoStateWriteBuffer (arguments already checked, queueing rule already applied). */
  write(buffer: Uint8Array | Int8Array, start: number, end: number, callback: AnyCallback, errorCallback: AnyCallback | null): void {
    const state = this.#state;
    const transport = state.transport;
    if (this.status === 'timeout') this.status = null;
    if (this.status === null && (this.#outputShut || transport === null || !transport.isOpen(state.handle))) {
      this.status = this.#outputShut ? new WriteAfterShutdownError('write after the output was shut down') : transportClosedError();
    }
    if (this.status !== null) {
      state.deliver(false, errorCallback ?? callback, buffer, 0);
      return;
    }
    const length = end - start;
    if (this.pendingBytes > 0 && this.pendingBytes + length > state.maxQueuedOutput) {
      this.status = new OutputOverflowError(
        `${String(state)}: writing ${length} bytes would take the pending output (${this.pendingBytes} bytes) past maxQueuedOutput (${state.maxQueuedOutput})`,
      );
      state.deliver(false, errorCallback ?? callback, buffer, 0);
      return;
    }
    this.#queue.push(buffer, length, callback, errorCallback);
    this.pendingBytes += length;
    this.#live++;
    const inPass = insideCallback();
    const againInPass = this.#passRegistered;
    if (inPass && !againInPass) {
      this.#passRegistered = true;
      state.collection.flushWhenPassEnds(state);
    }
    if ((transport as StreamTransport).write(state.handle, asUint8(buffer, start, end), inPass, againInPass) === WRITE_DONE) {
      // Taken by the kernel: completed through the collection (never inside this call).
      this.#signalled++;
      state.schedule(false, completeOldest, this, null);
    }
    if (state.writeTimeout !== null && state.writeTimeout > 0 && this.#live === 1) {
      (this.#timer ??= new OpTimer<WriteSide>(onWriteTimer, this)).arm(state.writeTimeout);
    }
  }

  /** The collection's pass ended (the state flushes its transport). */
  passEnded(): void {
    this.#passRegistered = false;
  }

  /**
   * The transport reports a write done. The oldest write is taken when the
   * completion runs, not now: a completion queued earlier (a write the
   * kernel took at once) must take the older write first.
   */
  transportWrote(error: Error | null): void {
    this.#signalled++;
    this.#state.schedule(true, completeOldest, this, error);
  }

  /** @internal Completes the oldest write in flight; runs as work of the state (see `completeOldest`). */
  completeOldest(error: Error | null): void {
    const record = DONE;
    if (this.#signalled > 0) this.#signalled--;
    if (!this.#queue.shiftInto(record)) return;
    const state = this.#state;
    this.pendingBytes -= record.length;
    const buffer = record.buffer as Uint8Array;
    const callback = (error != null && record.errorCallback !== null ? record.errorCallback : record.callback) as AnyCallback;
    const silenced = record.silenced;
    record.buffer = null;
    record.callback = null;
    record.errorCallback = null;
    if (!silenced) this.#live--;
    if (error != null && !(this.status instanceof Error)) this.status = error;
    if (error == null) this.bytesWritten += record.length; // statistics
    // Progress: the next write gets a whole writeTimeout.
    if (this.#live > 0) this.#timer?.refresh();
    if (silenced || state.closed) return;
    runBracketed(state, callback, buffer, error != null ? 0 : record.length);
  }

  /** The oldest write whose callback is still to come, or null. */
  private firstLive(): WriteRecord | null {
    let first: WriteRecord | null = null;
    if (this.#live > 0) {
      this.#queue.forEach((record) => {
        if (first === null && !record.silenced) first = record;
      });
    }
    return first;
  }

  /** @internal The write timer fired: the oldest live write has made no progress for writeTimeout. */
  onTimer(): void {
    const state = this.#state;
    const head = this.firstLive();
    if (head === null || state.closed) return;
    this.status = 'timeout';
    head.silenced = true;
    this.#live--;
    // How much of it reached the kernel: known when it is the only write in flight and the transport can tell.
    let written = 0;
    const transport = state.transport;
    if (transport !== null && this.#queue.size === 1) {
      const backlog = transport.pendingOutput(state.handle);
      if (backlog !== null) written = Math.max(0, Math.min(head.length, head.length - backlog));
    }
    // The writes queued behind it get their own writeTimeout.
    if (this.#live > 0) this.#timer?.refresh();
    state.deliver(true, head.callback as AnyCallback, head.buffer, written);
  }

  /** @internal A transport error: sticky for the write direction (the transport fails pending writes itself). */
  onError(error: Error): void {
    if (!(this.status instanceof Error)) this.status = error;
  }

  /** @internal The transport closed: writes still in flight will never complete. */
  onClose(): void {
    // Writes already reported done (their completions wait in the collection) reached the kernel.
    if (this.#queue.size <= this.#signalled || this.#state.closed) return;
    if (!(this.status instanceof Error)) this.status = transportClosedError();
  }

  /**
   * Aborts the writes in flight: none of their callbacks runs; `abortCallback`
   * is queued with the oldest one's `(state, buffer, 0)` or, with none,
   * `(state, null, null)`.
   */
  abort(abortCallback: AnyCallback | null): void {
    const buffer = this.firstLive()?.buffer ?? null;
    this.#queue.forEach((record) => {
      record.silenced = true;
    });
    this.#live = 0;
    if (abortCallback === null) return;
    if (buffer !== null) this.#state.deliver(false, abortCallback, buffer, 0);
    else this.#state.deliver(false, abortCallback, null, null);
  }

  /**
   * Sends FIN once the writes in flight are flushed; `callback(state, true)`
   * runs after (through the collection), or `callback(state, code)` when the
   * connection fails first.
   */
  shutdownOutput(callback: AnyCallback | null): true | string {
    const state = this.#state;
    const transport = state.transport;
    if (transport === null || !transport.isOpen(state.handle)) return 'ENOTCONN';
    if (this.#outputShut) return true;
    this.#outputShut = true;
    this.#shutdownCallback = callback;
    transport.shutdownOutput(state.handle, callback !== null);
    return true;
  }

  /** @internal The pending shutdown('output') is over: FIN sent (`true`) or the connection failed (error code). */
  shutdownSettled(result: true | string): void {
    const callback = this.#shutdownCallback;
    if (callback === null) return;
    this.#shutdownCallback = null;
    if (this.#state.closed) return;
    this.#state.deliver(true, callback, result);
  }

  /** The state closed: forget everything in flight, stop the timer. */
  closed(): void {
    this.#shutdownCallback = null;
    this.#queue.clear();
    this.pendingBytes = 0;
    this.#live = 0;
    this.#signalled = 0;
    this.#passRegistered = false;
    this.#timer?.clear();
  }
}
