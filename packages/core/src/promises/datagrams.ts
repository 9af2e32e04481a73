/** UDP as promises: receiveMessage, sendMessage, sendMessageToAddress. */
import { keys } from '../options/validate.js';
import {
  asyncIoStateReceiveMessage,
  asyncIoStateSendMessage,
  asyncIoStateSendMessageToAddress,
  type AsyncIoState,
} from './callback-api.js';
import { stateOperation, type OtherOptions, type Settle } from './operation.js';
import { readTimeoutError } from './read-some.js';
import { writeTimeoutError } from './write.js';

/** Options of receiveMessage. */
export interface PromiseReceiveMessageOptions {
  /** First index to fill. @default 0 */
  start?: number;
  /** Index after the last one to fill; a longer datagram is truncated to fit. @default buffer.length */
  end?: number;
  /** Seconds to wait for a datagram before rejecting with ReadTimeoutError; also sets `state.readTimeout`, as in the callback API. */
  timeout?: number | null;
  /** Aborts the receive (as asyncIoStateAbort does) and rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** Options of sendMessage and sendMessageToAddress. */
export interface PromiseSendMessageOptions {
  /** First index to send. @default 0 */
  start?: number;
  /** Index after the last one to send. @default buffer.length */
  end?: number;
  /** Seconds the send may take before rejecting with WriteTimeoutError; also sets `state.writeTimeout`, as in the callback API. */
  timeout?: number | null;
  /** Aborts the state's sends in flight (as asyncIoStateAbort does) and rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** One received datagram. */
export interface ReceivedMessage {
  /** Bytes stored in the buffer (a longer datagram was truncated to the range). */
  count: number;
  /** The sender's IP address. */
  address: string;
  /** The sender's port. */
  port: number;
}

const RANGE_KEYS = keys('start', 'end', 'timeout', 'signal');

/**
 * Receives one datagram into `buffer[start, end)` on a UDP state and
 * resolves with its size and sender. Rejects with ReadTimeoutError after
 * `timeout` (or the state's `readTimeout`) seconds, and with the datagram's
 * error (`ECONNREFUSED` from ICMP on a connected socket; UDP errors are not
 * sticky, the next receive may succeed). Aborting `signal` aborts the receive
 * and rejects with its reason.
 */
export function receiveMessage(state: AsyncIoState, buffer: Uint8Array, options?: PromiseReceiveMessageOptions): Promise<ReceivedMessage> {
  return stateOperation<ReceivedMessage>(state, 'input', options, RANGE_KEYS, (other, settle) => {
    asyncIoStateReceiveMessage(
      state,
      buffer,
      (s, _b, count, address, port) => {
        if (s.readStatus === 'timeout') settle.reject(readTimeoutError(s));
        else settle.resolve({ count, address: address ?? '', port: port ?? 0 });
      },
      { ...other, needsAddress: true, errorCallback: (s) => settle.reject(s.readStatus) },
    );
  });
}

/** The callback options of one send, settling its promise. */
function sendOptions(settle: Settle<void>, other: OtherOptions): OtherOptions {
  return { ...other, errorCallback: (s: AsyncIoState) => settle.reject(s.writeStatus) };
}

/** The callback of one send: a timeout rejects, anything else was sent. */
function sent(settle: Settle<void>): (state: AsyncIoState) => void {
  return (state) => {
    if (state.writeStatus === 'timeout') settle.reject(writeTimeoutError(state, 0));
    else settle.resolve();
  };
}

/**
 * Sends `buffer[start, end)` as one datagram on a connected UDP state and
 * resolves once it was handed to the kernel. Rejects with the send's error
 * or WriteTimeoutError. Aborting `signal` aborts every send in flight on the
 * state (as asyncIoStateAbort does): each of their promises rejects with the
 * signal's reason.
 */
export function sendMessage(state: AsyncIoState, buffer: Uint8Array, options?: PromiseSendMessageOptions): Promise<void> {
  return stateOperation(state, 'output', options, RANGE_KEYS, (other, settle: Settle<void>) => {
    asyncIoStateSendMessage(state, buffer, sent(settle), sendOptions(settle, other));
  });
}

/**
 * Sends `buffer[start, end)` as one datagram to `hostspec:service` from an
 * unconnected UDP state (a host name is resolved in the socket's family);
 * otherwise as sendMessage.
 */
export function sendMessageToAddress(
  state: AsyncIoState,
  hostspec: string,
  service: number | string,
  buffer: Uint8Array,
  options?: PromiseSendMessageOptions,
): Promise<void> {
  return stateOperation(state, 'output', options, RANGE_KEYS, (other, settle: Settle<void>) => {
    asyncIoStateSendMessageToAddress(state, hostspec, service, buffer, sent(settle), sendOptions(settle, other));
  });
}
