/**
 * The transport seam: what a stream state (TCP, or TLS over TCP) needs from
 * the thing that moves its bytes, and what that thing reports back.
 *
 * Shape: a transport is a *driver* shared by many connections plus one
 * *handle* per connection (a `net.Socket` for the Node driver, a slot or fd
 * for a native driver, an endpoint object for an in-memory pair). The state
 * keeps `(transport, handle)` and calls the driver with the handle; the
 * driver reports events to the connection's *sink*, one object per state
 * given once in `attach`. So a connection costs no transport object and no
 * closure of its own, and a driver that serves many sockets per call (one
 * crossing into native code per pass) sees all its handles.
 *
 * Rules every driver keeps (the state's guarantees rest on them):
 * - **Never re-entrant.** No sink method is called synchronously from inside
 *   a driver method the state called (`write`, `setReading`,
 *   `shutdownOutput`, ...). Events arrive later, from the event loop; even
 *   a write refused at once is reported later, through `written(error)`.
 * - **Owned chunks.** A chunk passed to `received` belongs to the state from
 *   then on: the driver never writes into its memory again (no pooled
 *   receive buffer reused in place). Views handed to read-with-checking
 *   callbacks are built on these chunks and must never change.
 * - **Order.** Bytes arrive in order; write completions (`written`) come
 *   in the order of the writes that returned `WRITE_PENDING`.
 * - **Once.** `ended`, `disconnected` and `outputShut` are reported at most once
 *   per attach; nothing is reported after `detach`, `release` or `destroy`,
 *   except `written` for writes made before a `detach` (a TLS attach
 *   detaches with writes in flight: they still complete, in order).
 *
 * Plugging a transport in: `createStateOnTransport(collection, transport,
 * handle, object, settings)` from `@commio/core/internal` makes a state on
 * it; the state then calls `attach(handle, sink)` and drives it. At the end
 * of every collection pass in which the state wrote with `inPass`, the
 * collection calls the state's `flushAfterPass`, which calls the driver's
 * `flushAfterPass(handle)`. Timers of the state go through `clock.ts`.
 */
import type net from 'node:net';

/** A local or peer address of a state. */
export interface SocketAddress {
  /** The IP address as text (`'127.0.0.1'`, `'::1'`). */
  address: string;
  /** The TCP or UDP port. */
  port: number;
  /** The address family. */
  family: 'IPv4' | 'IPv6';
}

/**
 * What a driver reports to one state. The state makes exactly one sink and
 * keeps it for its whole life (a TLS attach or detach re-attaches the same
 * sink to another handle).
 */
export interface StreamSink {
  /**
   * Bytes arrived (`chunk.length > 0`). The state owns `chunk` from now on.
   * While reading is off (`setReading(h, false)`) a driver should not call
   * this, but may still deliver the few chunks it had already read: the
   * state buffers them.
   */
  received(chunk: Buffer): void;
  /** The peer sent FIN: no more bytes will arrive. Writing may go on (half-open). */
  ended(): void;
  /**
   * The connection failed (reset, timeout below commio, TLS alert, ...).
   * Sticky for both directions; writes still in flight are then completed
   * with an error through `written`, or are dropped when `disconnected` follows.
   */
  failed(error: Error): void;
  /** The connection is gone (after `ended`/`failed`, or closed under us). Writes not yet completed never will be. */
  disconnected(): void;
  /**
   * The oldest write that returned `WRITE_PENDING` and is not yet reported
   * is done: its bytes reached the kernel (`error` null) or never will.
   */
  written(error: Error | null): void;
  /**
   * The `shutdownOutput` asked for is over: FIN was sent after every byte
   * written before it (`true`), or the connection failed first (an error
   * code such as `'ECONNRESET'`).
   */
  outputShut(result: true | string): void;
}

/** `write` result: the kernel took every byte at once; no `written` report follows (the state completes the write itself, through its collection). */
export const WRITE_DONE = 0;
/** `write` result: the bytes are held (batched, or the kernel is full); `sink.written` reports the write later. */
export const WRITE_PENDING = 1;
/** What `StreamTransport.write` returns. */
export type WriteOutcome = typeof WRITE_DONE | typeof WRITE_PENDING;

