/**
 * The sends of a UDP state: one datagram each, handed to the socket in the
 * order they were started, each completing with its own callback `(state)`
 * once Node.js reports it handed to the kernel.
 *
 * Order: a destination given as a host name is looked up first (in the
 * socket's family); sends started after it wait for that lookup, so
 * datagrams always leave in the order they were started. Literal addresses
 * and connected sends go to the socket at once.
 *
 * Statuses: each send's callback sees `writeStatus` set to that send's own
 * outcome (`null`, `'timeout'` or its error). A datagram socket has no
 * connection to lose, so a failed send does not fail the next one; only a
 * socket that closed under the state is sticky.
 *
 * Records are pooled with their bound callbacks, so a steady stream of
 * sends allocates nothing of commio's own.
 */
import dns from 'node:dns';
import type dgram from 'node:dgram';
import { OutputOverflowError, toError } from '../errors.js';
import { logger } from '../debug.js';
import { OpTimer } from '../state/op-timer.js';
import { runStateCallback } from '../state/state-shell.js';
import type { AsyncIoState } from '../state/async-io-state.js';
import type { StateCallback } from '../state/callbacks.js';
import type { IoStatus } from '../state/status.js';
import { inSocketFamily, literalDestination, lookupOptions, type UdpFamily } from './udp-family.js';

const log = logger('udp');

/** Most finished records kept for reuse. */
const POOL_LIMIT = 64;

/** Runs a send's `(state)` callback with `writeStatus` set to that send's outcome. */
function deliverSendResult(sender: UdpSender, callback: StateCallback, status: IoStatus): void {
  const state = sender.state;
  if (state.closed) return;
  sender.status = status;
  runStateCallback(state, callback);
}

function onSendTimer(sender: UdpSender): void {
  sender.timerFired();
}

/** One send, from its start until Node.js is done with it. */
class SendRecord {
  buffer: Uint8Array | Int8Array | null = null;
  offset = 0;
  length = 0;
  /** The destination as given (a name or literal); `null` on a connected socket. */
  host: string | null = null;
  /** The literal handed to the socket; `null` until known (or when connected). */
  address: string | null = null;
  port = 0;
  callback: StateCallback | null = null;
  errorCallback: StateCallback | null = null;
  /** Its callback already ran (timeout) or was cancelled (abort). */
  silenced = false;
  /** Handed to the socket (or failed before): no longer blocks the ones after it. */
  handed = false;
  /** Finished: Node.js will not call back for it any more. */
  done = false;
  /** A host name lookup for it is running. */
  looking = false;
  readonly onSent: (error: Error | null) => void;
  readonly onLookup: (error: Error | null, address: string, family: number) => void;

  constructor(sender: UdpSender) {
    this.onSent = (error) => sender.sent(this, error);
    this.onLookup = (error, address, family) => sender.lookedUp(this, error, address, family);
  }
}

/** What the sender needs of its transport. */
export interface SendTarget extends UdpFamily {
  readonly socket: dgram.Socket;
  readonly connected: boolean;
  /** Set once the socket closed under the state. */
  readonly dead: Error | null;
}

/** The send direction of one UDP state. */
export class UdpSender {
  /** The write direction's status (a UDP state's `writeStatus`): per datagram, sticky once the socket is gone. */
  status: IoStatus = null;
  /** Bytes of sends started and not yet finished (a UDP state's `queuedOutputLength`). */
  pendingBytes = 0;
  /** The state sending. */
  readonly state: AsyncIoState;
  readonly #state: AsyncIoState;
  readonly #target: SendTarget;
  // Outstanding sends, oldest first: a ring; [head, head + handed) went to the socket.
  #ring: (SendRecord | undefined)[] = [];
  #head = 0;
  #size = 0;
  #handed = 0;
  #free: SendRecord[] = [];
  #closed = false;
  #timer: OpTimer<UdpSender> | null = null;
  /** The send whose write-timeout window the timer measures. */
  #timed: SendRecord | null = null;

  constructor(state: AsyncIoState, target: SendTarget) {
    this.state = state;
    this.#state = state;
    this.#target = target;
  }

