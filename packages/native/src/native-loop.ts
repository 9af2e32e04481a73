/**
 * The JavaScript side of the addon: one `NativeLoop` per process routes each
 * batch's records to the sink registered for each id, and gathers the writes
 * made while a batch (or any synchronous job) runs into one `flush` crossing
 * at its end.
 */
import type { NativeBinding, NativeShared, NativeAddress } from './binding-types.js';
import { NativeEvent, NativeFlag } from './binding-types.js';
import { errnoError } from './errno-error.js';

/** What a connection's owner is told. Calls arrive in the order the kernel reported them. */
export interface NativeSocketSink {
  /** New bytes: a Buffer view of this batch's own ArrayBuffer, which nothing writes again. */
  onData(bytes: Buffer): void;
  /** The peer ended its output; no more data follows. */
  onEnd(): void;
  /** The connection failed (a read, or sending queued output: those writes are dropped); close it. */
  onError(error: NodeJS.ErrnoException): void;
  /** The `count` oldest outstanding writes were handed to the kernel (`error` null), or were refused. */
  onWritten(count: number, error: NodeJS.ErrnoException | null): void;
  /** A connect finished (only for `connect`). */
  onConnect(): void;
  /** A shutdown that `shutdown` deferred behind queued writes was done (null), or failed. */
  onOutputShut(error: NodeJS.ErrnoException | null): void;
}

/** What a listener's owner is told. */
export interface NativeListenerSink {
  /** A connection was accepted with the listener's options; `attach` a sink to `id` now, or close it. */
  onAccept(id: number): void;
  /** Accepting failed (EMFILE under descriptor pressure, ...) and is paused until `setReading(id, true)`. */
  onAcceptError(error: NodeJS.ErrnoException): void;
}

/** Options of a listener (applied to its accepted connections) or of a connect. */
export interface NativeSocketOptions {
  /** TCP_NODELAY. */
  readonly noDelay?: boolean;
  /** SO_KEEPALIVE. */
  readonly keepAlive?: boolean;
  /** Seconds before the first keep-alive probe; 0: the system's. */
  readonly keepAliveDelay?: number;
  /** Read from the start (default true). */
  readonly startReading?: boolean;
  /** Keep Node's loop alive (default true). */
  readonly ref?: boolean;
  /** IPV6_V6ONLY on an IPv6 listener: IPv6 only, no IPv4-mapped connections. */
  readonly ipv6Only?: boolean;
  /** Listen backlog (default 511). */
  readonly backlog?: number;
  /** SO_REUSEPORT on a listener: sockets of several processes (or of one) share the port, the kernel spreads the connections. */
  readonly reusePort?: boolean;
}

function flagsOf(options: NativeSocketOptions): number {
  return (
    (options.noDelay === true ? NativeFlag.noDelay : 0) |
    (options.keepAlive === true ? NativeFlag.keepAlive : 0) |
    (options.startReading === false ? 0 : NativeFlag.startReading) |
    (options.ref === false ? NativeFlag.unref : 0) |
    (options.ipv6Only === true ? NativeFlag.ipv6Only : 0) |
    (options.reusePort === true ? NativeFlag.reusePort : 0)
  );
}

function asError(thrown: unknown): Error {
  return thrown instanceof Error ? thrown : new Error(String(thrown));
}

function check(result: number, syscall: string): number {
  if (result < 0) throw errnoError(-result, syscall);
  return result;
}

/** Routes the addon's batches to sinks and batches writes into one flush per job. */
export class NativeLoop {
  private readonly shared: NativeShared;
  private readonly sockets: (NativeSocketSink | undefined)[] = [];
  private readonly listeners: (NativeListenerSink | undefined)[] = [];
  private pendingIds: number[] = [];
  private pendingBuffers: Uint8Array[] = [];
  private dispatching = false;
  private flushScheduled = false;

  /** Starts the addon's poll set; one `NativeLoop` per process (see `nativeLoop()`). */
  constructor(private readonly binding: NativeBinding) {
    this.shared = binding.init((count, data) => {
      this.dispatch(count, data);
    });
  }

  /** A listener on a numeric address; throws a Node-style error (EADDRINUSE, ...) when it cannot. */
  listen(host: string, port: number, options: NativeSocketOptions, sink: NativeListenerSink): number {
    const id = check(this.binding.listen(host, port, options.backlog ?? 0, flagsOf(options), options.keepAliveDelay ?? 0), 'listen');
    this.listeners[id] = sink;
    return id;
  }

