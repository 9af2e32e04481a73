/**
 * The read direction of a stream state: the input buffer (see
 * input-buffer.ts), flow control, the read timer, and the one read
 * operation that may be active: read-buffer, read-with-checking
 * (checking-read.ts, a layer this class extends) or wait-for-input.
 *
 * Flow control: while a read operation is active the transport reads; with
 * none active the state reads ahead at most READ_AHEAD_BYTES and then turns
 * reading off, so a peer that the program does not read from is held back
 * by TCP.
 */
import { READ_AHEAD_BYTES } from '../options/defaults.js';
import { logger } from '../debug.js';
import { CheckingReader, type ElementType } from './checking-read.js';
import { OpTimer } from './op-timer.js';
import { isSticky, type IoStatus } from './status.js';
import type { AnyCallback } from './state-shell.js';
import { READ_BUFFER, READ_CHECKING, READ_NONE, READ_WAIT, type ReadOwner } from './read-ops.js';

export type { ElementType } from './checking-read.js';
export { READ_BUFFER, READ_CHECKING, READ_NONE, READ_WAIT, type ReadOwner } from './read-ops.js';

const log = logger('state');

const EMPTY = Buffer.alloc(0);

function onReadTimer(side: ReadSide): void {
  side.onTimer();
}

/** What only a read-buffer operation needs; made by the first one and kept (idle states never need it). */
interface ReadBufferTarget {
  target: Uint8Array | Int8Array;
  start: number;
  end: number;
  pos: number;
}

// Small flags of a read side, packed into one field (an idle state is a few words smaller).
const ENDED = 1;
const INPUT_SHUT = 2;
const PAUSED = 4;

/** The read direction of one stream state. */
export class ReadSide extends CheckingReader {
  status: IoStatus = null;
  /** Which operation is active (READ_*). */
  op = READ_NONE;
  /** Bumped whenever an operation starts or ends: stale deliveries and timers compare it. */
  generation = 0;

  readonly state: ReadOwner;
  /** ENDED, INPUT_SHUT, PAUSED. */
  #flags = PAUSED;
  #readBuffer: ReadBufferTarget | null = null;
  #timer: OpTimer<ReadSide> | null = null;

  constructor(state: ReadOwner) {
    super();
    this.state = state;
  }

