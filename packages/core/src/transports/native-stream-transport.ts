/**
 * `NativeStreamTransport`: the native addon (@commio/native) as a driver of
 * the stream transport seam (stream-transport.ts). The handle of a
 * connection is its native id (a number), so a connection costs the state's
 * sink and a few array slots here, no object of its own.
 *
 * The seam's rules and how they are kept:
 * - never re-entrant: reports that arise inside a driver method (a flush
 *   completing writes, a refused write, a shutdown done at once) are queued
 *   and delivered from one microtask, in order;
 * - owned chunks: `received` gets a Buffer view of the batch's own
 *   ArrayBuffer, which nothing writes again;
 * - order: the addon completes writes oldest first;
 * - once, and nothing after detach/release/destroy: reports carry the
 *   handle's attach generation and are dropped when it changed; except
 *   `written` for writes made before a detach, which still reaches the sink
 *   that made them, in order;
 * - `disconnected` follows `failed`, and follows `ended` once the output is
 *   shut too (where Node would destroy the socket and emit 'close').
 */
import net from 'node:net';
import { getSystemErrorName } from 'node:util';
// Types only: core loads @commio/native at run time only when it is asked for (native-driver.ts).
import type { NativeAddress, NativeLoop, NativeSocketSink } from '@commio/native';
import { AttachSink, type AttachTarget } from './native-attach-sink.js';
import { WRITE_DONE, WRITE_PENDING, type SocketAddress, type StreamSink, type StreamTransport, type WriteOutcome } from './stream-transport.js';

/** A refused write's error, shaped like Node's own (`code` such as `EPIPE`, `errno` negative). */
function writeError(errno: number): NodeJS.ErrnoException {
  let code: string;
  try {
    code = getSystemErrorName(errno);
  } catch {
    code = `E${-errno}`;
  }
  return Object.assign(new Error(`write ${code}`), { code, errno, syscall: 'write' });
}

function socketAddress(address: NativeAddress | null): SocketAddress | null {
  if (address === null) return null;
  return { address: address.address, port: address.port, family: address.family === 6 ? 'IPv6' : 'IPv4' };
}

/** Drives native connections (handles are native ids) for core's stream states. */
export class NativeStreamTransport implements AttachTarget, StreamTransport<number> {
  readonly kind = 'native';
  private readonly sinks: (StreamSink | undefined)[] = [];
  private readonly generation: number[] = [];
  /** Reading as the state wants it, and as the addon does it (turned off lazily, when bytes arrive unwanted). */
  private readonly wantReading: boolean[] = [];
  private readonly nativeReading: (boolean | undefined)[] = [];
  private readonly open: boolean[] = [];
  private readonly inputShut: boolean[] = [];
  private readonly outputShutReport: boolean[] = [];
  /** Progress towards `disconnected` after a clean end: bit 1 ended, bit 2 output shut. */
  private readonly finished: number[] = [];
  /** Bytes that arrived while detached: reported on the next attach. */
  private readonly heldBack: (Buffer[] | undefined)[] = [];
  /**
   * Writes handed to the addon whose `onWritten` has not come yet. A failed
   * connection drops the ones it still queued without reporting them; the
   * driver then fails them itself, as Node fails the callbacks of a destroyed
   * socket's writes.
   */
  private readonly unreported: number[] = [];
  /** Connects under way: told the outcome before the state's sink hears of a failure. */
  private readonly connectWaiters: (((error: Error | null) => void) | undefined)[] = [];
  private depth = 0;
  private deferred: (() => void)[] = [];
  private scheduled = false;

  /** `startsReading`: whether the handles given to `attach` were opened reading (the listener's `startReading`). */
  constructor(private readonly loop: NativeLoop, private readonly startsReading = true) {}

  attach(handle: number, sink: StreamSink): void {
    const generation = (this.generation[handle] ?? 0) + 1;
    this.generation[handle] = generation;
    this.sinks[handle] = sink;
    this.open[handle] = true;
    this.finished[handle] = 0;
    this.wantReading[handle] = false;
    this.nativeReading[handle] ??= this.startsReading;
    this.loop.attach(handle, this.nativeSink(handle, generation));
    const held = this.heldBack[handle];
    if (held !== undefined) {
      this.heldBack[handle] = undefined;
      for (const chunk of held) this.later(handle, generation, (s) => s.received(chunk));
      this.scheduleDeferred();
    }
  }