  /** Takes over a listening descriptor (socket activation, a Node server's handle). */
  adoptListener(fd: number, options: NativeSocketOptions, sink: NativeListenerSink): number {
    const id = check(this.binding.adoptListener(fd, flagsOf(options), options.keepAliveDelay ?? 0), 'listen');
    this.listeners[id] = sink;
    return id;
  }

  /** Takes over a connected descriptor. */
  adoptConnection(fd: number, options: NativeSocketOptions, sink: NativeSocketSink): number {
    const id = check(this.binding.adoptConnection(fd, flagsOf(options), options.keepAliveDelay ?? 0), 'open');
    this.sockets[id] = sink;
    return id;
  }

  /** Starts connecting to a numeric address; `sink.onConnect` or `sink.onError` follows. */
  connect(host: string, port: number, options: NativeSocketOptions & { localAddress?: string; localPort?: number }, sink: NativeSocketSink): number {
    const flags = flagsOf(options);
    const id = check(
      this.binding.connect(host, port, options.localAddress ?? null, options.localPort ?? 0, flags, options.keepAliveDelay ?? 0),
      'connect',
    );
    this.sockets[id] = sink;
    return id;
  }

  /** Gives an accepted connection its sink (from `onAccept`). */
  attach(id: number, sink: NativeSocketSink): void {
    this.sockets[id] = sink;
  }

