/**
 * The stream transport over Node's sockets: a `net.Socket`, or a
 * `tls.TLSSocket` while TLS is attached (TLS stays Node's). The handle is
 * the socket itself; the socket's listeners are shared module-level
 * functions that find the sink through a symbol property, so a connection
 * costs no closure and no transport object.
 *
 * Writes: a write made while Node holds nothing for the socket goes out
 * without a callback (a write the kernel takes at once costs Node no tick
 * and no objects): `WRITE_DONE`. From the second write inside one pass of
 * the collection on, writes are corked and flushed together (one `writev`)
 * in `flushAfterPass`.
 *
 * An idle socket carries one property of ours (the sink): every property
 * added to a socket after its construction costs a slot in its property
 * array, so the transport keeps no flags of its own. Whether the socket is
 * corked is Node's `writableCorked`; whether a shutdown waits to report is
 * whether `onFinish` listens.
 */
import type net from 'node:net';
import { WRITE_DONE, WRITE_PENDING, type SocketAddress, type StreamSink, type StreamTransport, type WriteOutcome } from './stream-transport.js';
import { socketWriteQueueSize } from '../node-internals.js';
import { ignoreLateErrors, SocketListeners } from './socket-events.js';

const kSink = Symbol('commio.sink');
const kOnWritten = Symbol('commio.onWritten');

type Handle = net.Socket & {
  [kSink]?: StreamSink | undefined;
  [kOnWritten]?: ((error?: Error | null) => void) | undefined;
  /** Set on a `tls.TLSSocket`. */
  encrypted?: boolean;
};

/** Written behind a write the kernel did not take at once: its callback says that write is done. */
const MARKER = new Uint8Array(0);

function onData(this: Handle, chunk: Buffer): void {
  this[kSink]?.received(chunk);
}
function onEnd(this: Handle): void {
  this[kSink]?.ended();
}
function onError(this: Handle, error: Error): void {
  const sink = this[kSink];
  if (sink === undefined) return;
  sink.failed(error);
  // A shutdown('output') waiting for its FIN failed.
  if (takeShutReport(this)) sink.outputShut((error as NodeJS.ErrnoException).code ?? 'EIO');
}
function onClose(this: Handle): void {
  this[kSink]?.disconnected();
}
const LISTENERS = new SocketListeners(onData, onEnd, onError, onClose);
/** Listens (once) while a shutdown('output') waits for 'finish' to report. */
function onFinish(this: Handle): void {
  this[kSink]?.outputShut(true);
}
/** Bound to the sink (not the socket): writes made before a detach still complete the state's writes, in order. */
function onWritten(this: StreamSink, error?: Error | null): void {
  this.written(error ?? null);
}
/** The write callback of `socket`'s sink, made on the first write that needs one (most short connections never do). */
function writtenCallback(socket: Handle, sink: StreamSink): (error?: Error | null) => void {
  return (socket[kOnWritten] ??= onWritten.bind(sink));
}
function reportRefused(sink: StreamSink, error: Error): void {
  sink.written(error);
}

/** True (once) when a shutdown('output') waited to report: it reports now, not on 'finish'. */
function takeShutReport(socket: Handle): boolean {
  if (socket.listenerCount('finish', onFinish) === 0) return false;
  socket.removeListener('finish', onFinish);
  return true;
}

/** True when Node holds no bytes of this socket's writes (all handed to the kernel, or failed). */
function nothingPending(socket: net.Socket): boolean {
  return socket.writableLength === 0;
}

/** The Node driver (one for every socket). */
export const nodeStreamTransport: StreamTransport<net.Socket> = {
  kind: 'node',

  attach(socket: Handle, sink: StreamSink): void {
    socket.pause();
    socket[kSink] = sink;
    // Made on the first write that needs it, for this sink (a socket kept
    // alive may get a new state). Not added to a socket that never had one.
    if (socket[kOnWritten] !== undefined) socket[kOnWritten] = undefined;
    LISTENERS.add(socket);
  },

  detach(socket: Handle): void {
    socket.pause();
    LISTENERS.remove(socket);
    socket.removeListener('finish', onFinish);
    // Assigned, not deleted: a delete turns the socket into a slow dictionary object.
    socket[kSink] = undefined;
  },

  setReading(socket: net.Socket, on: boolean): void {
    if (on) socket.resume();
    else socket.pause();
  },

  write(socket: Handle, chunk: Uint8Array, inPass: boolean, againInPass = false): WriteOutcome {
    // Batch the writes of this pass into one syscall. A lone write goes
    // straight out: corking only from the second one spares it Node's
    // buffered-write path.
    if (inPass && againInPass && socket.writableCorked === 0) socket.cork();
    const sink = socket[kSink] as StreamSink;
    if (socket.writableCorked !== 0 || socket.encrypted === true || !nothingPending(socket)) {
      socket.write(chunk, writtenCallback(socket, sink));
      return WRITE_PENDING;
    }
    socket.write(chunk);
    if (nothingPending(socket)) {
      const refused = socket.errored;
      if (refused === null) return WRITE_DONE;
      // Refused at once: reported later, as the contract wants.
      process.nextTick(reportRefused, sink, refused);
      return WRITE_PENDING;
    }
    socket.write(MARKER, writtenCallback(socket, sink));
    return WRITE_PENDING;
  },

  flushAfterPass(socket: Handle): void {
    if (socket.writableCorked !== 0) socket.uncork();
  },

  pendingOutput(socket: Handle): number | null {
    // Under TLS the socket's counts are of plaintext, not of what the kernel got.
    return socket.encrypted === true ? null : socketWriteQueueSize(socket);
  },

  isOpen(socket: net.Socket): boolean {
    return !socket.destroyed;
  },

  shutdownOutput(socket: Handle, report: boolean): void {
    nodeStreamTransport.flushAfterPass(socket);
    if (report && socket.listenerCount('finish', onFinish) === 0) socket.once('finish', onFinish);
    socket.end();
  },

  shutdownInput(socket: net.Socket): void {
    // Node.js has no SHUT_RD: the socket is just never read again.
    socket.pause();
  },

  destroy(socket: Handle): void {
    // The shared listeners find no sink and do nothing, so removing them
    // before the destroy would be work for nothing.
    socket[kSink] = undefined;
    socket.destroy();
  },

  release(socket: Handle): net.Socket {
    // A socket kept alive must not stay corked.
    nodeStreamTransport.flushAfterPass(socket);
    nodeStreamTransport.detach(socket);
    ignoreLateErrors(socket);
    return socket;
  },

  localAddress(socket: net.Socket): SocketAddress | null {
    const info = socket.address();
    if (!('port' in info) || typeof info.port !== 'number') return null;
    return { address: info.address, port: info.port, family: info.family === 'IPv6' ? 'IPv6' : 'IPv4' };
  },

  peerAddress(socket: net.Socket): SocketAddress | null {
    if (socket.remoteAddress === undefined || socket.remotePort === undefined) return null;
    return { address: socket.remoteAddress, port: socket.remotePort, family: socket.remoteFamily === 'IPv6' ? 'IPv6' : 'IPv4' };
  },

  setNoDelay(socket: net.Socket, on: boolean): void {
    socket.setNoDelay(on);
  },

  setKeepAlive(socket: net.Socket, on: boolean, initialDelay: number): void {
    socket.setKeepAlive(on, Math.round(initialDelay * 1000));
  },
};
