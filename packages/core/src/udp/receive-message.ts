/** asyncIoStateReceiveMessage: one datagram per operation. */
import { checkBoolean, checkBuffer, checkFunction, checkOptions, checkRange, keys, optionalFunction, optionalSeconds } from '../options/validate.js';
import { checkOpenState, type AsyncIoState } from '../state/async-io-state.js';
import { assertReadFree } from '../state/reading.js';
import type { ReceiveCallback } from './udp-receive.js';
import { udpOf } from './udp-state.js';

/** Options of asyncIoStateReceiveMessage. */
export interface ReceiveMessageOptions<B> {
  /** First index to fill. @default 0 */
  start?: number;
  /** Index after the last one to fill; a longer datagram is truncated to fit. @default buffer.length */
  end?: number;
  /** Seconds to wait for a datagram before the callback runs with readStatus 'timeout'; also sets `state.readTimeout`. */
  timeout?: number | null;
  /** Called instead of `callback` when the receive ends with an error (`readStatus` is the error). */
  errorCallback?: ReceiveCallback<B> | null;
  /** The callback also gets the sender's address and port, usable directly to reply. @default false */
  needsAddress?: boolean;
  /** Sets `state.userInfo`. */
  userInfo?: unknown;
}

const RECEIVE_KEYS = keys('start', 'end', 'timeout', 'errorCallback', 'needsAddress', 'userInfo');

/**
 * Receives one datagram into `buffer[start, end)` on a UDP state.
 * `callback(state, buffer, count)` runs once it is there (a datagram longer
 * than the range is truncated to it, the rest dropped); with `needsAddress`
 * it is `callback(state, buffer, count, address, port)`, the sender's IP
 * string and port, ready for asyncIoStateSendMessageToAddress. A datagram
 * that came while no receive was active is taken at once (callback later).
 * After `timeout` seconds (or the state's `readTimeout`) the callback runs
 * with count 0 and `readStatus` 'timeout'; a socket error (`ECONNREFUSED`
 * from ICMP port unreachable on a connected socket) goes to `errorCallback`
 * when given, else to `callback`, with `readStatus` the error. Start the
 * next receive from the callback to keep receiving. Throws
 * `ERR_COMMIO_UNSUPPORTED` on a TCP state and
 * `ERR_COMMIO_OPERATION_IN_PROGRESS` while another read-direction operation
 * is active.
 */
export function asyncIoStateReceiveMessage<B extends Uint8Array | Int8Array>(
  state: AsyncIoState,
  buffer: B,
  callback: ReceiveCallback<B>,
  options?: ReceiveMessageOptions<B>,
): void {
  const s = checkOpenState(state);
  const target = checkBuffer(buffer, 'buffer');
  checkFunction(callback, 'callback');
  const o = checkOptions(options, RECEIVE_KEYS);
  const [start, end] = checkRange(o['start'], o['end'], target.length);
  const timeout = optionalSeconds(o['timeout'], 'options.timeout');
  const errorCallback = optionalFunction<ReceiveCallback<B>>(o['errorCallback'], 'options.errorCallback');
  const needsAddress = checkBoolean(o['needsAddress'], 'options.needsAddress', false);
  const udp = udpOf(s, 'asyncIoStateReceiveMessage');
  assertReadFree(s);
  if (timeout !== undefined) s.readTimeout = timeout;
  if ('userInfo' in o) s.userInfo = o['userInfo'];
  udp.receiver.start(
    target,
    start,
    end,
    callback as ReceiveCallback<Uint8Array | Int8Array>,
    errorCallback as ReceiveCallback<Uint8Array | Int8Array> | null,
    needsAddress,
  );
}
