/**
 * What a state's kind-specific part answers: a stream (the read side and
 * the write side over a stream transport, stream-kind.ts) or a datagram
 * socket (the UDP module's receive and send). The API functions ask the
 * state's kind, so neither kind's code tests for the other. A stream state
 * points at one shared stateless part (no object per connection); a UDP
 * state at its own UDP transport.
 */
import type { AnyCallback } from './state-shell.js';
import type { IoStatus } from './status.js';
import type { ReadSide } from './read-side.js';
import type { WriteSide } from './write-side.js';
import type { SocketAddress } from '../transports/stream-transport.js';

/** The kind-specific part of a state `S` (see the module comment). */
export interface StateKind<S> {
  /** The read direction's status (`readStatus`). */
  readStatus(state: S): IoStatus;
  /** The write direction's status (`writeStatus`). */
  writeStatus(state: S): IoStatus;
  /** Bytes of writes (or sends) not yet finished (`queuedOutputLength`). */
  queuedOutputLength(state: S): number;
  /** Datagrams waiting for a receive (0 on a stream). */
  queuedMessageCount(state: S): number;
  /** Datagrams dropped because the receive queue was full (0 on a stream). */
  droppedMessageCount(state: S): number;
  /** The local address from the transport, or `null`. */
  localAddress(state: S): SocketAddress | null;
  /** The peer's address from the transport, or `null`. */
  peerAddress(state: S): SocketAddress | null;
  /** A read-direction operation is active. */
  readBusy(state: S): boolean;
  /** The stream read side; throws `ERR_COMMIO_UNSUPPORTED` ("is a UDP state: " + `refusal`) on a datagram state. */
  streamReader(state: S, refusal: string): ReadSide;
  /** The stream write side (made on first use); throws like `streamReader` on a datagram state. */
  streamWriter(state: S, refusal: string): WriteSide;
  /** Starts wait-for-input (arguments checked, read direction free, settings applied). */
  waitForInput(state: S, callback: AnyCallback): void;
  /** Aborts the active read-direction operation (see `asyncIoStateAbort`). */
  abortInput(state: S, abortCallback: AnyCallback | null): void;
  /** Aborts the write direction's operations in flight (see `asyncIoStateAbort`). */
  abortOutput(state: S, abortCallback: AnyCallback | null): void;
  /** For `shutdown(abort: true)`: aborts the writes in flight silently; true when there were any. */
  abortWritesForShutdown(state: S): boolean;
  /** Shuts the input down (no read operation active). */
  shutdownInput(state: S): void;
  /** Shuts the output down; `callback(state, result)` is queued (now or when FIN is sent); returns the result. */
  shutdownOutput(state: S, callback: AnyCallback | null): true | string;
  /** The state was marked closed: tear down (the connection kept open with `keepAlive`). */
  closed(state: S, keepAlive: boolean): void;
}
