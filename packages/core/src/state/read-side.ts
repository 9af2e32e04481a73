/**
 * The read direction of a state: the bytes received and not yet consumed,
 * and the one read operation that may be active (read-buffer,
 * read-with-checking, wait-for-input; UDP receive lives in the UDP module
 * but holds the same slot).
 *
 * Buffering: received chunks are kept as Node hands them over; a chunk that
 * arrives while nothing is buffered is used as is (no copy), and commio never
 * writes into memory it has already handed to a callback (it appends only
 * past the buffered end and compacts into new memory), so a view given to a
 * read-with-checking callback never changes afterwards.
 *
 * Flow control: while a read operation is active the socket flows; with none
 * active the state reads ahead at most READ_AHEAD_BYTES and then pauses the
 * socket, so a peer that the program does not read from is held back by TCP.
 */
import type { AsyncIoState } from './async-io-state.js';
import { BufferOverflowError, NotInCallbackError, InvalidArgumentError } from '../errors.js';
import { isSticky, type IoStatus } from './status.js';
import { READ_AHEAD_BYTES } from '../options/defaults.js';
import { secondsToMs } from '../options/validate.js';
import { logger } from '../debug.js';

const log = logger('state');

/** No read operation. */
export const READ_NONE = 0;
/** asyncIoStateReadBuffer. */
export const READ_BUFFER = 1;
/** asyncIoStateReadWithChecking. */
export const READ_CHECKING = 2;
/** asyncIoStateWaitForInput. */
export const READ_WAIT = 3;
/** asyncIoStateReceiveMessage (UDP). */
export const READ_RECEIVE = 4;

/** How read-with-checking presents the bytes. */
export type ElementType = 'base-char' | 'unsigned-byte-8' | 'signed-byte-8';

/** `(state, buffer, count)`: the callback of read-buffer and read-with-checking. */
export type BufferCallback<B = Uint8Array> = (state: AsyncIoState, buffer: B, count: number) => void;
/** `(state)`: wait-for-input's callback. */
export type StateCallback = (state: AsyncIoState) => void;

type AnyBufferCallback = BufferCallback<Uint8Array | Int8Array>;

const EMPTY = Buffer.alloc(0);

/** Runs a `(state, buffer, count)` callback of `state` unless it closed meanwhile. */
export function deliverBufferCallback(
  state: AsyncIoState,
  callback: AnyBufferCallback,
  buffer: Uint8Array | Int8Array,
  count: number,
): void {
  if (state.closed) return;
  state.enterCallback();
  try {
    callback(state, buffer, count);
  } finally {
    state.leaveCallback();
  }
}

/** Runs a `(state, null, null)` abort callback: nothing was active. */
export function deliverIdleAbort(state: AsyncIoState, callback: (s: AsyncIoState, a: null, b: null) => void): void {
  if (state.closed) return;
  state.enterCallback();
  try {
    callback(state, null, null);
  } finally {
    state.leaveCallback();
  }
}

/** Runs a `(state)` callback of `state` unless it closed meanwhile. */
export function deliverStateCallback(state: AsyncIoState, callback: StateCallback): void {
  if (state.closed) return;
  state.enterCallback();
  try {
    callback(state);
  } finally {
    state.leaveCallback();
  }
}

function deliverChecking(state: AsyncIoState, generation: number): void {
  state.reader.runCheckingDelivery(generation);
}

function deliverCheckingAbort(state: AsyncIoState, callback: AnyBufferCallback): void {
  state.reader.runCheckingAbort(callback);
}

function onReadTimer(this: ReadSide): void {
  this.onTimer();
}

/** What only a read-buffer operation needs; made by the first one and kept (idle states never need it). */
interface ReadBufferTarget {
  target: Uint8Array | Int8Array;
  start: number;
  end: number;
  pos: number;
}

/** The read timer; made when a read timeout is first armed. */
interface ReadTimer {
  timer: NodeJS.Timeout | null;
  ms: number;
  generation: number;
}

// Small flags of a read side, packed into one field (an idle state is a few words smaller).
const OWNED = 1;
const ENDED = 2;
const INPUT_SHUT = 4;
const PAUSED = 8;
const ELEMENT_SHIFT = 4;
const ELEMENT_TYPES: readonly ElementType[] = ['base-char', 'unsigned-byte-8', 'signed-byte-8'];

