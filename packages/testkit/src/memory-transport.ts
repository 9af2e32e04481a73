/**
 * The memory transport: a `StreamTransport` driver whose handles are the two
 * ends of an in-memory connection (no socket, no descriptor). It behaves as
 * TCP on loopback does, seen from a state:
 *
 * - bytes written on one end arrive at the other later (one piece per turn
 *   of Node's loop, from `setImmediate`, so the reader's callbacks run
 *   between pieces), split as `chunking` says, each piece a buffer no one
 *   writes to again;
 * - a pipe holds at most `capacity` bytes not yet delivered; while the
 *   reader does not read, writes beyond it stay pending (`WRITE_PENDING`,
 *   counted by `pendingOutput`) and complete as the reader drains the pipe:
 *   write timeouts and `maxQueuedOutput` meet backpressure as over TCP;
 * - `shutdownOutput` sends FIN after the pending writes: the peer gets
 *   `ended` after the last byte, and once both sides sent FIN and got the
 *   other's, both get `disconnected`;
 * - `destroy` drops this end's pending writes. With nothing unread on this
 *   end it is a FIN (the peer reads what is in its pipe, then `ended`; the
 *   peer's next write resets it); with unread bytes it is a reset, as the
 *   kernel does: the peer gets `failed` with a `read ECONNRESET` error
 *   (code `'ECONNRESET'`), its pending writes fail, then `disconnected`;
 * - `release` (a keep-alive close) cannot hand back a `net.Socket`: the end
 *   is closed as by `destroy` and `ERR_COMMIO_UNSUPPORTED` is thrown;
 * - addresses are `127.0.0.1` with a distinct port per end from the dynamic
 *   range (49152-65535), so code that logs or checks addresses sees real-
 *   looking ones; `setNoDelay` and `setKeepAlive` do nothing.
 */
import os from 'node:os';
import type net from 'node:net';
import { UnsupportedError } from '@commio/core';
import { WRITE_DONE, WRITE_PENDING, type SocketAddress, type StreamSink, type StreamTransport, type WriteOutcome } from '@commio/core/internal';
import type { PieceSizes } from './chunking.js';
import { MemoryEnd, type Notice } from './memory-end.js';

export { MemoryEnd } from './memory-end.js';

/** Bytes an in-memory pipe holds before writes wait, by default (a loopback socket's buffers hold more; less shows backpressure sooner). */
export const DEFAULT_CAPACITY = 64 * 1024;

const FIRST_PORT = 49152;
let nextPort = FIRST_PORT;

function loopbackAddress(): SocketAddress {
  const port = nextPort;
  nextPort = nextPort === 65535 ? FIRST_PORT : nextPort + 1;
  return { address: '127.0.0.1', port, family: 'IPv4' };
}

/** The error of a reset connection, shaped as Node's (`code`, `errno`, `syscall`). */
function connectionReset(syscall: 'read' | 'write'): Error {
  const error = new Error(`${syscall} ECONNRESET`) as NodeJS.ErrnoException;
  error.code = 'ECONNRESET';
  error.errno = -os.constants.errno.ECONNRESET;
  error.syscall = syscall;
  return error;
}

/**
 * Makes the two ends of a new in-memory connection: `capacity` bytes per
 * direction in flight at most, pieces sized by `sizes(0)` toward the first
 * end and `sizes(1)` toward the second.
 */
export function connectMemoryEnds(capacity: number, sizes: (direction: 0 | 1) => PieceSizes): [MemoryEnd, MemoryEnd] {
  const first = new MemoryEnd(capacity, sizes(0), loopbackAddress());
  const second = new MemoryEnd(capacity, sizes(1), loopbackAddress());
  first.peer = second;
  second.peer = first;
  return [first, second];
}

function schedule(end: MemoryEnd): void {
  if (end.scheduled || end.gone) return;
  end.scheduled = true;
  setImmediate(run, end);
}

function owe(end: MemoryEnd, notice: Notice): void {
  end.notices.push(notice);
  schedule(end);
}

/** The delivery task of one end: owed reports first, then one piece (or the FIN) if the state reads. */
function run(end: MemoryEnd): void {
  end.scheduled = false;
  while (end.notices.length > 0) {
    if (end.gone) return;
    const notice = end.notices.shift() as Notice;
    // Only write completions outlive a detach; the rest was for the old sink.
    if (notice.kind !== 'written' && notice.sink !== end.sink) continue;
    report(notice);
  }
  const sink = end.sink;
  if (sink === null || end.gone || !end.reading) return;
  if (end.pipeBytes > 0) {
    const piece = end.takePiece(end.sizes.next());
    moveWaitingWrites(end.peer);
    sink.received(piece);
    if (end.pipeBytes > 0 || end.finInPipe) schedule(end);
    return;
  }
  if (end.finInPipe && !end.endReported) {
    end.endReported = true;
    sink.ended();
    closeIfDone(end);
  }
}

function report(notice: Notice): void {
  switch (notice.kind) {
    case 'written':
      notice.sink.written(notice.error);
      break;
    case 'outputShut':
      notice.sink.outputShut(notice.result);
      break;
    case 'failed':
      notice.sink.failed(notice.error);
      break;
    case 'disconnected':
      notice.sink.disconnected();
      break;
  }
}

