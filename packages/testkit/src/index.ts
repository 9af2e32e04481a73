/**
 * @commio/testkit: testing protocol code written on commio without sockets.
 *
 * - `makeStatePair(collection, options?)`: two connected in-memory states
 *   that behave as two ends of a TCP connection on loopback.
 * - `installFakeClock()`: commio's timeouts follow `advance(seconds)`
 *   instead of real time.
 *
 * The memory transport under the pairs is exported too, for tests of the
 * state core itself (`memoryTransport`, `connectMemoryEnds`).
 */
export { installFakeClock } from './fake-clock.js';
export type { FakeClock } from './fake-clock.js';
export { checkChunking } from './chunking.js';
export type { Chunking, PieceSizes } from './chunking.js';
export { memoryTransport, connectMemoryEnds, MemoryEnd, DEFAULT_CAPACITY } from './memory-transport.js';
export { makeStatePair } from './state-pair.js';
export type { StatePairOptions } from './state-pair.js';