/** The read direction of one state. */
export class ReadSide {
  status: IoStatus = null;
  /** Which operation is active (READ_*). */
  op = READ_NONE;
  /** Bumped whenever an operation starts or ends: stale deliveries and timers compare it. */
  generation = 0;
  /** How much of the current view the previous read-with-checking callback saw. */
  oldLength = 0;

  readonly #state: AsyncIoState;
  // Unconsumed input: #buf[#start, #end). #owned: the memory is ours (we may append past #end).
  #buf: Buffer | null = null;
  #start = 0;
  #end = 0;
  /** OWNED, ENDED, INPUT_SHUT, PAUSED and the element type (index in ELEMENT_TYPES, from ELEMENT_SHIFT). */
  #flags = PAUSED;
  #readBuffer: ReadBufferTarget | null = null;
  #callback: ((...args: never[]) => void) | null = null;
  #errorCallback: ((...args: never[]) => void) | null = null;
  // read-with-checking
  #delivered = 0;
  /** The generation whose delivery is queued (-1: none); a stale one must not block a new operation's. */
  #queuedGeneration = -1;
  /** The generation whose callback runs right now (-1: none). */
  #runningGeneration = -1;
  /** >0 while a read-with-checking callback (or its abort callback) runs: discard/finish allowed. */
  #checkingDepth = 0;
  #readTimer: ReadTimer | null = null;

  constructor(state: AsyncIoState) {
    this.#state = state;
  }