/** Moves `writer`'s waiting writes into its peer's pipe while there is room; completes those moved whole. */
function moveWaitingWrites(writer: MemoryEnd): void {
  const reader = writer.peer;
  let moved = false;
  while (writer.waiting.length > 0 && reader.room > 0) {
    const write = writer.waiting[0] as (typeof writer.waiting)[number];
    const length = Math.min(reader.room, write.bytes.length);
    reader.pushToPipe(write.bytes.subarray(0, length));
    write.bytes = write.bytes.subarray(length);
    writer.waitingBytes -= length;
    moved = true;
    if (write.bytes.length > 0) break;
    writer.waiting.shift();
    owe(writer, { kind: 'written', sink: write.sink, error: null });
  }
  if (moved) schedule(reader);
  if (writer.waiting.length === 0 && writer.finAsked && !writer.finSent) sendFin(writer);
}

function sendFin(end: MemoryEnd): void {
  end.finSent = true;
  const peer = end.peer;
  if (!peer.gone) {
    peer.finInPipe = true;
    schedule(peer);
  }
  const reportTo = end.finReportTo;
  end.finReportTo = null;
  if (reportTo !== null) owe(end, { kind: 'outputShut', sink: reportTo, result: true });
  closeIfDone(end);
}

/** Both FINs went through this end: the connection is over for it. */
function closeIfDone(end: MemoryEnd): void {
  if (end.closeReported || !end.endReported || !end.finSent || end.sink === null) return;
  end.closeReported = true;
  owe(end, { kind: 'disconnected', sink: end.sink });
}

/** The connection was reset under `end`: `failed`, every pending write fails, `disconnected`. */
function reset(end: MemoryEnd, error: Error): void {
  if (!end.open) return;
  end.resetBy = error;
  end.clearPipe();
  end.finInPipe = false;
  const sink = end.sink;
  if (sink !== null) owe(end, { kind: 'failed', sink, error });
  for (const write of end.waiting) owe(end, { kind: 'written', sink: write.sink, error });
  end.waiting.length = 0;
  end.waitingBytes = 0;
  const reportTo = end.finReportTo;
  end.finReportTo = null;
  if (reportTo !== null) owe(end, { kind: 'outputShut', sink: reportTo, result: 'ECONNRESET' });
  end.closeReported = true;
  if (sink !== null) owe(end, { kind: 'disconnected', sink });
}

/** Closes `end` for good, as a close of its socket would (see the module comment). */
function destroyEnd(end: MemoryEnd): void {
  if (end.gone) return;
  end.gone = true;
  end.sink = null;
  end.reading = false;
  end.notices.length = 0;
  const peer = end.peer;
  const unread = end.pipeBytes > 0 || peer.waitingBytes > 0;
  end.clearPipe();
  end.waiting.length = 0;
  end.waitingBytes = 0;
  if (peer.gone) return;
  if (unread) {
    reset(peer, connectionReset('read'));
  } else if (!end.finSent) {
    end.finSent = true;
    peer.finInPipe = true;
    schedule(peer);
  }
}

/** The memory driver (one for every in-memory connection). */
export const memoryTransport: StreamTransport<MemoryEnd> = {
  kind: 'memory',

  attach(end: MemoryEnd, sink: StreamSink): void {
    end.sink = sink;
    end.reading = false;
    if (end.notices.length > 0) schedule(end);
  },

  detach(end: MemoryEnd): void {
    end.sink = null;
    end.reading = false;
  },

  setReading(end: MemoryEnd, on: boolean): void {
    end.reading = on && !end.inputShut;
    if (end.reading) schedule(end);
  },

  write(end: MemoryEnd, chunk: Uint8Array): WriteOutcome {
    const sink = end.sink as StreamSink;
    if (!end.open || end.finAsked) {
      owe(end, { kind: 'written', sink, error: end.resetBy ?? connectionReset('write') });
      return WRITE_PENDING;
    }
    if (end.peer.gone) {
      // Writing to a closed peer: over TCP its kernel answers with a reset.
      end.waiting.push({ bytes: Buffer.alloc(0), sink });
      reset(end, connectionReset('write'));
      return WRITE_PENDING;
    }
    if (chunk.length === 0) return WRITE_DONE;
    // Copied now: once a write is done the state may reuse its bytes.
    const bytes = Buffer.from(chunk);
    if (end.waiting.length === 0 && end.peer.room >= bytes.length) {
      end.peer.pushToPipe(bytes);
      schedule(end.peer);
      return WRITE_DONE;
    }
    end.waiting.push({ bytes, sink });
    end.waitingBytes += bytes.length;
    moveWaitingWrites(end);
    return WRITE_PENDING;
  },

  flushAfterPass(): void {
    // Nothing is held back: every write goes into the pipe at once.
  },

  pendingOutput(end: MemoryEnd): number {
    return end.waitingBytes;
  },

  isOpen(end: MemoryEnd): boolean {
    return end.open;
  },

  shutdownOutput(end: MemoryEnd, report: boolean): void {
    if (end.finAsked) return;
    end.finAsked = true;
    const sink = end.sink;
    if (!end.open) {
      if (report && sink !== null) owe(end, { kind: 'outputShut', sink, result: 'ECONNRESET' });
      return;
    }
    end.finReportTo = report ? sink : null;
    if (end.waiting.length === 0) sendFin(end);
  },

  shutdownInput(end: MemoryEnd): void {
    end.inputShut = true;
    end.reading = false;
  },

  destroy(end: MemoryEnd): void {
    destroyEnd(end);
  },

  release(end: MemoryEnd): net.Socket {
    destroyEnd(end);
    throw new UnsupportedError('an in-memory state cannot be kept open on close (keepAliveP): there is no socket to hand back; it was closed');
  },

  localAddress(end: MemoryEnd): SocketAddress {
    return end.address;
  },

  peerAddress(end: MemoryEnd): SocketAddress {
    return end.peer.address;
  },

  setNoDelay(): void {
    // No Nagle in memory.
  },

  setKeepAlive(): void {
    // No keep-alive probes in memory.
  },
};