/**
 * A driver of stream connections. `H` is its per-connection handle. Every
 * method is called by the state only (the program never touches the handle
 * while a state owns it), never after `detach`, `release` or `destroy` of
 * that handle except `isOpen`.
 */
export interface StreamTransport<H = unknown> {
  /** For logs: `'node'`, `'memory'`, `'native'`. */
  readonly kind: string;

  /**
   * Starts reporting `handle`'s events to `sink`, with reading off (the
   * state turns it on). Bytes the handle had already read before are
   * reported as `received` (later, never inside this call).
   */
  attach(handle: H, sink: StreamSink): void;

  /**
   * Stops reporting to the sink and leaves the handle open and not reading
   * (a TLS attach or detach moves the connection to another handle). Bytes
   * read and not yet reported stay in the handle.
   */
  detach(handle: H): void;

  /**
   * Flow control. On: deliver bytes as they arrive. Off: stop reading soon,
   * so that the peer is held back by TCP. The state turns reading on while a
   * read operation waits for bytes, and off when it has read ahead its
   * bound (`READ_AHEAD_BYTES`) with no read active, or the program keeps too
   * much unconsumed.
   */
  setReading(handle: H, on: boolean): void;

  /**
   * Writes `chunk` after every byte written before. The driver may keep a
   * reference to `chunk` until the write is reported; the state never
   * changes it. `inPass` is true when the write is made inside a callback
   * of a collection pass: the driver may then hold the bytes back, and the
   * state promises that `flushAfterPass(handle)` runs when that pass ends.
   * Returns `WRITE_DONE` when the kernel took every byte now (then no
   * `written` report comes for this write), else `WRITE_PENDING`. A write
   * the connection refuses is `WRITE_PENDING` and reported as failed by
   * `written(error)` later. `againInPass` is true when the state already
   * wrote in this pass (a driver may batch from the second write on).
   */
  write(handle: H, chunk: Uint8Array, inPass: boolean, againInPass?: boolean): WriteOutcome;

  /**
   * The collection's pass ended: send what `write` held back. A driver that
   * crosses into native code may flush every handle it holds output for in
   * the first call of a pass (later calls of the same pass find nothing).
   * Must not call the sink synchronously.
   */
  flushAfterPass(handle: H): void;

  /**
   * Bytes written and not yet handed to the kernel, or null when the driver
   * cannot tell (the write timeout then reports 0 bytes written).
   */
  pendingOutput(handle: H): number | null;

  /** False once the connection is destroyed or closed; a write would fail. */
  isOpen(handle: H): boolean;

  /**
   * Sends FIN once every byte written before is sent; reports
   * `sink.outputShut(result)` later (only when `report` is true).
   */
  shutdownOutput(handle: H, report: boolean): void;

  /** Never read again (no SHUT_RD on Node: the handle just stops reading). */
  shutdownInput(handle: H): void;

  /** Closes the connection now (unsent bytes are dropped); nothing is reported after. */
  destroy(handle: H): void;

  /**
   * Keep-alive close: stops reporting, and hands the connection back as a
   * paused `net.Socket` that the program owns from now on (a TLS session
   * stays up: the Node driver hands back the TLSSocket). Errors on the
   * returned socket no longer reach anyone and must not crash the process.
   */
  release(handle: H): net.Socket;

  /** The local address, or null when unknown. May be a system call: the state caches it. */
  localAddress(handle: H): SocketAddress | null;
  /** The peer's address, or null when not connected. May be a system call: the state caches it. */
  peerAddress(handle: H): SocketAddress | null;
  /** TCP_NODELAY on or off. */
  setNoDelay(handle: H, on: boolean): void;
  /** SO_KEEPALIVE on or off; `initialDelay` in seconds (0: the system default). */
  setKeepAlive(handle: H, on: boolean, initialDelay: number): void;
}