  /** Queues a write; it is handed to the kernel at the end of this batch or job. `bytes` may be reused after `onWritten`. */
  write(id: number, bytes: Uint8Array): void {
    this.pendingIds.push(id);
    this.pendingBuffers.push(bytes);
    if (this.pendingIds.length >= this.shared.capacity.writes) this.flush();
    else if (!this.dispatching && !this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => {
        this.flushScheduled = false;
        this.flush();
      });
    }
  }

  /** True while a batch is being dispatched: writes made now are flushed when it ends, in one call. */
  get inBatch(): boolean {
    return this.dispatching;
  }

  /** Hands every queued write to the addon in one call and reports the ones already done. */
  flush(): void {
    const count = this.pendingIds.length;
    if (count === 0) return;
    const ids = this.pendingIds;
    const buffers = this.pendingBuffers;
    this.pendingIds = [];
    this.pendingBuffers = [];
    this.shared.writeIds.set(ids);
    this.binding.flush(count, buffers);
    // Copied before any sink runs: a sink's own flush would reuse the shared array.
    const results = this.shared.writeResults.slice(0, count);
    let failure: Error | undefined = undefined;
    for (let i = 0; i < count; i++) {
      const id = ids[i] ?? 0;
      const result = results[i] ?? 0;
      const sink = this.sockets[id];
      if (sink === undefined || result === 0) continue;
      try {
        sink.onWritten(1, result > 0 ? null : errnoError(-result, 'write'));
      } catch (error) {
        failure ??= asError(error);
      }
    }
    if (failure !== undefined) throw failure;
  }

  /** Reading (accepting, for a listener) on or off. */
  setReading(id: number, on: boolean): void {
    this.binding.setReading(id, on);
  }

  /** Whether the socket keeps Node's loop alive. */
  setRef(id: number, on: boolean): void {
    this.binding.setRef(id, on);
  }

  /** TCP_NODELAY on or off; throws a Node-style error when the socket refuses. */
  setNoDelay(id: number, on: boolean): void {
    check(this.binding.setNoDelay(id, on), 'setsockopt');
  }

  /** `delay` in seconds. */
  setKeepAlive(id: number, on: boolean, delay: number): void {
    check(this.binding.setKeepAlive(id, on, delay), 'setsockopt');
  }

  /** Ends the output once every write made so far is sent: true when done now, false when `onOutputShut` follows. */
  shutdown(id: number): boolean {
    this.flush();
    return check(this.binding.shutdown(id), 'shutdown') === 0;
  }

  /** Closes a connection or listener now: writes made so far are handed over first unless `abort` (RST). */
  close(id: number, abort = false): void {
    if (!abort) this.flush();
    this.sockets[id] = undefined;
    this.listeners[id] = undefined;
    this.binding.close(id, abort);
  }

  /**
   * Forgets a connection and returns its descriptor, still open (for `new
   * net.Socket({ fd })`), with the bytes written to it and not yet sent: the
   * new owner writes them first.
   */
  release(id: number): {
    /** The descriptor, still open, owned by the caller from now on. */
    fd: number;
    /** Bytes written and not yet sent, to be written first by the new owner. */
    unsent: Buffer;
  } {
    this.flush();
    const unsent = this.binding.takeQueued(id);
    if (typeof unsent === 'number') throw errnoError(-unsent, 'release');
    const fd = check(this.binding.release(id), 'release');
    this.sockets[id] = undefined;
    return { fd, unsent };
  }

  /** The local or the peer address, or `null` when the socket has none (not connected, reset). */
  address(id: number, peer: boolean): NativeAddress | null {
    const result = this.binding.address(id, peer);
    return typeof result === 'number' ? null : result;
  }

  /**
   * Writes now, after everything queued before, without calling the sink
   * for this write: 1 handed to the kernel, 0 queued (`onWritten` follows),
   * or -errno (the write was refused). Earlier queued writes may be reported
   * to their sinks during the call.
   */
  writeNow(id: number, bytes: Uint8Array): number {
    this.flush();
    this.shared.writeIds[0] = id;
    this.binding.flush(1, [bytes]);
    return this.shared.writeResults[0] ?? -1;
  }

  /** Bytes of writes not yet handed to the kernel (JavaScript's queue and the addon's). */
  queuedBytes(id: number): number {
    let bytes = Math.max(0, this.binding.queuedBytes(id));
    this.pendingIds.forEach((pendingId, i) => {
      if (pendingId === id) bytes += this.pendingBuffers[i]?.length ?? 0;
    });
    return bytes;
  }

  /** The sink registered for `id`, or undefined once it is closed or released. */
  owner(id: number): NativeSocketSink | NativeListenerSink | undefined {
    return this.sockets[id] ?? this.listeners[id];
  }

  /** Open listeners and connections, and how many keep the loop alive. */
  stats(): {
    /** Listeners and connections open. */
    open: number;
    /** How many of them keep Node's loop alive. */
    refs: number;
  } {
    return this.binding.stats();
  }

  private dispatch(count: number, data: Uint8Array | undefined): void {
    const events = this.shared.events;
    const buffer = data?.buffer ?? new ArrayBuffer(0);
    let offset = data?.byteOffset ?? 0;
    let failure: Error | undefined = undefined;
    this.dispatching = true;
    for (let i = 0; i < 3 * count; i += 3) {
      const id = events[i] ?? 0;
      const kind = events[i + 1] ?? 0;
      const value = events[i + 2] ?? 0;
      try {
        if (kind === NativeEvent.data) {
          // A Buffer at once: owners need one, and a second view per read would cost an allocation.
          const bytes = Buffer.from(buffer, offset, value);
          offset += value;
          this.sockets[id]?.onData(bytes);
        } else if (kind === NativeEvent.accept) {
          const sink = this.listeners[id];
          if (sink === undefined) this.binding.close(value, false);
          else sink.onAccept(value);
        } else {
          this.route(id, kind, value);
        }
      } catch (error) {
        // One owner's bug does not starve the others: the batch finishes, then the error surfaces.
        failure ??= asError(error);
      }
    }
    this.dispatching = false;
    try {
      this.flush();
    } catch (error) {
      failure ??= asError(error);
    }
    if (failure !== undefined) throw failure;
  }

  private route(id: number, kind: number, value: number): void {
    if (kind === NativeEvent.acceptError) {
      this.listeners[id]?.onAcceptError(errnoError(value, 'accept'));
      return;
    }
    const sink = this.sockets[id];
    if (sink === undefined) return;
    switch (kind) {
      case NativeEvent.end:
        sink.onEnd();
        break;
      case NativeEvent.error:
        sink.onError(errnoError(value, 'read'));
        break;
      case NativeEvent.connected:
        sink.onConnect();
        break;
      case NativeEvent.connectFailed:
        sink.onError(errnoError(value, 'connect'));
        break;
      case NativeEvent.drained:
        sink.onWritten(value, null);
        break;
      case NativeEvent.outputShut:
        sink.onOutputShut(value === 0 ? null : errnoError(value, 'shutdown'));
        break;
    }
  }
}
