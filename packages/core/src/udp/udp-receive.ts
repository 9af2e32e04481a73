/**
 * The read direction of a UDP state: the receive (or wait-for-input) that
 * may be active, its timer, the queue of datagrams that came while none was,
 * and the read status (the state's `readStatus`).
 *
 * A datagram that arrives while a receive is active completes it at once;
 * otherwise it waits in the bounded queue (see MessageQueue) for the next
 * receive. A socket error takes a datagram's place in that order: it ends
 * the receive it reaches with the error as status. Statuses are per datagram
 * (a new receive starts clean), except when the socket closed under the
 * state (`dead`): that is sticky.
 */
import type { AsyncIoState } from '../state/async-io-state.js';
import type { StateCallback } from '../state/callbacks.js';
import { OpTimer } from '../state/op-timer.js';
import type { IoStatus } from '../state/status.js';
import { logger } from '../debug.js';
import { MessageQueue, type SenderInfo } from './message-queue.js';

const log = logger('udp');

/** `(state, buffer, count, address?, port?)`: a receive's callback; `address`/`port` (the sender) only with `needsAddress` and a datagram. */
export type ReceiveCallback<B = Uint8Array> = (state: AsyncIoState, buffer: B, count: number, address?: string, port?: number) => void;

type AnyReceiveCallback = ReceiveCallback<Uint8Array | Int8Array>;

/** The sender Node.js made for one datagram and gave only to us, carrying what its delivery needs (no object of its own). */
type AddressedDelivery = SenderInfo & { target?: Uint8Array | Int8Array | undefined };

/** Calls a receive's callback with the sender's address (bracketed by `deliver`); `sender.size` is the count delivered. */
function callWithAddress(state: AsyncIoState, callback: AnyReceiveCallback, sender: AddressedDelivery): void {
  const target = sender.target as Uint8Array | Int8Array;
  sender.target = undefined;
  callback(state, target, sender.size, sender.address, sender.port);
}

/** Copies as much of `message` as fits into `target[start, end)`; the rest of the datagram is dropped. */
function copyDatagram(message: Buffer, target: Uint8Array | Int8Array, start: number, end: number): number {
  const count = Math.min(message.length, end - start);
  if (count === 0) return 0;
  const bytes = target instanceof Uint8Array ? target : new Uint8Array(target.buffer, target.byteOffset, target.byteLength);
  message.copy(bytes, start, 0, count);
  return count;
}

function onReceiveTimer(receive: UdpReceive): void {
  receive.timedOut();
}

const EMPTY = Buffer.alloc(0);
const NONE = 0;
const RECEIVE = 1;
const WAIT = 2;

/** The receiving half of one UDP state. */
export class UdpReceive {
  /** The read status (see the module comment). */
  status: IoStatus = null;
  /** Set once the socket closed under the state (sticky). */
  dead: Error | null = null;
  /** Input was shut down: receives see 'eof'. */
  inputShut = false;
  readonly #state: AsyncIoState;
  readonly #queue = new MessageQueue();
  #mode = NONE;
  #target: Uint8Array | Int8Array = EMPTY;
  #start = 0;
  #end = 0;
  #callback: AnyReceiveCallback | StateCallback | null = null;
  #errorCallback: AnyReceiveCallback | null = null;
  #needsAddress = false;
  #timer: OpTimer<UdpReceive> | null = null;
  /** Bumped whenever an operation starts or ends: a stale timer compares it. */
  #generation = 0;

  constructor(state: AsyncIoState) {
    this.#state = state;
  }

  /** A receive or wait-for-input is active. */
  get busy(): boolean {
    return this.#mode !== NONE;
  }

  /** Datagrams (and errors) waiting for a receive. */
  get queuedCount(): number {
    return this.#queue.size;
  }

  /** Datagrams dropped because the queue was full. */
  get droppedCount(): number {
    return this.#queue.dropped;
  }

  // ----------------------------------------------------------- starting

  /** Starts asyncIoStateReceiveMessage (arguments checked, read direction free, settings applied). */
  start(
    target: Uint8Array | Int8Array,
    start: number,
    end: number,
    callback: AnyReceiveCallback,
    errorCallback: AnyReceiveCallback | null,
    needsAddress: boolean,
  ): void {
    const state = this.#state;
    this.#resetStatus();
    const payload = this.#queue.peekPayload();
    if (payload !== undefined) {
      const sender = this.#queue.peekSender() as SenderInfo | null;
      this.#queue.shift();
      if (payload instanceof Error) {
        this.status = payload;
        state.deliver(false, errorCallback ?? callback, target, 0);
      } else {
        this.#deliverDatagram(false, callback, target, copyDatagram(payload, target, start, end), needsAddress ? sender : null);
      }
      return;
    }
    if (this.#settleAtOnce()) {
      state.deliver(false, this.status instanceof Error ? (errorCallback ?? callback) : callback, target, 0);
      return;
    }
    this.#target = target;
    this.#start = start;
    this.#end = end;
    this.#errorCallback = errorCallback;
    this.#needsAddress = needsAddress;
    this.#begin(RECEIVE, callback);
  }