  /** Sends started and not yet finished. */
  get outstanding(): number {
    return this.#size;
  }

  /**
   * Starts a send of `buffer[start, end)` (arguments already checked): to
   * `host`:`port` on an unconnected socket, to the peer with `host` null.
   * Called from the user's call: every callback runs later.
   */
  send(
    buffer: Uint8Array | Int8Array,
    start: number,
    end: number,
    host: string | null,
    port: number,
    callback: StateCallback,
    errorCallback: StateCallback | null,
  ): void {
    const state = this.#state;
    const dead = this.#target.dead;
    // Statuses are per datagram: a new send starts clean (except on a dead socket).
    if (this.status !== null && this.status !== dead) this.status = null;
    if (dead !== null) {
      state.schedule(false, deliverSendResult, this, errorCallback ?? callback, dead);
      return;
    }
    const length = end - start;
    if (this.pendingBytes > 0 && this.pendingBytes + length > state.maxQueuedOutput) {
      const overflow = new OutputOverflowError(
        `${String(state)}: sending ${length} bytes would take the pending output (${this.pendingBytes} bytes) past maxQueuedOutput (${state.maxQueuedOutput})`,
      );
      state.schedule(false, deliverSendResult, this, errorCallback ?? callback, overflow);
      return;
    }
    const record = this.#free.pop() ?? new SendRecord(this);
    record.buffer = buffer;
    record.offset = start;
    record.length = length;
    record.host = host;
    record.address = host === null ? null : literalDestination(host, this.#target);
    record.port = port;
    record.callback = callback;
    record.errorCallback = errorCallback;
    record.silenced = false;
    record.handed = false;
    record.done = false;
    record.looking = false;
    this.#push(record);
    this.pendingBytes += length;
    if (this.#timed === null) this.#startWindow(record);
    this.#pump(false);
  }

  /** Hands waiting sends to the socket in order, stopping at one whose lookup runs. */
  #pump(fromEvent: boolean): void {
    const target = this.#target;
    while (this.#handed < this.#size && !this.#closed) {
      const record = this.#at(this.#handed);
      if (record.looking) break;
      if (record.silenced) {
        // Aborted or timed out before it left: it never will.
        this.#handed++;
        record.handed = true;
        this.#finish(record, null, fromEvent);
        continue;
      }
      if (record.host !== null && record.address === null) {
        record.looking = true;
        dns.lookup(record.host, lookupOptions(target), record.onLookup);
        break;
      }
      this.#handed++;
      record.handed = true;
      try {
        const data = record.buffer as Uint8Array;
        if (record.address === null) target.socket.send(data, record.offset, record.length, record.onSent);
        else target.socket.send(data, record.offset, record.length, record.port, record.address, record.onSent);
      } catch (error) {
        this.#finish(record, toError(error), fromEvent);
      }
    }
    this.#popFinished();
  }

  /** @internal A host name lookup finished. */
  lookedUp(record: SendRecord, error: Error | null, address: string, family: number): void {
    record.looking = false;
    if (this.#closed || record.done) return;
    if (error !== null) {
      log('%s: looking up %s failed: %s', this.#state, record.host, (error as NodeJS.ErrnoException).code ?? error.message);
      this.#handed++;
      record.handed = true;
      this.#finish(record, error, true);
    } else {
      record.address = inSocketFamily(address, family, this.#target);
    }
    this.#pump(true);
  }

  /** @internal Node.js finished a send. */
  sent(record: SendRecord, error: Error | null): void {
    if (this.#closed || record.done) return;
    this.#finish(record, error, true);
    this.#popFinished();
  }

  /** Marks `record` finished and runs its callback (unless silenced) with its outcome. */
  #finish(record: SendRecord, error: Error | null, fromEvent: boolean): void {
    const state = this.#state;
    record.done = true;
    this.pendingBytes -= record.length;
    if (!record.silenced) {
      record.silenced = true;
      const callback = (error !== null && record.errorCallback !== null ? record.errorCallback : record.callback) as StateCallback;
      state.schedule(fromEvent, deliverSendResult, this, callback, error);
    }
    record.buffer = null;
    record.callback = null;
    record.errorCallback = null;
    if (record === this.#timed) this.#startWindow(this.#oldestLive());
  }

  // ----------------------------------------------------------------- ring

  #push(record: SendRecord): void {
    if (this.#size === this.#ring.length) this.#grow();
    this.#ring[(this.#head + this.#size) % this.#ring.length] = record;
    this.#size++;
  }

  #at(index: number): SendRecord {
    return this.#ring[(this.#head + index) % this.#ring.length] as SendRecord;
  }

  /** Drops finished records from the front and keeps them for reuse. */
  #popFinished(): void {
    while (this.#size > 0) {
      const record = this.#ring[this.#head] as SendRecord;
      if (!record.done) return;
      this.#ring[this.#head] = undefined;
      this.#head = (this.#head + 1) % this.#ring.length;
      this.#size--;
      this.#handed--;
      if (this.#free.length < POOL_LIMIT) this.#free.push(record);
    }
    this.#head = 0;
  }

  #grow(): void {
    const old = this.#ring;
    const next: (SendRecord | undefined)[] = new Array<SendRecord | undefined>(Math.max(8, old.length * 2)).fill(undefined);
    for (let i = 0; i < this.#size; i++) next[i] = old[(this.#head + i) % old.length];
    this.#ring = next;
    this.#head = 0;
  }

  #oldestLive(): SendRecord | null {
    for (let i = 0; i < this.#size; i++) {
      const record = this.#at(i);
      if (!record.silenced) return record;
    }
    return null;
  }

  // ---------------------------------------------------------------- timer

  /** Starts the write-timeout window of `record` (the oldest live send), or stops timing. */
  #startWindow(record: SendRecord | null): void {
    this.#timed = record;
    const seconds = this.#state.writeTimeout;
    if (record === null || seconds === null || seconds <= 0) {
      this.#timed = null;
      return;
    }
    (this.#timer ??= new OpTimer<UdpSender>(onSendTimer, this)).arm(seconds);
  }

  /** @internal The write-timeout window of the oldest live send ran out. */
  timerFired(): void {
    const record = this.#timed;
    if (record === null || record.silenced || this.#closed) return;
    const state = this.#state;
    record.silenced = true;
    state.schedule(true, deliverSendResult, this, record.callback as StateCallback, 'timeout');
    this.#startWindow(this.#oldestLive());
  }

  // ---------------------------------------------------------------- ending

  /**
   * Aborts the sends not yet finished: none of their callbacks runs, sends
   * still waiting for a lookup never leave, and `abortCallback` is queued with
   * `(state)` when there were any, else `(state, null, null)`.
   */
  abort(abortCallback: ((...args: never[]) => void) | null): void {
    let live = false;
    for (let i = 0; i < this.#size; i++) {
      const record = this.#at(i);
      if (!record.silenced) {
        live = true;
        record.silenced = true;
      }
    }
    this.#timed = null;
    if (abortCallback === null) return;
    const state = this.#state;
    if (live) state.deliver(false, abortCallback);
    else state.deliver(false, abortCallback, null, null);
  }

  /** The socket closed under the state: every send not finished fails with `error`. */
  fail(error: Error): void {
    const state = this.#state;
    for (let i = 0; i < this.#size; i++) {
      const record = this.#at(i);
      if (record.done) continue;
      record.done = true;
      if (!record.silenced) {
        record.silenced = true;
        const callback = (record.errorCallback ?? record.callback) as StateCallback;
        state.schedule(true, deliverSendResult, this, callback, error);
      }
    }
    // Node.js may still call back for some: those records are never reused.
    this.#forget();
    this.pendingBytes = 0;
  }

  /** The state closed: forget every send (late calls from Node.js are ignored). */
  closed(): void {
    this.#closed = true;
    this.#forget();
    this.#timer?.clear();
  }

  #forget(): void {
    for (let i = 0; i < this.#size; i++) this.#at(i).done = true;
    this.#ring = [];
    this.#head = 0;
    this.#size = 0;
    this.#handed = 0;
    this.#timed = null;
  }
}
