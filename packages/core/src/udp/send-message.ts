/** asyncIoStateSendMessage (connected UDP) and asyncIoStateSendMessageToAddress (unconnected UDP). */
import { OperationInProgressError, UnsupportedError } from '../errors.js';
import { checkBuffer, checkFunction, checkOptions, checkRange, checkString, invalid, keys, optionalFunction, optionalSeconds } from '../options/validate.js';
import { resolveService } from '../options/service.js';
import { checkOpenState, type AsyncIoState } from '../state/async-io-state.js';
import type { StateCallback } from '../state/callbacks.js';
import { udpOf } from './udp-state.js';

/** Options of asyncIoStateSendMessage and asyncIoStateSendMessageToAddress. */
export interface SendMessageOptions {
  /** First index to send. @default 0 */
  start?: number;
  /** Index after the last one to send. @default buffer.length */
  end?: number;
  /** Seconds the send may take before its callback runs with writeStatus 'timeout'; also sets `state.writeTimeout`. */
  timeout?: number | null;
  /** Called instead of `callback` when the send fails (`writeStatus` is the error). */
  errorCallback?: StateCallback | null;
  /** Sets `state.userInfo`. */
  userInfo?: unknown;
}

const SEND_KEYS = keys('start', 'end', 'timeout', 'errorCallback', 'userInfo');

/** Checks a send's arguments (state first, then in order) and starts it; `host` null for a connected send. */
function send(
  state: unknown,
  host: string | null,
  port: number,
  buffer: unknown,
  callback: unknown,
  options: unknown,
  what: string,
): void {
  const s = checkOpenState(state);
  const source = checkBuffer(buffer, 'buffer');
  const cb = checkFunction<StateCallback>(callback, 'callback');
  const o = checkOptions(options, SEND_KEYS);
  const [start, end] = checkRange(o['start'], o['end'], source.length);
  const timeout = optionalSeconds(o['timeout'], 'options.timeout');
  const errorCallback = optionalFunction<StateCallback>(o['errorCallback'], 'options.errorCallback');
  const udp = udpOf(s, what);
  if (host === null && !udp.connected) {
    throw new UnsupportedError(`${String(s)} is not connected: send with asyncIoStateSendMessageToAddress`);
  }
  if (host !== null && udp.connected) {
    throw new UnsupportedError(`${String(s)} is connected: send with asyncIoStateSendMessage`);
  }
  if (!s.queueOutput && udp.sender.outstanding > 0) {
    throw new OperationInProgressError(`a send is already in flight on ${String(s)} (create it with queueOutput: true to queue sends)`);
  }
  if (timeout !== undefined) s.writeTimeout = timeout;
  if ('userInfo' in o) s.userInfo = o['userInfo'];
  udp.sender.send(source, start, end, host, port, cb, errorCallback);
}

/**
 * Sends `buffer[start, end)` as one datagram to the peer of a connected UDP
 * state. `callback(state)` runs once it was handed to the kernel, with
 * `writeStatus` `null`; a failure (`ECONNREFUSED` after the peer's ICMP port
 * unreachable, say) goes to `errorCallback` when given, else to `callback`,
 * with `writeStatus` the error; after `timeout` seconds (or the state's
 * `writeTimeout`) it runs with 'timeout'. The buffer must not change until
 * then. Sends queue and complete in order (`queueOutput`, on by default for
 * UDP); without it a second send while one is in flight throws
 * `ERR_COMMIO_OPERATION_IN_PROGRESS`. On an unconnected UDP state (use
 * asyncIoStateSendMessageToAddress) or a TCP state it throws
 * `ERR_COMMIO_UNSUPPORTED`.
 */
export function asyncIoStateSendMessage(
  state: AsyncIoState,
  buffer: Uint8Array | Int8Array,
  callback: StateCallback,
  options?: SendMessageOptions,
): void {
  send(state, null, 0, buffer, callback, options, 'asyncIoStateSendMessage');
}

/**
 * Sends `buffer[start, end)` as one datagram to `hostspec`:`service` from an
 * unconnected UDP state. `hostspec` is an IP literal or a host name, looked
 * up in the socket's family (either family on an `ipv6: 'both'` socket); the
 * address and port a receive got with `needsAddress` work as they are.
 * `service` is a port from 1 to 65535, a decimal string or a service name.
 * Completion, errors, timeout, order and the buffer's lifetime as for
 * asyncIoStateSendMessage; a name that does not resolve fails the send
 * (`writeStatus` the lookup error). On a connected UDP state (use
 * asyncIoStateSendMessage) or a TCP state it throws `ERR_COMMIO_UNSUPPORTED`.
 */
export function asyncIoStateSendMessageToAddress(
  state: AsyncIoState,
  hostspec: string,
  service: number | string,
  buffer: Uint8Array | Int8Array,
  callback: StateCallback,
  options?: SendMessageOptions,
): void {
  checkOpenState(state);
  const host = checkString(hostspec, 'hostspec');
  const port = resolveService(service, 'service');
  if (port === 0) invalid('service', 'a port from 1 to 65535 to send to', service);
  send(state, host, port, buffer, callback, options, 'asyncIoStateSendMessageToAddress');
}