  /** Starts asyncIoStateWaitForInput (arguments checked, read direction free, settings applied). */
  waitForInput(callback: StateCallback): void {
    this.#resetStatus();
    if (this.#queue.size > 0 || this.#settleAtOnce()) {
      this.#state.deliver(false, callback);
      return;
    }
    this.#begin(WAIT, callback);
  }

  #begin(mode: number, callback: AnyReceiveCallback | StateCallback): void {
    this.#mode = mode;
    this.#callback = callback;
    this.#generation++;
    const seconds = this.#state.readTimeout;
    if (seconds === null || seconds <= 0) return;
    const timer = (this.#timer ??= new OpTimer<UdpReceive>(onReceiveTimer, this));
    timer.generation = this.#generation;
    timer.arm(seconds);
  }

  /** Statuses are per datagram: a new operation starts clean, unless the socket is gone. */
  #resetStatus(): void {
    if (this.status !== null && this.status !== this.dead) this.status = null;
  }

  /** With nothing queued: true (status set) when the socket is gone or input was shut down. */
  #settleAtOnce(): boolean {
    if (this.dead !== null) {
      this.status = this.dead;
      return true;
    }
    if (this.inputShut) {
      this.status = 'eof';
      return true;
    }
    return false;
  }

  // ------------------------------------------------------------- events

  /** A datagram from the peer arrived. */
  onMessage(message: Buffer, sender: SenderInfo): void {
    if (this.inputShut) return;
    if (this.#mode === RECEIVE) {
      const target = this.#target;
      const callback = this.#callback as AnyReceiveCallback;
      const count = copyDatagram(message, target, this.#start, this.#end);
      const needsAddress = this.#needsAddress;
      this.#finishOperation();
      this.status = null;
      this.#deliverDatagram(true, callback, target, count, needsAddress ? sender : null);
      return;
    }
    this.#enqueue(message, sender);
    if (this.#mode === WAIT) this.#settle();
  }

  /** The socket reported an error (from the kernel, for one datagram). */
  onError(error: Error): void {
    if (this.#mode === RECEIVE) {
      this.status = error;
      this.#settle();
      return;
    }
    this.#enqueue(error, null);
    if (this.#mode === WAIT) this.#settle();
  }

  /** The socket closed under the state: sticky from now on. */
  socketClosed(error: Error): void {
    this.dead = error;
    if (this.#mode !== NONE) {
      this.status = error;
      this.#settle();
    } else if (this.#queue.size === 0) {
      this.status = error;
    }
  }

  /** The timer ran out: the active operation ends with 'timeout'. */
  timedOut(): void {
    if (this.#mode === NONE || this.#timer?.generation !== this.#generation || this.#state.closed) return;
    this.status = 'timeout';
    this.#settle();
  }

  #enqueue(payload: Buffer | Error, sender: SenderInfo | null): void {
    const state = this.#state;
    const dropped = this.#queue.push(payload, sender, state.maxQueuedMessages, state.maxBufferedInput);
    if (dropped > 0) log('%s: receive queue full, dropped %d (%d in all)', state, dropped, this.#queue.dropped);
  }

  // --------------------------------------------------------- completing

  #deliverDatagram(fromEvent: boolean, callback: AnyReceiveCallback, target: Uint8Array | Int8Array, count: number, sender: SenderInfo | null): void {
    const state = this.#state;
    if (sender === null) {
      state.deliver(fromEvent, callback, target, count);
      return;
    }
    const delivery = sender as AddressedDelivery;
    delivery.size = count;
    delivery.target = target;
    state.deliver(fromEvent, callWithAddress, callback, delivery);
  }

  /** Ends the active operation with the status already set (timeout, error, datagram for a wait). */
  #settle(): void {
    const mode = this.#mode;
    if (mode === NONE) return;
    const target = this.#target;
    const callback = this.status instanceof Error && this.#errorCallback !== null ? this.#errorCallback : this.#callback;
    this.#finishOperation();
    if (mode === WAIT) this.#state.deliver(true, callback as StateCallback);
    else this.#state.deliver(true, callback as AnyReceiveCallback, target, 0);
  }

  /** Forgets the active operation (its timer, if armed, is now stale). */
  #finishOperation(): void {
    this.#mode = NONE;
    this.#generation++;
    this.#target = EMPTY;
    this.#callback = null;
    this.#errorCallback = null;
  }

  /**
   * Aborts the active operation: its callback never runs; `abortCallback`
   * (null: nothing) is queued with the arguments it would have had,
   * `(state, null, null)` when nothing was active.
   */
  abort(abortCallback: ((...args: never[]) => void) | null): void {
    const mode = this.#mode;
    const target = this.#target;
    this.#finishOperation();
    if (abortCallback === null) return;
    if (mode === WAIT) this.#state.deliver(false, abortCallback);
    else if (mode === RECEIVE) this.#state.deliver(false, abortCallback, target, 0);
    else this.#state.deliver(false, abortCallback, null, null);
  }

  /** The state closed: forget everything. */
  closed(): void {
    this.#finishOperation();
    this.#timer?.clear();
    this.#queue.clear();
  }
}
