/** The write operation: write-buffer, with queued output and the output cap. */
import { OperationInProgressError } from '../errors.js';
import { checkBuffer, checkFunction, checkOptions, checkRange, keys, type CheckedOptions, optionalFunction, optionalSeconds } from '../options/validate.js';
import { checkOpenState, type AsyncIoState } from './async-io-state.js';
import type { BufferCallback } from './callbacks.js';

/** Options of asyncIoStateWriteBuffer. */
export interface WriteBufferOptions<B> {
  /** First index to write. @default 0 */
  start?: number;
  /** Index after the last one to write. @default buffer.length */
  end?: number;
  /** Seconds the write may take before writeStatus becomes 'timeout'; also sets `state.writeTimeout`. */
  timeout?: number | null;
  /** Called instead of `callback` when the write fails. */
  errorCallback?: BufferCallback<B> | null;
  /** Sets `state.userInfo`. */
  userInfo?: unknown;
}

const WRITE_BUFFER_KEYS = keys('start', 'end', 'timeout', 'errorCallback', 'userInfo');
/** How a UDP state's kind refuses a stream write. */
const WRITE_REFUSAL = 'use asyncIoStateSendMessage or asyncIoStateSendMessageToAddress';

/**
 * Writes `buffer[start, end)`. `callback(state, buffer, count)` runs once the
 * bytes were handed to the kernel; the buffer must not change until then.
 * Without `queueOutput` a second write while one is in flight throws
 * `ERR_COMMIO_OPERATION_IN_PROGRESS`; with it, writes queue and complete in
 * order. A write that would take the pending bytes past `maxQueuedOutput`
 * fails with writeStatus `ERR_COMMIO_OUTPUT_OVERFLOW` (sticky).
 */
export function asyncIoStateWriteBuffer<B extends Uint8Array | Int8Array>(
  state: AsyncIoState,
  buffer: B,
  callback: BufferCallback<B>,
  options?: WriteBufferOptions<B>,
): void {
  const s = checkOpenState(state);
  const source = checkBuffer(buffer, 'buffer');
  checkFunction(callback, 'callback');
  // Without options (the common case) nothing else is to check or allocate.
  let start = 0;
  let end = source.length;
  let timeout: number | null | undefined;
  let errorCallback: BufferCallback<B> | null = null;
  let o: CheckedOptions | undefined;
  if (options !== undefined) {
    o = checkOptions(options, WRITE_BUFFER_KEYS);
    [start, end] = checkRange(o['start'], o['end'], source.length);
    timeout = optionalSeconds(o['timeout'], 'options.timeout');
    errorCallback = optionalFunction<BufferCallback<B>>(o['errorCallback'], 'options.errorCallback');
  }
  const writer = s.kind.streamWriter(s, WRITE_REFUSAL);
  if (!s.queueOutput && writer.activeCount > 0) {
    throw new OperationInProgressError(`a write is already in flight on ${String(s)} (create it with queueOutput: true to queue writes)`);
  }
  if (s.sslBusy) throw new OperationInProgressError(`a TLS attach, detach or handshake runs on ${String(s)}`);
  if (timeout !== undefined) s.writeTimeout = timeout;
  if (o !== undefined && 'userInfo' in o) s.userInfo = o['userInfo'];
  writer.write(
    source,
    start,
    end,
    callback,
    errorCallback,
  );
}
