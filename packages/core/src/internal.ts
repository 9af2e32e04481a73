/**
 * @commio/core/internal: the narrow seam for @commio/ssl and for tests.
 * Not a stable API.
 */
export { logger } from './debug.js';
export type { Logger, LogArea } from './debug.js';
export {
  checkOptions,
  checkSeconds,
  checkBoolean,
  checkInteger,
  checkFunction,
  checkKeyword,
  checkString,
  optionalFunction,
  invalid,
  keys,
} from './options/validate.js';
export type { CheckedOptions } from './options/validate.js';
export { resolveService } from './options/service.js';
export type { StreamTransport, StreamSink, WriteOutcome, SocketAddress } from './transports/stream-transport.js';
export { WRITE_DONE, WRITE_PENDING } from './transports/stream-transport.js';
export { setTimer, clearTimer, refreshTimer, now, useClock, nodeClock } from './clock.js';
export type { Clock, Timer } from './clock.js';
export { createStateOnTransport } from './state/create-state.js';
export { nodeStreamTransport } from './transports/node-stream-transport.js';
export { InputBuffer } from './state/input-buffer.js';
