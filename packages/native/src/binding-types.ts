/**
 * The shape of the compiled addon (`build/commio_native.node`). Every call is
 * synchronous; a negative number result is `-errno` (name it with
 * `util.getSystemErrorName`). Ids are small positive integers; an id freed
 * while a batch is being handled is not reused before that batch ends.
 */

/** Kinds of the `[id, kind, value]` records of a batch. Mirrors `src/native.h`. */
export const NativeEvent = {
  /** `value` bytes of new data; each DATA's bytes follow the previous DATA's in the batch's buffer. */
  data: 1,
  /** The peer ended its output (FIN); the socket reads no more. */
  end: 2,
  /** `value` is an errno; the socket is out of the poll set until closed. */
  error: 3,
  /** `id` is a listener, `value` the accepted connection's id. */
  accept: 4,
  /** `id` is a listener, `value` an errno (EMFILE, ENFILE, ...); accepting is paused until `setReading(id, true)`. */
  acceptError: 5,
  /** A connect finished. */
  connected: 6,
  /** A connect failed; `value` is an errno. */
  connectFailed: 7,
  /** `value` queued writes (those whose flush result was 0) were handed to the kernel, oldest first. */
  drained: 8,
  /** A shutdown that waited for queued writes was done: `value` 0, or an errno. */
  outputShut: 9,
} as const;

/** Option flags of `listen`, `adoptListener`, `adoptConnection` and `connect`. Mirrors `src/native.h`. */
export const NativeFlag = {
  /** TCP_NODELAY on the connection (on accepted ones, for a listener). */
  noDelay: 1,
  /** SO_KEEPALIVE, with the given initial delay in seconds when above 0. */
  keepAlive: 2,
  /** The connection reads from the start; otherwise it waits for `setReading(id, true)`. */
  startReading: 4,
  /** The socket does not keep Node's event loop alive (like `unref()`). */
  unref: 8,
  /** An IPv6 listener accepts IPv6 only. */
  ipv6Only: 16,
  /** SO_REUSEPORT on a listener (set before bind). */
  reusePort: 32,
} as const;

/**
 * Called once per batch: `count` records in `events`, and the batch's bytes
 * when any DATA record is among them, in memory of their own that the addon
 * never writes again.
 */
export type NativeBatchCallback = (count: number, data: Uint8Array | undefined) => void;

/** Shared arrays handed out once by `init`; they are reused and must be read during the call they belong to. */
export interface NativeShared {
  /** `3 * count` numbers per batch: id, kind, value. */
  readonly events: Int32Array;
  /** Ids of the writes of one `flush` call, filled by the caller. */
  readonly writeIds: Int32Array;
  /** Per write of a `flush`: 1 handed to the kernel, 0 queued (a `drained` record follows), or -errno. */
  readonly writeResults: Int32Array;
  /** Records per batch and writes per flush at most. */
  readonly capacity: {
    /** Records one batch holds at most. */
    readonly events: number;
    /** Writes one `flush` call takes at most. */
    readonly writes: number;
  };
}

/** A local or peer address. `family` is 4 or 6. */
export interface NativeAddress {
  /** The IP address as text (`'127.0.0.1'`, `'::1'`). */
  readonly address: string;
  /** The TCP port. */
  readonly port: number;
  /** The IP version. */
  readonly family: 4 | 6;
}

/** The addon's functions. */
export interface NativeBinding {
  /** Starts the poll set on Node's loop; once per process or worker. */
  init(onBatch: NativeBatchCallback): NativeShared;
  /** A listener on a numeric address (port 0: any); backlog 0 means 511. Returns its id or -errno. */
  listen(host: string, port: number, backlog: number, flags: number, keepAliveDelay: number): number;
  /** Takes over a listening descriptor. Returns an id or -errno. */
  adoptListener(fd: number, flags: number, keepAliveDelay: number): number;
  /** Takes over a connected descriptor. Returns an id or -errno. */
  adoptConnection(fd: number, flags: number, keepAliveDelay: number): number;
  /** Starts a non-blocking connect to a numeric address; `connected` or `connectFailed` follows. Returns an id or -errno. */
  connect(host: string, port: number, localHost: string | null, localPort: number, flags: number, keepAliveDelay: number): number;
  /** A connection reads (a listener accepts) only while on. */
  setReading(id: number, on: boolean): number;
  /** Whether the socket keeps Node's loop alive. */
  setRef(id: number, on: boolean): number;
  /** TCP_NODELAY on or off; 0 or -errno. */
  setNoDelay(id: number, on: boolean): number;
  /** `delay` in seconds (0: the system's). */
  setKeepAlive(id: number, on: boolean, delay: number): number;
  /** Writes `buffers[i]` to `writeIds[i]` for i below `count`; results in `writeResults`. The buffers are free again on return. */
  flush(count: number, buffers: readonly Uint8Array[]): number;
  /** Ends the output (FIN) once every queued write is sent: 0 done now, 1 deferred (an `outputShut` record follows), or -errno. */
  shutdown(id: number): number;
  /** Closes now and drops queued writes; `abort` resets the connection (RST). */
  close(id: number, abort: boolean): number;
  /** Forgets the socket without closing it and returns its descriptor; -EBUSY while writes are queued. */
  release(id: number): number;
  /** The bytes not yet handed to the kernel, which the addon then forgets (for handing a socket back with `release`), or -errno. */
  takeQueued(id: number): Buffer | number;
  /** The local (`peer` false) or peer address, or -errno. */
  address(id: number, peer: boolean): NativeAddress | number;
  /** Bytes accepted by `flush` and not yet handed to the kernel, or -errno. */
  queuedBytes(id: number): number;
  /** Open listeners and connections, and how many keep the loop alive. */
  stats(): {
    /** Listeners and connections open. */
    open: number;
    /** How many of them keep Node's loop alive. */
    refs: number;
  };
}
