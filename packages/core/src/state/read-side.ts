/**
 * The read direction of a stream state, a layer of the state (no object of
 * its own): the input buffer (see input-buffer.ts, the base of the state),
 * flow control, the read timer, and the one read operation that may be
 * active: read-buffer, read-with-checking (checking-read.ts, a layer this
 * class extends) or wait-for-input.
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
import { READ_BUFFER, READ_CHECKING, READ_NONE, READ_WAIT } from './read-ops.js';
import type { ReadBufferTarget } from './rare-fields.js';
import { DELIVERY_QUEUED, DELIVERY_RUNNING, ENDED, INPUT_SHUT, OP_MASK, OP_SHIFT, PAUSED } from './state-bits.js';

export type { ElementType } from './checking-read.js';
export { READ_BUFFER, READ_CHECKING, READ_NONE, READ_WAIT } from './read-ops.js';

const log = logger('state');

const EMPTY = Buffer.alloc(0);

function onReadTimer(side: ReadSide): void {
  side.onTimer();
}

/** A new generation: the delivery flags of the old one no longer apply. */
const GENERATION_FLAGS = DELIVERY_QUEUED | DELIVERY_RUNNING;

/** The read direction of one stream state (a layer of the state). */
export abstract class ReadSide extends CheckingReader {
  /** @internal Bumped whenever an operation starts or ends: stale deliveries and timers compare it. */
  generation = 0;

  /** @internal Turns the transport's reading on or off; false when there is no transport to switch. */
  abstract setReading(on: boolean): boolean;

  private hasFlag(bit: number): boolean {
    return (this.bits & bit) !== 0;
  }
  private setFlag(bit: number, on: boolean): void {
    this.bits = on ? this.bits | bit : this.bits & ~bit;
  }

  /** @internal Which read operation is active (READ_*). */
  get op(): number {
    return (this.bits & OP_MASK) >> OP_SHIFT;
  }

  /** Starts a new generation with `op` active (READ_NONE: none). */
  private nextGeneration(op: number): void {
    this.bits = (this.bits & ~(OP_MASK | GENERATION_FLAGS)) | (op << OP_SHIFT);
    this.generation++;
  }

  /** @internal True once the peer's FIN was seen (or input shut down). */
  get inputEnded(): boolean {
    return this.hasFlag(ENDED);
  }

  /** @internal The read direction's status (kept with the rare fields while not null: an idle state has none). */
  get status(): IoStatus {
    return this.rare === null ? null : this.rare.readStatus;
  }
  set status(value: IoStatus) {
    if (value !== null || this.rare !== null) this.rareFields().readStatus = value;
  }

  /** @internal The active operation's error callback (kept with the rare fields: most reads have none). */
  protected get errorCallback(): AnyCallback | null {
    return this.rare === null ? null : this.rare.readErrorCallback;
  }
  protected set errorCallback(value: AnyCallback | null) {
    if (value !== null || this.rare !== null) this.rareFields().readErrorCallback = value;
  }

  private get readBuffer(): ReadBufferTarget | null {
    return this.rare === null ? null : this.rare.readBuffer;
  }

  private get timer(): OpTimer<ReadSide> | null {
    return this.rare === null ? null : (this.rare.readTimer as OpTimer<ReadSide> | null);
  }

  /** Copies buffered bytes into `target[start, end)`; for asyncIoStateGetBufferedData. */
  getBufferedData(target: Uint8Array | Int8Array, start: number, end: number): number {
    return this.copyOut(target, start, end - start);
  }

  // ----------------------------------------------------------- flow control

  /** @internal Turns reading on (a read waits for bytes). */
  flow(): void {
    if (!this.hasFlag(PAUSED) || this.hasFlag(INPUT_SHUT)) return;
    if (this.setReading(true)) this.setFlag(PAUSED, false);
  }

  /** @internal Turns reading off (hold the peer back). */
  holdBack(): void {
    if (this.hasFlag(PAUSED)) return;
    if (this.setReading(false)) this.setFlag(PAUSED, true);
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
    const rare = this.rareFields();
    const timer = (rare.readTimer ??= new OpTimer<ReadSide>(onReadTimer, this) as OpTimer<unknown>) as OpTimer<ReadSide>;
    timer.generation = this.generation;
    timer.arm(seconds);
  }

  private progress(): void {
    const timer = this.timer;
    if (timer !== null && timer.generation === this.generation) timer.refresh();
  }

  /** @internal The read timer ran out. */
  onTimer(): void {
    if (this.op === READ_NONE || this.timer?.generation !== this.generation || this.closed) return;
    this.status = 'timeout';
    this.settleOnEvent();
  }

