/**
 * The second benchmark echo: read-buffer plus write-buffer into a buffer the
 * program owns (one per connection, in `state.userInfo`).
 *
 * read-buffer completes only when its range is full, so an echo of arbitrary
 * message sizes asks for one byte, then takes whatever else is already
 * buffered with get-buffered-data, and writes the lot back. The next read
 * starts when that write completes (the buffer is then free again); bytes
 * that arrive meanwhile wait in the state's read-ahead. One read and one write
 * per chunk, no queued output. At EOF: shutdown output, then close.
 */
import {
  asyncIoStateGetBufferedData,
  asyncIoStateReadBuffer,
  asyncIoStateShutdown,
  asyncIoStateWriteBuffer,
  closeAsyncIoState,
  type AsyncIoState,
} from '@commio/core';

const FIRST_BYTE = { end: 1 } as const;
const SHUTDOWN_THEN_CLOSE = { callback: closeAfterShutdown } as const;

function closeAfterShutdown(state: AsyncIoState): void {
  closeAsyncIoState(state);
}

function readNext(state: AsyncIoState): void {
  asyncIoStateReadBuffer(state, state.userInfo as Buffer, onRead, FIRST_BYTE);
}

function onRead(state: AsyncIoState, buffer: Buffer, count: number): void {
  const status = state.readStatus;
  if (status instanceof Error) {
    closeAsyncIoState(state);
    return;
  }
  let length = count;
  if (count > 0 && state.bufferedDataLength > 0) length += asyncIoStateGetBufferedData(state, buffer, { start: count });
  if (length > 0) asyncIoStateWriteBuffer(state, buffer, onWritten, { end: length });
  // count is 1 whenever the read was satisfied: only an exhausted input ends it short.
  if (status === 'eof') asyncIoStateShutdown(state, 'output', SHUTDOWN_THEN_CLOSE);
  else if (length === 0) closeAsyncIoState(state);
}

function onWritten(state: AsyncIoState): void {
  if (state.writeStatus instanceof Error) closeAsyncIoState(state);
  else if (!state.closed && state.readStatus === null) readNext(state);
}

/** Echoes everything `state` receives through a `bufferBytes` buffer of its own until EOF, then flushes and closes. */
export function echoWithReadBuffer(state: AsyncIoState, bufferBytes: number): void {
  state.userInfo = Buffer.allocUnsafeSlow(bufferBytes);
  readNext(state);
}
