/**
 * The write direction of a state: writes in flight, their callbacks, the
 * output cap and the write timeout.
 *
 * Each write is handed to the socket at once (Node keeps their order). From
 * the second write in one pass of the collection's loop on, writes are
 * corked and flushed together when the pass ends (one `writev`). A write
 * completes when its bytes reached the kernel: a lone plain-TCP write the
 * kernel takes at once is seen as done right away, any other when Node
 * reports it. Either signal queues one completion through the collection,
 * which takes the oldest write when it runs, so callbacks always run in the
 * order the writes were made. Bytes already handed to the socket cannot be
 * recalled: an abort or a timeout silences their callbacks, but they may
 * still be sent.
 */
import type { AsyncIoState } from './async-io-state.js';
import { OutputOverflowError } from '../errors.js';
import { insideCallback } from '../collection/wait-state-collection.js';
import { WriteQueue, scratchRecord, type WriteRecord } from './write-queue.js';
import { deliverBufferCallback, deliverIdleAbort, type BufferCallback } from './read-side.js';
import { transportClosedError, type IoStatus } from './status.js';
import { secondsToMs } from '../options/validate.js';

type AnyBufferCallback = BufferCallback<Uint8Array | Int8Array>;

/** Told when `shutdownOutput` is done: `true` once FIN was sent, else the error code. */
export type ShutdownNotify = (state: AsyncIoState, result: true | string) => void;

/** Runs a shutdown callback of `state` unless it closed meanwhile. */
export function deliverShutdown(state: AsyncIoState, callback: ShutdownNotify, result: true | string): void {
  if (state.closed) return;
  state.enterCallback();
  try {
    callback(state, result);
  } finally {
    state.leaveCallback();
  }
}

/** Scratch for `#written`, which uses it synchronously only: one serves every state. */
const DONE: WriteRecord = scratchRecord();

/** Written behind a write the kernel did not take at once: its callback says that write is done. */
const MARKER = new Uint8Array(0);

/**
 * Completes the oldest write in flight (a callback of the state, queued in
 * the order the completion signals came, which is the order of the writes).
 */
function completeOldest(writer: WriteSide, failure: Error | null): void {
  writer.completeOldest(failure);
}

/** True when Node holds no bytes of this socket's writes (all handed to the kernel, or failed). */
function nothingPending(socket: NonNullable<AsyncIoState['socket']>): boolean {
  return socket.writableLength === 0;
}

function onWriteTimer(this: WriteSide): void {
  this.onTimer();
}

/** The libuv handle's count of bytes accepted but not yet handed to the kernel, when it shows one. */
function kernelBacklog(socket: NonNullable<AsyncIoState['socket']>): number | null {
  const size = (socket as unknown as { _handle?: { writeQueueSize?: unknown } | null })._handle?.writeQueueSize;
  return typeof size === 'number' ? size : null;
}

function asUint8(buffer: Uint8Array | Int8Array, start: number, end: number): Uint8Array {
  if (buffer instanceof Uint8Array) return start === 0 && end === buffer.length ? buffer : buffer.subarray(start, end);
  return new Uint8Array(buffer.buffer, buffer.byteOffset + start, end - start);
}

/** The write direction of one state. */
export class WriteSide {
  status: IoStatus = null;
  /** Bytes handed to the state and not yet completed. */
  pendingBytes = 0;
  /** Writes in flight whose callback is still to come (not timed out, not aborted). */
  #live = 0;
  readonly #state: AsyncIoState;
  readonly #queue = new WriteQueue();
  #onWritten: ((error?: Error | null) => void) | null = null;
  #corked = false;
  /** A write was already made in this pass of the loop (the next one corks). */
  #passWrite = false;
  #outputShut = false;
  /** The callback of a shutdown('output') whose FIN is not sent yet. */
  #shutdownCallback: ShutdownNotify | null = null;
  #timer: NodeJS.Timeout | null = null;
  #timerMs = 0;

