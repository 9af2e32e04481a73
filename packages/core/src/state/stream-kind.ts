/**
 * The stream kind of state (see state-kind.ts): the read side and the write
 * side over a stream transport, plain or TLS. One shared, stateless object
 * serves every stream state, so a connection costs no object for it.
 */
import type { StreamTransport, SocketAddress } from '../transports/stream-transport.js';
import { nodeStreamTransport } from '../transports/node-stream-transport.js';
import { READ_NONE, type ReadSide } from './read-side.js';
import type { WriteSide } from './write-side.js';
import type { StateShell } from './state-shell.js';
import type { StateKind } from './state-kind.js';
import type { IoStatus } from './status.js';

/** What the stream kind needs of a state. */
export interface StreamParts extends StateShell {
  readonly reader: ReadSide;
  /** The write side, made on first use. */
  readonly writer: WriteSide;
  /** The write side if it was made, else null (asking must not make one). */
  readonly madeWriter: WriteSide | null;
  transport: StreamTransport | null;
  handle: unknown;
  /** While TLS is attached: the TCP socket under it (addresses are asked from it). */
  tls: { readonly tcp: unknown } | null;
}

/** The part every stream state shares. */
export const STREAM_KIND: StateKind<StreamParts> = {
  readStatus: (state) => state.reader.status,
  writeStatus: (state): IoStatus => state.madeWriter?.status ?? null,
  queuedOutputLength: (state) => state.madeWriter?.pendingBytes ?? 0,
  queuedMessageCount: () => 0,
  droppedMessageCount: () => 0,
  localAddress(state): SocketAddress | null {
    // Under Node's TLS the addresses are the TCP socket's.
    return state.transport === null ? null : state.transport.localAddress(state.tls?.tcp ?? state.handle);
  },
  peerAddress(state): SocketAddress | null {
    return state.transport === null ? null : state.transport.peerAddress(state.tls?.tcp ?? state.handle);
  },
  readBusy: (state) => state.reader.op !== READ_NONE,
  streamReader: (state) => state.reader,
  streamWriter: (state) => state.writer,
  waitForInput(state, callback): void {
    state.reader.startWaitForInput(callback);
  },
  abortInput(state, abortCallback): void {
    state.reader.abort(abortCallback);
  },
  abortOutput(state, abortCallback): void {
    state.writer.abort(abortCallback);
  },
  abortWritesForShutdown(state): boolean {
    const writer = state.madeWriter;
    if (writer === null || writer.activeCount === 0) return false;
    writer.abort(null);
    return true;
  },
  shutdownInput(state): void {
    state.reader.shutdownInput();
    if (state.transport !== null) state.transport.shutdownInput(state.handle);
  },
  shutdownOutput(state, callback): true | string {
    const writer = state.writer;
    if (writer.outputShut) {
      // Already shut: done at once (the callback still runs later).
      if (callback !== null) state.deliver(false, callback, true);
      return true;
    }
    const result = writer.shutdownOutput(callback);
    if (result !== true && callback !== null) state.deliver(false, callback, result);
    return result;
  },
  closed(state, keepAlive): void {
    state.reader.readClosed();
    state.madeWriter?.closed();
    const transport = state.transport;
    if (transport !== null) {
      const handle = state.handle;
      state.transport = null;
      state.handle = null;
      state.reader.transportDetached();
      // Handed back as it is: Node.js cannot take TLS off a socket
      // synchronously, so a TLS session stays up and `state.ssl` still gives
      // it (asyncIoStateDetachSsl first for plain text).
      if (keepAlive) {
        const socket = transport.release(handle);
        // A state on another transport (native) wraps its handle: from now on the program gets the socket.
        if (state.object === handle && transport !== nodeStreamTransport) state.object = socket;
      } else transport.destroy(handle);
    }
    if (!keepAlive) state.tls = null;
  },
};