  detach(handle: number): void {
    const sink = this.sinks[handle];
    this.generation[handle] = (this.generation[handle] ?? 0) + 1;
    this.sinks[handle] = undefined;
    this.setNativeReading(handle, false);
    const held: Buffer[] = [];
    this.heldBack[handle] = held;
    this.loop.attach(handle, {
      onData: (bytes) => held.push(bytes),
      onEnd: () => {},
      // Writes made before the detach still complete the state's writes, in order.
      onError: (error) => {
        const dropped = this.takeDropped(handle);
        if (sink === undefined || dropped === 0) return;
        this.deferred.push(() => {
          for (let i = 0; i < dropped; i++) sink.written(error);
        });
        this.scheduleDeferred();
      },
      onWritten: (count, error) => {
        this.unreported[handle] = (this.unreported[handle] ?? 0) - count;
        if (sink === undefined) return;
        this.deferred.push(() => {
          for (let i = 0; i < count; i++) sink.written(error);
        });
        this.scheduleDeferred();
      },
      onConnect: () => {},
      onOutputShut: () => {},
    });
  }

  /** A connect of `handle` is under way: `done` gets its outcome once (null: connected), before the state's sink is told of a failure. */
  awaitConnect(handle: number, done: (error: Error | null) => void): void {
    this.connectWaiters[handle] = done;
  }

  private connectOver(handle: number, error: Error | null): void {
    const waiter = this.connectWaiters[handle];
    if (waiter === undefined) return;
    this.connectWaiters[handle] = undefined;
    waiter(error);
  }

  setReading(handle: number, on: boolean): void {
    this.wantReading[handle] = on;
    // Off at once: the state turns reading off only at its read-ahead bound, which must hold to one read.
    if (!on || this.inputShut[handle] !== true) this.setNativeReading(handle, on);
  }

  write(handle: number, chunk: Uint8Array, inPass: boolean): WriteOutcome {
    if (inPass) {
      this.unreported[handle] = (this.unreported[handle] ?? 0) + 1;
      this.loop.write(handle, chunk);
      return WRITE_PENDING;
    }
    const result = this.inside(() => this.loop.writeNow(handle, chunk));
    if (result > 0) return WRITE_DONE;
    if (result === 0) this.unreported[handle] = (this.unreported[handle] ?? 0) + 1;
    if (result < 0) {
      const generation = this.generation[handle] ?? 0;
      const error = writeError(result);
      this.later(handle, generation, (s) => s.written(error));
      this.scheduleDeferred();
    }
    return WRITE_PENDING;
  }

  flushAfterPass(_handle: number): void {
    // Inside a batch of the addon, its end flushes every handle's writes in one crossing (and reports
    // the completed ones from there, not from inside this method). Elsewhere the first call of a pass
    // flushes them all; later ones find nothing.
    if (this.loop.inBatch) return;
    this.inside(() => this.loop.flush());
  }

  pendingOutput(handle: number): number | null {
    return this.loop.queuedBytes(handle);
  }

  isOpen(handle: number): boolean {
    return this.open[handle] === true;
  }

  shutdownOutput(handle: number, report: boolean): void {
    const generation = this.generation[handle] ?? 0;
    this.outputShutReport[handle] = report;
    let done: boolean;
    try {
      done = this.inside(() => this.loop.shutdown(handle));
    } catch (error) {
      this.outputShutReport[handle] = false;
      const code = (error as NodeJS.ErrnoException).code ?? 'ERR_SHUTDOWN';
      if (report) this.later(handle, generation, (s) => s.outputShut(code));
      this.scheduleDeferred();
      return;
    }
    if (!done) return;
    this.outputShutReport[handle] = false;
    if (report) this.later(handle, generation, (s) => s.outputShut(true));
    this.scheduleDeferred();
    this.finish(handle, 2, (call) => {
      this.later(handle, generation, call);
    });
  }

  /** Both directions ended cleanly: the connection is over, as when Node destroys the socket. */
  private finish(handle: number, step: number, report: (call: (sink: StreamSink) => void) => void): void {
    const finished = (this.finished[handle] ?? 0) | step;
    this.finished[handle] = finished;
    if (finished !== 3) return;
    this.open[handle] = false;
    report((s) => s.disconnected());
  }

  shutdownInput(handle: number): void {
    this.inputShut[handle] = true;
    this.wantReading[handle] = false;
    this.setNativeReading(handle, false);
  }

  destroy(handle: number): void {
    const connecting = this.connectWaiters[handle];
    this.forget(handle);
    this.inside(() => {
      this.loop.close(handle);
    });
    // A connect closed before its outcome is over too (its waiter stops its timer, as on Node's 'close').
    connecting?.(new Error('closed while connecting'));
  }

  release(handle: number): net.Socket {
    const { fd, unsent } = this.inside(() => this.loop.release(handle));
    const connecting = this.connectWaiters[handle];
    this.forget(handle);
    connecting?.(new Error('released while connecting'));
    const socket = new net.Socket({ fd, readable: true, writable: true });
    socket.pause();
    // Errors on a handed-back socket reach no one and must not crash the process.
    socket.on('error', () => {});
    if (unsent.length > 0) socket.write(unsent);
    return socket;
  }