  constructor(state: AsyncIoState) {
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
  write(
    buffer: Uint8Array | Int8Array,
    start: number,
    end: number,
    callback: AnyBufferCallback,
    errorCallback: AnyBufferCallback | null,
  ): void {
    const state = this.#state;
    if (this.status === 'timeout') this.status = null;
    if (this.status === null && (this.#outputShut || state.socket === null || state.socket.destroyed)) {
      this.status = this.#outputShut ? writeAfterShutdownError() : transportClosedError();
    }
    if (this.status !== null) {
      state.collection.post(state, deliverBufferCallback, state, errorCallback ?? callback, buffer, 0);
      return;
    }
    const length = end - start;
    if (this.pendingBytes > 0 && this.pendingBytes + length > state.maxQueuedOutput) {
      this.status = new OutputOverflowError(
        `${String(state)}: writing ${length} bytes would take the pending output (${this.pendingBytes} bytes) past maxQueuedOutput (${state.maxQueuedOutput})`,
      );
      state.collection.post(state, deliverBufferCallback, state, errorCallback ?? callback, buffer, 0);
      return;
    }
    this.#queue.push(buffer, length, callback, errorCallback);
    this.pendingBytes += length;
    this.#live++;
    const socket = state.socket as NonNullable<AsyncIoState['socket']>;
    if (!this.#corked && insideCallback()) {
      // Batch the writes of this pass of the loop into one syscall. A lone
      // write goes straight out: corking only from the second one spares it
      // Node's buffered-write path.
      if (this.#passWrite) {
        this.#corked = true;
        socket.cork();
      } else {
        this.#passWrite = true;
        state.collection.flushWhenPassEnds(state);
      }
    }
    const bytes = asUint8(buffer, start, end);
    if (this.#corked || state.tls !== null || !nothingPending(socket)) {
      socket.write(bytes, (this.#onWritten ??= this.#written.bind(this)));
    } else {
      // Nothing waits in Node: written without a callback, a write the kernel
      // takes at once costs Node no tick and no objects to report it; we
      // complete it ourselves (later, through the collection). Writes
      // complete in order, so either way the oldest record is the one done.
      socket.write(bytes);
      // Taken at once, or refused at once (then the socket shows the error).
      if (nothingPending(socket)) state.collection.post(state, completeOldest, this, socket.errored, undefined, undefined);
      else socket.write(MARKER, (this.#onWritten ??= this.#written.bind(this)));
    }
    if (state.writeTimeout !== null && state.writeTimeout > 0 && this.#live === 1) this.#armTimer(state.writeTimeout);
  }

  /** Flushes writes corked during the pass that just ended. */
  flushAfterPass(): void {
    this.#passWrite = false;
    if (!this.#corked) return;
    this.#corked = false;
    const socket = this.#state.socket;
    if (socket !== null) socket.uncork();
  }

  /**
   * Node reports a write done. The oldest write is taken when the completion
   * runs, not now: a completion queued earlier (a write the kernel took at
   * once) must take the older write first.
   */
  #written(error?: Error | null): void {
    const state = this.#state;
    state.collection.dispatch(state, completeOldest, this, error ?? null, undefined, undefined);
  }

  /** @internal Completes the oldest write in flight; runs as a callback of the state (see `completeOldest`). */
  completeOldest(error: Error | null): void {
    const record = DONE;
    if (!this.#queue.shiftInto(record)) return;
    const state = this.#state;
    this.pendingBytes -= record.length;
    const buffer = record.buffer as Uint8Array;
    const callback = (error != null && record.errorCallback !== null ? record.errorCallback : record.callback) as AnyBufferCallback;
    const silenced = record.silenced;
    record.buffer = null;
    record.callback = null;
    record.errorCallback = null;
    if (!silenced) this.#live--;
    if (error != null && !(this.status instanceof Error)) this.status = error;
    // Progress: the next write gets a whole writeTimeout.
    if (this.#live > 0 && this.#timer !== null) this.#timer.refresh();
    if (silenced || state.closed) return;
    deliverBufferCallback(state, callback, buffer, error != null ? 0 : record.length);
  }

  #armTimer(seconds: number): void {
    const ms = secondsToMs(seconds);
    if (this.#timer !== null && this.#timerMs === ms) {
      this.#timer.refresh();
      return;
    }
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timerMs = ms;
    this.#timer = setTimeout(onWriteTimer.bind(this), ms);
    this.#timer.unref();
  }

  /** The oldest write whose callback is still to come, or null. */
  #firstLive(): WriteRecord | null {
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
    const head = this.#firstLive();
    if (head === null || state.closed) return;
    this.status = 'timeout';
    head.silenced = true;
    this.#live--;
    // How much of it reached the kernel: known when it is the only write in flight on a plain socket.
    let written = 0;
    const socket = state.socket;
    if (socket !== null && state.tls === null && this.#queue.size === 1) {
      const backlog = kernelBacklog(socket);
      if (backlog !== null) written = Math.max(0, Math.min(head.length, head.length - backlog));
    }
    // The writes queued behind it get their own writeTimeout.
    if (this.#live > 0 && this.#timer !== null) this.#timer.refresh();
    state.collection.dispatch(state, deliverBufferCallback, state, head.callback as AnyBufferCallback, head.buffer as Uint8Array, written);
  }

  /** @internal A transport error: sticky for the write direction (Node fails pending writes itself). */
  onError(error: Error): void {
    if (!(this.status instanceof Error)) this.status = error;
  }

  /** @internal The transport closed: writes still in flight will never complete. */
  onClose(): void {
    if (this.#queue.size === 0 || this.#state.closed) return;
    if (!(this.status instanceof Error)) this.status = transportClosedError();
  }

  /**
   * Aborts the writes in flight: none of their callbacks runs; `abortCallback`
   * is queued with the oldest one's `(state, buffer, 0)` or, with none,
   * `(state, null, null)`.
   */
  abort(abortCallback: ((...args: never[]) => void) | null): void {
    const state = this.#state;
    if (state.udp !== null) {
      // A UDP state's sends live in the UDP module.
      state.udp.abortOutput(abortCallback);
      return;
    }
    const buffer = this.#firstLive()?.buffer ?? null;
    this.#queue.forEach((record) => {
      record.silenced = true;
    });
    this.#live = 0;
    if (abortCallback === null) return;
    if (buffer !== null) state.collection.post(state, deliverBufferCallback, state, abortCallback as AnyBufferCallback, buffer, 0);
    else state.collection.post(state, deliverIdleAbort, state, abortCallback as (s: AsyncIoState, a: null, b: null) => void, undefined, undefined);
  }

  /**
   * Sends FIN once the writes in flight are flushed; `callback(state, true)`
   * runs after (through the collection), or `callback(state, code)` when the
   * connection fails first.
   */
  shutdownOutput(callback: ShutdownNotify | null): true | string {
    const state = this.#state;
    const socket = state.socket;
    if (socket === null || socket.destroyed) return 'ENOTCONN';
    if (this.#outputShut) return true;
    this.#outputShut = true;
    this.flushAfterPass();
    if (callback !== null) {
      // The state's shared listeners report 'finish' and errors: no closures per shutdown.
      this.#shutdownCallback = callback;
      state.listenForFinish(socket);
    }
    socket.end();
    return true;
  }

  /** @internal The pending shutdown('output') is over: FIN sent (`true`) or the connection failed (error code). */
  shutdownSettled(result: true | string): void {
    const callback = this.#shutdownCallback;
    if (callback === null) return;
    this.#shutdownCallback = null;
    const state = this.#state;
    if (state.closed) return;
    state.collection.dispatch(state, deliverShutdown, state, callback, result, undefined);
  }

  /** The state closed: forget everything in flight, stop the timer. */
  closed(): void {
    this.#shutdownCallback = null;
    this.#queue.clear();
    this.pendingBytes = 0;
    this.#live = 0;
    // A socket kept alive must not stay corked.
    this.flushAfterPass();
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
  }
}

function writeAfterShutdownError(): Error {
  const error = new Error('write after the output was shut down') as NodeJS.ErrnoException;
  error.code = 'EPIPE';
  return error;
}