  // ------------------------------------------------------ starting an op

  private begin(op: number, timeout: number | null): void {
    if (this.status === 'timeout') this.status = null;
    this.nextGeneration(op);
    this.armTimer(timeout);
  }

  /** @internal Ends the active operation. */
  endOp(): void {
    this.nextGeneration(READ_NONE);
    this.callback = null;
    this.forgetOpExtras();
    if (this.bufferedLength >= READ_AHEAD_BYTES) this.holdBack();
  }

  /** Drops what the ended operation kept in the rare fields (its error callback, its read-buffer target). */
  private forgetOpExtras(): void {
    const rare = this.rare;
    if (rare === null) return;
    rare.readErrorCallback = null;
    if (rare.readBuffer !== null) rare.readBuffer.target = EMPTY;
  }

  /** @internal True while read-with-checking of `generation` is the active operation. */
  isCheckingCurrent(generation: number): boolean {
    return this.op === READ_CHECKING && this.generation === generation;
  }

  /** Starts asyncIoStateReadBuffer (arguments already checked). */
  startReadBuffer(target: Uint8Array | Int8Array, start: number, end: number, callback: AnyCallback, errorCallback: AnyCallback | null): void {
    this.begin(READ_BUFFER, this.readTimeout);
    const rb = (this.rareFields().readBuffer ??= { target: EMPTY, start: 0, end: 0, pos: 0 });
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
    this.begin(READ_CHECKING, this.readTimeout);
    this.startChecking(callback, errorCallback, elementType);
  }

  /** Starts asyncIoStateWaitForInput (arguments already checked). */
  startWaitForInput(callback: AnyCallback): void {
    this.begin(READ_WAIT, this.readTimeout);
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
    if (this.closed || this.hasFlag(INPUT_SHUT)) return;
    switch (this.op) {
      case READ_BUFFER: {
        const rb = this.readBuffer as ReadBufferTarget;
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
        if (this.bufferedLength >= Math.min(READ_AHEAD_BYTES, this.maxBufferedInput)) this.holdBack();
    }
  }

  /** @internal The peer's FIN (or the connection closed). */
  onEnd(): void {
    if (this.hasFlag(ENDED)) return;
    this.setFlag(ENDED, true);
    if (this.closed) return;
    if (log.enabled) log('%s: end of input, %d bytes buffered', this, this.bufferedLength);
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
    if (this.closed || this.op === READ_NONE) return;
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
    const rb = this.readBuffer as ReadBufferTarget;
    const target = rb.target;
    const count = rb.pos - rb.start;
    const callback = (this.status instanceof Error && this.errorCallback !== null ? this.errorCallback : this.callback) as AnyCallback;
    this.endOp();
    this.deliver(fromEvent, callback, target, count);
  }

  private completeWait(fromEvent: boolean): void {
    const callback = this.callback as AnyCallback;
    this.endOp();
    this.deliver(fromEvent, callback);
  }

  // ----------------------------------------------------------------- abort

  /**
   * Aborts the active read operation: no further callback of it runs, and
   * `abortCallback` (null: nothing) is queued with the arguments its
   * callback would have had, `(state, null, null)` when nothing was active.
   */
  abort(abortCallback: AnyCallback | null): void {
    switch (this.op) {
      case READ_BUFFER: {
        const rb = this.readBuffer as ReadBufferTarget;
        const target = rb.target;
        const count = rb.pos - rb.start;
        this.endOp();
        if (abortCallback !== null) this.deliver(false, abortCallback, target, count);
        return;
      }
      case READ_CHECKING:
        this.endOp();
        this.checkingAborted(abortCallback);
        return;
      case READ_WAIT:
        this.endOp();
        if (abortCallback !== null) this.deliver(false, abortCallback);
        return;
      default:
        if (abortCallback !== null) this.deliver(false, abortCallback, null, null);
    }
  }

  /** Input shut down: no more bytes are read; reads see EOF once the buffer is empty. */
  shutdownInput(): void {
    this.setFlag(ENDED, true);
    this.holdBack();
    this.setFlag(INPUT_SHUT, true);
    if (this.op !== READ_NONE && this.reachedEndOfInput()) this.settleOnEvent();
  }

  /** @internal The state closed: forget the operation, stop the timer (buffered bytes stay readable). */
  readClosed(): void {
    this.nextGeneration(READ_NONE);
    this.callback = null;
    this.forgetOpExtras();
    this.timer?.clear();
  }
}
