/**
 * The sink the native transport gives the addon for one attach of a
 * connection: three fields and shared methods (an idle connection holds no
 * closures), routing each report to the transport with the attach's
 * generation, so that reports of an earlier attach are told apart.
 */
import type { NativeSocketSink } from '@commio/native';
import type { StreamSink } from './stream-transport.js';

/** The transport's side of an attach sink (native-stream-transport.ts). */
export interface AttachTarget {
  /** Calls the state's sink now, or queues the call so that the order holds. */
  report(handle: number, generation: number, call: (sink: StreamSink) => void): void;
  /** Bytes for `handle`. */
  nativeData(handle: number, generation: number, chunk: Buffer): void;
  /** The peer ended its output. */
  nativeEnd(handle: number, generation: number): void;
  /** The connection failed. */
  nativeError(handle: number, generation: number, error: NodeJS.ErrnoException): void;
  /** `count` writes completed (or failed with `error`). */
  nativeWritten(handle: number, generation: number, count: number, error: NodeJS.ErrnoException | null): void;
  /** A connect finished. */
  nativeConnected(handle: number): void;
  /** A deferred shutdown was done (null) or failed. */
  nativeOutputShut(handle: number, generation: number, error: NodeJS.ErrnoException | null): void;
}

/** What the addon tells about one attach of a handle, routed to the transport with the attach's generation. */
export class AttachSink implements NativeSocketSink {
  constructor(
    private readonly transport: AttachTarget,
    private readonly handle: number,
    private readonly generation: number,
  ) {}

  onData(bytes: Buffer): void {
    this.transport.nativeData(this.handle, this.generation, bytes);
  }

  onEnd(): void {
    this.transport.nativeEnd(this.handle, this.generation);
  }

  onError(error: NodeJS.ErrnoException): void {
    this.transport.nativeError(this.handle, this.generation, error);
  }

  onWritten(count: number, error: NodeJS.ErrnoException | null): void {
    this.transport.nativeWritten(this.handle, this.generation, count, error);
  }

  onConnect(): void {
    this.transport.nativeConnected(this.handle);
  }

  onOutputShut(error: NodeJS.ErrnoException | null): void {
    this.transport.nativeOutputShut(this.handle, this.generation, error);
  }
}