  private hasFlag(bit: number): boolean {
    return (this.#flags & bit) !== 0;
  }
  private setFlag(bit: number, on: boolean): void {
    this.#flags = on ? this.#flags | bit : this.#flags & ~bit;
  }

  /** True once the peer's FIN was seen (or input shut down). */
  get ended(): boolean {
    return this.hasFlag(ENDED);
  }

  /** Copies buffered bytes into `target[start, end)`; for asyncIoStateGetBufferedData. */
  getBufferedData(target: Uint8Array | Int8Array, start: number, end: number): number {
    return this.copyOut(target, start, end - start);
  }

  // ----------------------------------------------------------- flow control

  /** @internal Turns reading on (a read waits for bytes). */
  flow(): void {
    if (!this.hasFlag(PAUSED) || this.hasFlag(INPUT_SHUT)) return;
    if (this.state.setReading(true)) this.setFlag(PAUSED, false);
  }

  /** @internal Turns reading off (hold the peer back). */
  holdBack(): void {
    if (this.hasFlag(PAUSED)) return;
    if (this.state.setReading(false)) this.setFlag(PAUSED, true);
  }

  /** The transport was detached (it is not reading now); a new one starts paused. */
  transportDetached(): void {
    this.setFlag(PAUSED, true);
  }

  /**
   * @internal TLS was taken off the connection: the end of the TLS stream
   * (the peer's close_notify) is not the end of the connection's input.
   */
  reopenInput(): void {
    this.setFlag(ENDED, false);
    if (this.status === 'eof') this.status = null;
  }

  // ----------------------------------------------------------------- timer

  private armTimer(seconds: number | null): void {
    if (seconds === null || seconds <= 0) return;
    const timer = (this.#timer ??= new OpTimer<ReadSide>(onReadTimer, this));
    timer.generation = this.generation;
    timer.arm(seconds);
  }

  private progress(): void {
    const timer = this.#timer;
    if (timer !== null && timer.generation === this.generation) timer.refresh();
  }

  /** @internal The read timer ran out. */
  onTimer(): void {
    if (this.op === READ_NONE || this.#timer?.generation !== this.generation || this.state.closed) return;
    this.status = 'timeout';
    this.settleOnEvent();
  }

  // ------------------------------------------------------ starting an op

  private begin(op: number, timeout: number | null): void {
    if (this.status === 'timeout') this.status = null;
    this.op = op;
    this.generation++;
    this.armTimer(timeout);
  }

  /** @internal Ends the active operation. */
  endOp(): void {
    this.op = READ_NONE;
    this.generation++;
    this.callback = null;
    this.errorCallback = null;
    if (this.#readBuffer !== null) this.#readBuffer.target = EMPTY;
    if (this.bufferedLength >= READ_AHEAD_BYTES) this.holdBack();
  }

  /** @internal True while read-with-checking of `generation` is the active operation. */
  isCheckingCurrent(generation: number): boolean {
    return this.op === READ_CHECKING && this.generation === generation;
  }

  /** Starts asyncIoStateReadBuffer (arguments already checked). */
  startReadBuffer(target: Uint8Array | Int8Array, start: number, end: number, callback: AnyCallback, errorCallback: AnyCallback | null): void {
    this.begin(READ_BUFFER, this.state.readTimeout);
    const rb = (this.#readBuffer ??= { target: EMPTY, start: 0, end: 0, pos: 0 });
    rb.target = target;
    rb.start = start;
    rb.end = end;
    rb.pos = start + this.copyOut(target, start, end - start);
    this.callback = callback;
    this.errorCallback = errorCallback;
    if (rb.pos === end || this.reachedEndOfInput()) {
      this.completeReadBuffer(false);
      return;
    }
    this.flow();
  }

  /** Starts asyncIoStateReadWithChecking (arguments already checked). */
  startReadWithChecking(callback: AnyCallback, errorCallback: AnyCallback | null, elementType: ElementType): void {
    this.begin(READ_CHECKING, this.state.readTimeout);
    this.startChecking(callback, errorCallback, elementType);
  }

  /** Starts asyncIoStateWaitForInput (arguments already checked). */
  startWaitForInput(callback: AnyCallback): void {
    this.begin(READ_WAIT, this.state.readTimeout);
    this.callback = callback;
    if (this.bufferedLength > 0 || this.reachedEndOfInput()) {
      this.completeWait(false);
      return;
    }
    this.flow();
  }

  /** True when a read can make no progress: a sticky status, or FIN with nothing buffered (sets 'eof'). */
  private reachedEndOfInput(): boolean {
    if (this.bufferedLength > 0) return false;
    if (isSticky(this.status)) return true;
    if (this.hasFlag(ENDED)) {
      this.status = 'eof';
      return true;
    }
    return false;
  }

  // --------------------------------------------------------------- events

  /** @internal Bytes arrived from the transport (owned by the read side from now on). */
  onData(chunk: Buffer): void {
    if (this.state.closed || this.hasFlag(INPUT_SHUT)) return;
    switch (this.op) {
      case READ_BUFFER: {
        const rb = this.#readBuffer as ReadBufferTarget;
        const want = rb.end - rb.pos;
        const into = new Uint8Array(rb.target.buffer, rb.target.byteOffset, rb.target.byteLength);
        if (chunk.length <= want) {
          into.set(chunk, rb.pos);
          rb.pos += chunk.length;
        } else {
          into.set(chunk.subarray(0, want), rb.pos);
          rb.pos += want;
          this.append(chunk.subarray(want));
        }
        if (rb.pos === rb.end) this.completeReadBuffer(true);
        else this.progress();
        return;
      }
      case READ_CHECKING:
        this.append(chunk);
        this.progress();
        this.checkingReceived();
        return;
      case READ_WAIT:
        this.append(chunk);
        this.completeWait(true);
        return;
      default:
        this.append(chunk);
        if (this.bufferedLength >= Math.min(READ_AHEAD_BYTES, this.state.maxBufferedInput)) this.holdBack();
    }
  }

  /** @internal The peer's FIN (or the connection closed). */
  onEnd(): void {
    if (this.hasFlag(ENDED)) return;
    this.setFlag(ENDED, true);
    if (this.state.closed) return;
    if (log.enabled) log('%s: end of input, %d bytes buffered', this.state, this.bufferedLength);
    if (this.op === READ_BUFFER || this.op === READ_WAIT) {
      if (this.reachedEndOfInput()) this.settleOnEvent();
    } else if (this.op === READ_CHECKING) {
      this.queueCheckingDelivery(true);
    }
  }

  /** @internal A transport error: sticky for the read direction. */
  onError(error: Error): void {
    if (!(this.status instanceof Error)) this.status = error;
    this.setFlag(ENDED, true);
    if (this.state.closed || this.op === READ_NONE) return;
    this.settleOnEvent();
  }

  /** A status was set by an event: complete the active operation with it. */
  private settleOnEvent(): void {
    switch (this.op) {
      case READ_BUFFER:
        this.completeReadBuffer(true);
        return;
      case READ_CHECKING:
        this.queueCheckingDelivery(true);
        return;
      case READ_WAIT:
        this.completeWait(true);
        return;
      default:
    }
  }

  // ------------------------------------------------------------ completion

  private completeReadBuffer(fromEvent: boolean): void {
    const rb = this.#readBuffer as ReadBufferTarget;
    const target = rb.target;
    const count = rb.pos - rb.start;
    const callback = (this.status instanceof Error && this.errorCallback !== null ? this.errorCallback : this.callback) as AnyCallback;
    this.endOp();
    this.state.deliver(fromEvent, callback, target, count);
  }

  private completeWait(fromEvent: boolean): void {
    const callback = this.callback as AnyCallback;
    this.endOp();
    this.state.deliver(fromEvent, callback);
  }

  // ----------------------------------------------------------------- abort

  /**
   * Aborts the active read operation: no further callback of it runs, and
   * `abortCallback` (null: nothing) is queued with the arguments its
   * callback would have had, `(state, null, null)` when nothing was active.
   */
  abort(abortCallback: AnyCallback | null): void {
    const state = this.state;
    switch (this.op) {
      case READ_BUFFER: {
        const rb = this.#readBuffer as ReadBufferTarget;
        const target = rb.target;
        const count = rb.pos - rb.start;
        this.endOp();
        if (abortCallback !== null) state.deliver(false, abortCallback, target, count);
        return;
      }
      case READ_CHECKING:
        this.endOp();
        this.checkingAborted(abortCallback);
        return;
      case READ_WAIT:
        this.endOp();
        if (abortCallback !== null) state.deliver(false, abortCallback);
        return;
      default:
        if (abortCallback !== null) state.deliver(false, abortCallback, null, null);
    }
  }

  /** Input shut down: no more bytes are read; reads see EOF once the buffer is empty. */
  shutdownInput(): void {
    this.setFlag(ENDED, true);
    this.holdBack();
    this.setFlag(INPUT_SHUT, true);
    if (this.op !== READ_NONE && this.reachedEndOfInput()) this.settleOnEvent();
  }

  /** The state closed: forget the operation, stop the timer (buffered bytes stay readable). */
  closed(): void {
    this.op = READ_NONE;
    this.generation++;
    this.callback = null;
    this.errorCallback = null;
    if (this.#readBuffer !== null) this.#readBuffer.target = EMPTY;
    this.#timer?.clear();
  }
}