  localAddress(handle: number): SocketAddress | null {
    return socketAddress(this.loop.address(handle, false));
  }

  peerAddress(handle: number): SocketAddress | null {
    return socketAddress(this.loop.address(handle, true));
  }

  setNoDelay(handle: number, on: boolean): void {
    this.loop.setNoDelay(handle, on);
  }

  setKeepAlive(handle: number, on: boolean, initialDelay: number): void {
    this.loop.setKeepAlive(handle, on, initialDelay);
  }

  private forget(handle: number): void {
    this.generation[handle] = (this.generation[handle] ?? 0) + 1;
    this.sinks[handle] = undefined;
    this.open[handle] = false;
    this.inputShut[handle] = false;
    this.heldBack[handle] = undefined;
    this.nativeReading[handle] = undefined;
    this.connectWaiters[handle] = undefined;
    this.unreported[handle] = 0;
  }

  /** The connection failed: how many of its writes the addon dropped unreported (writes not yet handed over are flushed first, and fail there). */
  private takeDropped(handle: number): number {
    this.loop.flush();
    const dropped = Math.max(0, this.unreported[handle] ?? 0);
    this.unreported[handle] = 0;
    return dropped;
  }

  private setNativeReading(handle: number, on: boolean): void {
    if (this.nativeReading[handle] === on) return;
    this.nativeReading[handle] = on;
    this.loop.setReading(handle, on);
  }

  /** The native sink of one attach: three fields, its methods shared (a connection holds no closures). */
  private nativeSink(handle: number, generation: number): NativeSocketSink {
    return new AttachSink(this, handle, generation);
  }

  /** Calls the state's sink now, or queues the call while a driver method runs or reports are queued (the order holds). */
  report(handle: number, generation: number, call: (sink: StreamSink) => void): void {
    if (this.depth > 0 || this.deferred.length > 0) {
      this.later(handle, generation, call);
      this.scheduleDeferred();
      return;
    }
    const sink = this.sinks[handle];
    if (sink !== undefined && this.generation[handle] === generation) call(sink);
  }

  /** From the addon: bytes for `handle`. */
  nativeData(handle: number, generation: number, chunk: Buffer): void {
    if (this.inputShut[handle] === true) return;
    if (this.wantReading[handle] !== true) this.setNativeReading(handle, false);
    this.report(handle, generation, (s) => s.received(chunk));
  }

  /** From the addon: the peer ended its output. */
  nativeEnd(handle: number, generation: number): void {
    this.report(handle, generation, (s) => s.ended());
    this.finish(handle, 1, (call) => this.report(handle, generation, call));
  }

  /** From the addon: the connection failed. */
  nativeError(handle: number, generation: number, error: NodeJS.ErrnoException): void {
    this.open[handle] = false;
    this.connectOver(handle, error);
    // A shutdown('output') still waiting for its FIN failed with the connection (as on Node).
    const shutWaiting = this.outputShutReport[handle] === true;
    this.outputShutReport[handle] = false;
    const dropped = this.takeDropped(handle);
    this.report(handle, generation, (s) => {
      for (let i = 0; i < dropped; i++) s.written(error);
      s.failed(error);
      if (shutWaiting) s.outputShut(error.code ?? 'EIO');
      s.disconnected();
    });
  }

  /** From the addon: `count` writes completed (or failed with `error`). */
  nativeWritten(handle: number, generation: number, count: number, error: NodeJS.ErrnoException | null): void {
    this.unreported[handle] = (this.unreported[handle] ?? 0) - count;
    this.report(handle, generation, (s) => {
      for (let i = 0; i < count; i++) s.written(error);
    });
  }

  /** From the addon: a connect finished. */
  nativeConnected(handle: number): void {
    this.connectOver(handle, null);
  }

  /** From the addon: a deferred shutdown was done (null) or failed. */
  nativeOutputShut(handle: number, generation: number, error: NodeJS.ErrnoException | null): void {
    const shutWaiting = this.outputShutReport[handle] === true;
    this.outputShutReport[handle] = false;
    if (shutWaiting) this.report(handle, generation, (s) => s.outputShut(error === null ? true : (error.code ?? 'ERR_SHUTDOWN')));
    if (error === null) this.finish(handle, 2, (call) => this.report(handle, generation, call));
  }

  private inside<T>(run: () => T): T {
    this.depth++;
    try {
      return run();
    } finally {
      this.depth--;
    }
  }

  private later(handle: number, generation: number, call: (sink: StreamSink) => void): void {
    this.deferred.push(() => {
      const sink = this.sinks[handle];
      if (sink !== undefined && this.generation[handle] === generation) call(sink);
    });
  }

  private scheduleDeferred(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      const calls = this.deferred;
      this.deferred = [];
      for (const call of calls) call();
    });
  }
}
