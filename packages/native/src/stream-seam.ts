/**
 * The shapes of core's transport seam (`packages/core/src/transports/
 * stream-transport.ts`: `StreamSink`, `StreamTransport`, `SocketAddress`,
 * the write outcomes), restated structurally so that this package does not
 * import `@commio/core` (core imports this package to offer
 * `transport: 'native'`; the other direction would be a cycle). TypeScript
 * checks the fit where core hands a `NativeStreamTransport` to its states.
 */
import type net from 'node:net';

/** A local or peer address of a state. */
export interface SeamSocketAddress {
  address: string;
  port: number;
  family: 'IPv4' | 'IPv6';
}

/** What a driver reports to one state (see core's `StreamSink`). */
export interface SeamStreamSink {
  received(chunk: Buffer): void;
  ended(): void;
  failed(error: Error): void;
  disconnected(): void;
  written(error: Error | null): void;
  outputShut(result: true | string): void;
}

/** `write` result: the kernel took every byte at once; no `written` report follows. */
export const SEAM_WRITE_DONE = 0;
/** `write` result: the bytes are held; `sink.written` reports the write later. */
export const SEAM_WRITE_PENDING = 1;
/** What a driver's `write` returns. */
export type SeamWriteOutcome = typeof SEAM_WRITE_DONE | typeof SEAM_WRITE_PENDING;

/** Core's `StreamTransport<H>`, method for method. */
export interface SeamStreamTransport<H> {
  readonly kind: string;
  attach(handle: H, sink: SeamStreamSink): void;
  detach(handle: H): void;
  setReading(handle: H, on: boolean): void;
  write(handle: H, chunk: Uint8Array, inPass: boolean): SeamWriteOutcome;
  flushAfterPass(handle: H): void;
  pendingOutput(handle: H): number | null;
  isOpen(handle: H): boolean;
  shutdownOutput(handle: H, report: boolean): void;
  shutdownInput(handle: H): void;
  destroy(handle: H): void;
  release(handle: H): net.Socket;
  localAddress(handle: H): SeamSocketAddress | null;
  peerAddress(handle: H): SeamSocketAddress | null;
  setNoDelay(handle: H, on: boolean): void;
  setKeepAlive(handle: H, on: boolean, initialDelay: number): void;
}
