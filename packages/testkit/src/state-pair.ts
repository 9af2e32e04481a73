/**
 * makeStatePair: two connected in-memory states, for testing protocol code
 * without sockets.
 */
import { WaitStateCollection, type AsyncIoState, type StateOptions } from '@commio/core';
import { checkInteger, createStateOnTransport, invalid } from '@commio/core/internal';
import { checkChunking, type Chunking } from './chunking.js';
import { connectMemoryEnds, DEFAULT_CAPACITY, memoryTransport } from './memory-transport.js';

/** Options of `makeStatePair`: the state options (applied to both states) and how the connection behaves. */
export interface StatePairOptions extends StateOptions {
  /**
   * How the bytes one side writes are split into the pieces the other side
   * receives (both directions): sizes in turn (`[1]`: byte by byte), or
   * random sizes from a seed (`{ seed, min?, max? }`). See `Chunking`.
   * @default whatever is in the pipe arrives as one piece
   */
  chunking?: Chunking;
  /**
   * Bytes one direction holds in flight (written, not yet delivered to a
   * reading state) before writes wait: the backpressure a slow reader puts
   * on a writer, as a socket's buffers do. @default 65536
   */
  capacity?: number;
}

/**
 * Two states of `collection` connected to each other in memory: what one
 * writes the other reads. They are real `AsyncIoState`s on the memory
 * transport, so every function of `@commio/core` works on them as on states
 * of a TCP connection on loopback (reads, read-with-checking, queued writes,
 * limits, timeouts, shutdown, abort, close, EOF, statuses), except keep-
 * alive close (`keepAliveP: true` throws `ERR_COMMIO_UNSUPPORTED`: there is
 * no socket to hand back) and TLS (there is no socket to put it on).
 *
 * Guarantees as over TCP: bytes arrive in order, later (never inside the
 * write), one piece per turn of Node's loop so the reader's callbacks run
 * between pieces; `state.object` is the state's `MemoryEnd`; addresses read
 * as `127.0.0.1` with a distinct port per state, each state's peer address
 * being the other's address. Nothing is opened: no socket, descriptor or
 * timer (timeouts run on commio's clock: real time, or the fake clock).
 *
 * Throws `ERR_COMMIO_INVALID_ARGUMENT` for a bad argument or option and
 * `ERR_COMMIO_COLLECTION_CLOSED` when the collection is closed, before
 * making anything.
 */
export function makeStatePair(collection: WaitStateCollection, options?: StatePairOptions): [AsyncIoState, AsyncIoState] {
  if (!(collection instanceof WaitStateCollection)) invalid('collection', 'a WaitStateCollection', collection);
  const candidate: unknown = options;
  if (candidate !== undefined && (typeof candidate !== 'object' || candidate === null || Array.isArray(candidate))) invalid('options', 'an object', candidate);
  const { chunking, capacity, ...stateOptions } = options ?? {};
  const sizes = checkChunking(chunking);
  const pipeBytes = checkInteger(capacity, 'options.capacity', 1, 0x7fffffff, DEFAULT_CAPACITY);
  collection.assertAlive();
  const [first, second] = connectMemoryEnds(pipeBytes, sizes);
  // The state options (and unknown keys) are checked by the first call: a bad one throws before any state is made.
  const firstState = createStateOnTransport(collection, memoryTransport, first, stateOptions);
  return [firstState, createStateOnTransport(collection, memoryTransport, second, stateOptions)];
}