  #flag(bit: number, on: boolean): void {
    this.#flags = on ? this.#flags | bit : this.#flags & ~bit;
  }

  /** The memory of #buf is ours (we may append past #end). */
  get #owned(): boolean {
    return (this.#flags & OWNED) !== 0;
  }
  set #owned(on: boolean) {
    this.#flag(OWNED, on);
  }

  /** FIN received (or input shut down): no more bytes will come. */
  get #ended(): boolean {
    return (this.#flags & ENDED) !== 0;
  }
  set #ended(on: boolean) {
    this.#flag(ENDED, on);
  }

  /** shutdown('input'): the socket is never read again. */
  get #inputShut(): boolean {
    return (this.#flags & INPUT_SHUT) !== 0;
  }
  set #inputShut(on: boolean) {
    this.#flag(INPUT_SHUT, on);
  }

  get #paused(): boolean {
    return (this.#flags & PAUSED) !== 0;
  }
  set #paused(on: boolean) {
    this.#flag(PAUSED, on);
  }

  get #elementType(): ElementType {
    return ELEMENT_TYPES[this.#flags >>> ELEMENT_SHIFT] as ElementType;
  }
  set #elementType(type: ElementType) {
    this.#flags = (this.#flags & ((1 << ELEMENT_SHIFT) - 1)) | (ELEMENT_TYPES.indexOf(type) << ELEMENT_SHIFT);
  }

  get #rb(): ReadBufferTarget {
    return (this.#readBuffer ??= { target: EMPTY, start: 0, end: 0, pos: 0 });
  }

  get #rt(): ReadTimer {
    return (this.#readTimer ??= { timer: null, ms: 0, generation: -1 });
  }

  /** Bytes received and not yet consumed. */
  get bufferedLength(): number {
    return this.#end - this.#start;
  }

  /** True once the peer's FIN was seen. */
  get ended(): boolean {
    return this.#ended;
  }

  // ---------------------------------------------------------------- buffer

  #append(chunk: Buffer): void {
    const length = chunk.length;
    if (length === 0) return;
    if (this.#start === this.#end) {
      this.#buf = chunk;
      this.#start = 0;
      this.#end = length;
      this.#owned = false;
      return;
    }
    const buf = this.#buf as Buffer;
    if (this.#owned && buf.length - this.#end >= length) {
      chunk.copy(buf, this.#end);
      this.#end += length;
      return;
    }
    const kept = this.#end - this.#start;
    const needed = kept + length;
    const capacity = needed < 65536 ? Math.max(8192, needed * 2) : needed + (needed >> 1);
    const next = Buffer.allocUnsafe(capacity);
    buf.copy(next, 0, this.#start, this.#end);
    chunk.copy(next, kept);
    this.#buf = next;
    this.#start = 0;
    this.#end = needed;
    this.#owned = true;
  }

  /** Drops `n` bytes from the front. */
  #consume(n: number): void {
    this.#start += n;
    if (this.#start >= this.#end) {
      // Released, never reset in place: views handed out stay intact.
      this.#buf = null;
      this.#start = 0;
      this.#end = 0;
      this.#owned = false;
    }
  }

  /** Copies up to `max` buffered bytes into `target` at `at` and consumes them. */
  #copyOut(target: Uint8Array | Int8Array, at: number, max: number): number {
    const n = Math.min(max, this.#end - this.#start);
    if (n <= 0) return 0;
    const buf = this.#buf as Buffer;
    new Uint8Array(target.buffer, target.byteOffset, target.byteLength).set(buf.subarray(this.#start, this.#start + n), at);
    this.#consume(n);
    return n;
  }

  /** Copies buffered bytes into `target[start, end)`; for asyncIoStateGetBufferedData. */
  getBufferedData(target: Uint8Array | Int8Array, start: number, end: number): number {
    return this.#copyOut(target, start, end - start);
  }

  /** @internal Takes every buffered byte out (for handing them to a TLS layer). */
  takeAll(): Buffer | null {
    if (this.#start === this.#end) return null;
    const bytes = (this.#buf as Buffer).subarray(this.#start, this.#end);
    this.#buf = null;
    this.#start = 0;
    this.#end = 0;
    this.#owned = false;
    return bytes;
  }

  // ----------------------------------------------------------- socket flow

  #flow(): void {
    if (!this.#paused || this.#inputShut) return;
    const socket = this.#state.socket;
    if (socket === null) return;
    this.#paused = false;
    socket.resume();
  }

  #holdBack(): void {
    if (this.#paused) return;
    const socket = this.#state.socket;
    if (socket === null) return;
    this.#paused = true;
    socket.pause();
  }

  /** The transport was detached (it is paused now); a new one starts paused. */
  transportDetached(): void {
    this.#paused = true;
  }

  /**
   * @internal TLS was taken off the connection: the end of the TLS stream
   * (the peer's close_notify) is not the end of the connection's input.
   */
  reopenInput(): void {
    this.#ended = false;
    if (this.status === 'eof') this.status = null;
  }

  // ----------------------------------------------------------------- timer

  #armTimer(seconds: number | null): void {
    if (seconds === null || seconds <= 0) return;
    const ms = secondsToMs(seconds);
    const rt = this.#rt;
    rt.generation = this.generation;
    if (rt.timer !== null && rt.ms === ms) {
      rt.timer.refresh();
      return;
    }
    if (rt.timer !== null) clearTimeout(rt.timer);
    rt.ms = ms;
    rt.timer = setTimeout(onReadTimer.bind(this), ms);
    rt.timer.unref();
  }

  #progress(): void {
    const rt = this.#readTimer;
    if (rt !== null && rt.timer !== null && rt.generation === this.generation) rt.timer.refresh();
  }

  /** @internal */
  onTimer(): void {
    if (this.op === READ_NONE || this.#readTimer?.generation !== this.generation || this.#state.closed) return;
    this.status = 'timeout';
    this.#settleOnEvent();
  }

  // ------------------------------------------------------ starting an op

  #begin(op: number, timeout: number | null): void {
    if (this.status === 'timeout') this.status = null;
    this.op = op;
    this.generation++;
    this.#armTimer(timeout);
  }

  #endOp(): void {
    this.op = READ_NONE;
    this.generation++;
    this.#callback = null;
    this.#errorCallback = null;
    if (this.#readBuffer !== null) this.#readBuffer.target = EMPTY;
    if (this.bufferedLength >= READ_AHEAD_BYTES) this.#holdBack();
  }

  /** Starts asyncIoStateReadBuffer (arguments already checked). */
  startReadBuffer(
    target: Uint8Array | Int8Array,
    start: number,
    end: number,
    callback: AnyBufferCallback,
    errorCallback: AnyBufferCallback | null,
  ): void {
    this.#begin(READ_BUFFER, this.#state.readTimeout);
    const rb = this.#rb;
    rb.target = target;
    rb.start = start;
    rb.end = end;
    rb.pos = start + this.#copyOut(target, start, end - start);
    this.#callback = callback;
    this.#errorCallback = errorCallback;
    if (rb.pos === end || this.#reachedEndOfInput()) {
      this.#completeReadBuffer(false);
      return;
    }
    this.#flow();
  }

  /** Starts asyncIoStateReadWithChecking (arguments already checked). */
  startReadWithChecking(callback: AnyBufferCallback, errorCallback: AnyBufferCallback | null, elementType: ElementType): void {
    this.#begin(READ_CHECKING, this.#state.readTimeout);
    this.#callback = callback;
    this.#errorCallback = errorCallback;
    this.#elementType = elementType;
    this.#delivered = 0;
    this.oldLength = 0;
    if (this.bufferedLength > 0 || this.status !== null || this.#ended) this.#queueCheckingDelivery(false);
    this.#flow();
  }

  /** Starts asyncIoStateWaitForInput (arguments already checked). */
  startWaitForInput(callback: StateCallback): void {
    this.#begin(READ_WAIT, this.#state.readTimeout);
    this.#callback = callback;
    if (this.bufferedLength > 0 || this.#reachedEndOfInput()) {
      this.#completeWait(false);
      return;
    }
    this.#flow();
  }

  /** True when a read can make no progress: a sticky status, or FIN with nothing buffered (sets 'eof'). */
  #reachedEndOfInput(): boolean {
    if (this.bufferedLength > 0) return false;
    if (isSticky(this.status)) return true;
    if (this.#ended) {
      this.status = 'eof';
      return true;
    }
    return false;
  }

  // --------------------------------------------------------------- events

  /** @internal Bytes arrived from the transport. */
  onData(chunk: Buffer): void {
    if (this.#state.closed || this.#inputShut) return;
    switch (this.op) {
      case READ_BUFFER: {
        const rb = this.#rb;
        const want = rb.end - rb.pos;
        if (chunk.length <= want) {
          new Uint8Array(rb.target.buffer, rb.target.byteOffset, rb.target.byteLength).set(chunk, rb.pos);
          rb.pos += chunk.length;
        } else {
          new Uint8Array(rb.target.buffer, rb.target.byteOffset, rb.target.byteLength).set(chunk.subarray(0, want), rb.pos);
          rb.pos += want;
          this.#append(chunk.subarray(want));
        }
        if (rb.pos === rb.end) this.#completeReadBuffer(true);
        else this.#progress();
        return;
      }
      case READ_CHECKING:
        this.#append(chunk);
        this.#progress();
        // Hold the peer back while the program has not been shown what is here yet.
        if (this.bufferedLength - this.#delivered >= READ_AHEAD_BYTES) this.#holdBack();
        this.#queueCheckingDelivery(true);
        return;
      case READ_WAIT:
        this.#append(chunk);
        this.#completeWait(true);
        return;
      default:
        this.#append(chunk);
        if (this.bufferedLength >= Math.min(READ_AHEAD_BYTES, this.#state.maxBufferedInput)) this.#holdBack();
    }
  }

  /** @internal The peer's FIN (or the socket closed). */
  onEnd(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#state.closed) return;
    if (log.enabled) log('%s: end of input, %d bytes buffered', this.#state, this.bufferedLength);
    if (this.op === READ_BUFFER || this.op === READ_WAIT) {
      if (this.#reachedEndOfInput()) this.#settleOnEvent();
    } else if (this.op === READ_CHECKING) {
      this.#queueCheckingDelivery(true);
    }
  }

  /** @internal A transport error: sticky for the read direction. */
  onError(error: Error): void {
    if (!(this.status instanceof Error)) this.status = error;
    this.#ended = true;
    if (this.#state.closed || this.op === READ_NONE) return;
    this.#settleOnEvent();
  }

  /** A status was set by an event: complete the active operation with it. */
  #settleOnEvent(): void {
    switch (this.op) {
      case READ_BUFFER:
        this.#completeReadBuffer(true);
        return;
      case READ_CHECKING:
        this.#queueCheckingDelivery(true);
        return;
      case READ_WAIT:
        this.#completeWait(true);
        return;
      case READ_RECEIVE:
        this.#externalSettle?.();
        return;
      default:
    }
  }

  /** @internal The UDP module's hook for settling its receive on a timer or error. */
  #externalSettle: (() => void) | null = null;

  /** @internal The UDP module's hook for an abort of its operation: it queues the abort callback (null: silent). */
  #externalAbort: ((abortCallback: ((...args: never[]) => void) | null) => void) | null = null;

  /**
   * @internal Lets another module (UDP) own the READ_RECEIVE operation:
   * `settle` runs when the read timer fires (status 'timeout'); `abort` when
   * the operation is aborted (the read side has already ended it).
   */
  beginExternal(timeout: number | null, settle: () => void, abort: (abortCallback: ((...args: never[]) => void) | null) => void): void {
    this.#begin(READ_RECEIVE, timeout);
    this.#externalSettle = settle;
    this.#externalAbort = abort;
  }

  /** @internal Ends the READ_RECEIVE operation. */
  endExternal(): void {
    this.#externalSettle = null;
    this.#externalAbort = null;
    this.#endOp();
  }

  // ------------------------------------------------------------ completion

  #completeReadBuffer(fromEvent: boolean): void {
    const state = this.#state;
    const rb = this.#rb;
    const target = rb.target;
    const count = rb.pos - rb.start;
    const callback = (this.status instanceof Error && this.#errorCallback !== null ? this.#errorCallback : this.#callback) as AnyBufferCallback;
    this.#endOp();
    if (fromEvent) state.collection.dispatch(state, deliverBufferCallback, state, callback, target, count);
    else state.collection.post(state, deliverBufferCallback, state, callback, target, count);
  }

  #completeWait(fromEvent: boolean): void {
    const state = this.#state;
    const callback = this.#callback as StateCallback;
    this.#endOp();
    if (fromEvent) state.collection.dispatch(state, deliverStateCallback, state, callback, undefined, undefined);
    else state.collection.post(state, deliverStateCallback, state, callback, undefined, undefined);
  }

  #queueCheckingDelivery(fromEvent: boolean): void {
    // Already queued, or its callback runs now (it queues the next one when it returns).
    if (this.#queuedGeneration === this.generation || this.#runningGeneration === this.generation) return;
    this.#queuedGeneration = this.generation;
    const state = this.#state;
    if (fromEvent) state.collection.dispatch(state, deliverChecking, state, this.generation, undefined, undefined);
    else state.collection.post(state, deliverChecking, state, this.generation, undefined, undefined);
  }

  #view(end: number): Uint8Array | Int8Array {
    const buf = this.#buf;
    if (buf === null || end === 0) return this.#elementType === 'signed-byte-8' ? new Int8Array(0) : EMPTY;
    // The whole chunk needs no view of its own.
    const view = this.#start === 0 && end === buf.length ? buf : buf.subarray(this.#start, this.#start + end);
    return this.#elementType === 'signed-byte-8' ? new Int8Array(view.buffer, view.byteOffset, view.length) : view;
  }

  /** @internal Runs one read-with-checking callback (queued by #queueCheckingDelivery). */
  runCheckingDelivery(generation: number): void {
    if (this.#queuedGeneration === generation) this.#queuedGeneration = -1;
    const state = this.#state;
    if (state.closed || this.op !== READ_CHECKING || this.generation !== generation) return;
    const available = this.bufferedLength;
    const cap = state.maxBufferedInput;
    if (this.status === null && this.#ended && this.#delivered >= available) this.status = 'eof';
    let final = this.status !== null;
    if (!final) {
      if (available <= this.#delivered) return;
      if (this.#delivered >= cap) {
        // The program keeps maxBufferedInput bytes and more arrived: refuse to hold more.
        this.#holdBack();
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
    const callback = (final && this.status instanceof Error && this.#errorCallback !== null ? this.#errorCallback : this.#callback) as AnyBufferCallback;
    this.#runningGeneration = generation;
    this.#checkingDepth++;
    state.enterCallback();
    try {
      callback(state, this.#view(end), end);
    } finally {
      this.#checkingDepth--;
      this.#runningGeneration = -1;
      // Ended by finish, an abort or close, or replaced by a new read started in the callback: nothing more to do.
      const stillActive = this.#isCurrent(READ_CHECKING, generation);
      if (stillActive && final) this.#endOp();
      else if (stillActive) {
        if (this.bufferedLength - this.#delivered < READ_AHEAD_BYTES) this.#flow();
        if (this.#hasMoreToDeliver()) this.#queueCheckingDelivery(false);
      }
      state.leaveCallback();
    }
  }

  /** True while operation `op` of `generation` is the active one (callbacks may have ended it). */
  #isCurrent(op: number, generation: number): boolean {
    return this.op === op && this.generation === generation;
  }

  #hasMoreToDeliver(): boolean {
    return this.bufferedLength > this.#delivered || this.status !== null || (this.#ended && this.#delivered >= this.bufferedLength);
  }

  /** @internal Runs the abort callback of an aborted read-with-checking (discard allowed in it). */
  runCheckingAbort(callback: AnyBufferCallback): void {
    const state = this.#state;
    if (state.closed) return;
    const end = this.bufferedLength;
    this.#checkingDepth++;
    this.#delivered = end;
    state.enterCallback();
    try {
      callback(state, this.#view(end), end);
    } finally {
      this.#checkingDepth--;
      this.#delivered = 0;
      state.leaveCallback();
    }
  }

  // -------------------------------------------------- discard and finish

  #assertInChecking(what: string): void {
    if (this.#checkingDepth === 0) {
      throw new NotInCallbackError(`${what} may only be called inside a read-with-checking callback of ${String(this.#state)}`);
    }
  }

  /** asyncIoStateDiscard: drops `n` bytes of the current view; returns what stays buffered. */
  discard(n: number): number {
    this.#assertInChecking('asyncIoStateDiscard');
    if (n > this.#delivered) {
      throw new InvalidArgumentError('n', `must not exceed the bytes in the current view (${this.#delivered}), got ${n}`);
    }
    this.#consume(n);
    this.#delivered -= n;
    return this.bufferedLength;
  }

  /**
   * asyncIoStateFinish: drops `n` bytes, then ends the operation at once, so
   * the callback may start the next read before it returns.
   */
  finish(n: number): number {
    this.#assertInChecking('asyncIoStateFinish');
    if (n > 0) this.discard(n);
    if (this.op === READ_CHECKING && this.generation === this.#runningGeneration) this.#endOp();
    return this.bufferedLength;
  }

  // ----------------------------------------------------------------- abort

  /**
   * Aborts the active read operation: no further callback of it runs, and
   * `abortCallback` is queued with the arguments its callback would have had.
   * With `quiet`, nothing is queued (an 'io' abort reports once, elsewhere).
   */
  abort(abortCallback: ((...args: never[]) => void) | null): void {
    const state = this.#state;
    const post = state.collection.post.bind(state.collection);
    switch (this.op) {
      case READ_BUFFER: {
        const rb = this.#rb;
        const target = rb.target;
        const count = rb.pos - rb.start;
        this.#endOp();
        if (abortCallback !== null) post(state, deliverBufferCallback, state, abortCallback as AnyBufferCallback, target, count);
        return;
      }
      case READ_CHECKING:
        this.#endOp();
        this.#delivered = 0;
        if (abortCallback !== null) post(state, deliverCheckingAbort, state, abortCallback as AnyBufferCallback, undefined, undefined);
        return;
      case READ_WAIT:
        this.#endOp();
        if (abortCallback !== null) post(state, deliverStateCallback, state, abortCallback as StateCallback, undefined, undefined);
        return;
      case READ_RECEIVE: {
        const externalAbort = this.#externalAbort;
        this.#externalSettle = null;
        this.#externalAbort = null;
        this.#endOp();
        if (externalAbort !== null) externalAbort(abortCallback);
        else if (abortCallback !== null) post(state, deliverIdleAbort, state, abortCallback as (s: AsyncIoState, a: null, b: null) => void, undefined, undefined);
        return;
      }
      default:
        if (abortCallback !== null) post(state, deliverIdleAbort, state, abortCallback as (s: AsyncIoState, a: null, b: null) => void, undefined, undefined);
    }
  }

  /** Input shut down: no more bytes are read; reads see EOF once the buffer is empty. */
  shutdownInput(): void {
    this.#ended = true;
    this.#holdBack();
    this.#inputShut = true;
    if (this.op !== READ_NONE && this.op !== READ_RECEIVE && this.#reachedEndOfInput()) this.#settleOnEvent();
  }

  /** The state closed: forget the operation, stop the timer (buffered bytes stay readable). */
  closed(): void {
    this.op = READ_NONE;
    this.generation++;
    this.#callback = null;
    this.#errorCallback = null;
    this.#externalSettle = null;
    this.#externalAbort = null;
    if (this.#readBuffer !== null) this.#readBuffer.target = EMPTY;
    const rt = this.#readTimer;
    if (rt !== null && rt.timer !== null) {
      clearTimeout(rt.timer);
      rt.timer = null;
    }
  }
}
