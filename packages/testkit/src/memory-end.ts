/**
 * One end of an in-memory connection: the handle of the memory transport.
 * Each end holds the pipe of bytes coming *to* it (what its peer wrote, not
 * yet delivered: the "kernel" of this connection, bounded by `capacity`),
 * the writes of its own that did not fit into its peer's pipe yet, and the
 * reports owed to its sink. All reports and deliveries go out from one
 * `setImmediate` task per end, never inside a call of the state.
 */
import type { SocketAddress, StreamSink } from '@commio/core/internal';
import type { PieceSizes } from './chunking.js';

/** A write that did not fit into the peer's pipe yet. */
export interface WaitingWrite {
  /** The bytes not yet moved (a private copy). */
  bytes: Buffer;
  /** The sink to tell when the write is done (writes made before a detach still complete, in order). */
  readonly sink: StreamSink;
}

/** A report owed to a sink, in the order it is owed. */
export type Notice =
  | { readonly kind: 'written'; readonly sink: StreamSink; readonly error: Error | null }
  | { readonly kind: 'outputShut'; readonly sink: StreamSink; readonly result: true | string }
  | { readonly kind: 'failed'; readonly sink: StreamSink; readonly error: Error }
  | { readonly kind: 'disconnected'; readonly sink: StreamSink };

/** One end of an in-memory connection (see the module comment). */
export class MemoryEnd {
  /** The other end (set right after both are made). */
  peer: MemoryEnd = this;
  /** The state's sink while attached. */
  sink: StreamSink | null = null;
  /** The state wants bytes. */
  reading = false;
  /** Never read again (`shutdownInput`). */
  inputShut = false;

  /** Bytes the peer wrote, waiting to be delivered here; the first may be partly delivered. */
  readonly pipe: Buffer[] = [];
  /** Offset into `pipe[0]` of the first byte not delivered. */
  pipeOffset = 0;
  /** Bytes in `pipe` not yet delivered. */
  pipeBytes = 0;
  /** The peer's FIN is behind the bytes in `pipe`. */
  finInPipe = false;
  /** `ended` was reported (or owed: set when queued). */
  endReported = false;

  /** This end's writes that did not fit into the peer's pipe, oldest first. */
  readonly waiting: WaitingWrite[] = [];
  /** Bytes in `waiting`. */
  waitingBytes = 0;
  /** `shutdownOutput` was asked: FIN goes after the waiting writes. */
  finAsked = false;
  /** The sink to tell when the FIN is sent, or null when the state asked for no report. */
  finReportTo: StreamSink | null = null;
  /** The FIN is in the peer's pipe. */
  finSent = false;

  /** The state destroyed or released this end: nothing is reported any more. */
  gone = false;
  /** The connection was reset under this end: the error it got. */
  resetBy: Error | null = null;
  /** `disconnected` was reported (or owed). */
  closeReported = false;

  /** Reports owed to the sink, oldest first. */
  readonly notices: Notice[] = [];
  /** The delivery task is scheduled. */
  scheduled = false;

  /** Bytes this direction holds in flight before the peer's writes wait. */
  readonly capacity: number;
  /** The sizes of the pieces delivered here. */
  readonly sizes: PieceSizes;
  /** This end's (made-up) address. */
  readonly address: SocketAddress;

  constructor(capacity: number, sizes: PieceSizes, address: SocketAddress) {
    this.capacity = capacity;
    this.sizes = sizes;
    this.address = address;
  }

  /** False once destroyed, released, reset or closed. */
  get open(): boolean {
    return !this.gone && this.resetBy === null && !this.closeReported;
  }

  /** Appends a private copy of bytes the peer wrote. */
  pushToPipe(bytes: Buffer): void {
    this.pipe.push(bytes);
    this.pipeBytes += bytes.length;
  }

  /** Room left in the pipe to this end. */
  get room(): number {
    return Math.max(0, this.capacity - this.pipeBytes);
  }

  /**
   * Takes the next piece of at most `size` bytes out of the pipe, as a
   * buffer no one else writes to (a view of a private copy, or a new copy
   * when the piece spans writes).
   */
  takePiece(size: number): Buffer {
    const length = Math.min(size, this.pipeBytes);
    const first = this.pipe[0] as Buffer;
    let piece: Buffer;
    if (first.length - this.pipeOffset >= length) {
      piece = first.subarray(this.pipeOffset, this.pipeOffset + length);
      this.pipeOffset += length;
      if (this.pipeOffset === first.length) {
        this.pipe.shift();
        this.pipeOffset = 0;
      }
    } else {
      piece = Buffer.allocUnsafe(length);
      let filled = 0;
      while (filled < length) {
        const head = this.pipe[0] as Buffer;
        const copied = head.copy(piece, filled, this.pipeOffset, Math.min(head.length, this.pipeOffset + length - filled));
        filled += copied;
        this.pipeOffset += copied;
        if (this.pipeOffset === head.length) {
          this.pipe.shift();
          this.pipeOffset = 0;
        }
      }
    }
    this.pipeBytes -= length;
    return piece;
  }

  /** Drops every byte in the pipe (a reset, or a destroy). */
  clearPipe(): void {
    this.pipe.length = 0;
    this.pipeOffset = 0;
    this.pipeBytes = 0;
  }
}
