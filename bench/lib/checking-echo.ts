/**
 * The main benchmark echo: read-with-checking plus queued write-buffer.
 *
 * Each callback writes the whole view back and discards it. The view is
 * written without copying: commio never writes into memory it has handed out,
 * and discarding everything releases the buffer instead of reusing it. At EOF
 * the last bytes are written, then the output is shut down (FIN after the
 * queued writes) and the state closed; any error closes the state at once.
 * The callbacks are module-level functions, so a connection costs no closures.
 */
import {
  asyncIoStateDiscard,
  asyncIoStateReadWithChecking,
  asyncIoStateShutdown,
  asyncIoStateWriteBuffer,
  closeAsyncIoState,
  type AsyncIoState,
} from '@commio/core';

const SHUTDOWN_THEN_CLOSE = { callback: closeAfterShutdown } as const;

function closeAfterShutdown(state: AsyncIoState): void {
  closeAsyncIoState(state);
}

function onWritten(state: AsyncIoState): void {
  if (state.writeStatus instanceof Error) closeAsyncIoState(state);
}

function onBytes(state: AsyncIoState, view: Buffer, end: number): void {
  if (end > 0) {
    asyncIoStateWriteBuffer(state, view, onWritten);
    asyncIoStateDiscard(state, end);
  }
  const status = state.readStatus;
  if (status === null) return;
  if (status === 'eof' && !(state.writeStatus instanceof Error)) asyncIoStateShutdown(state, 'output', SHUTDOWN_THEN_CLOSE);
  else closeAsyncIoState(state);
}

/**
 * Echoes everything `state` receives until EOF, then flushes and closes.
 * The state must have been made with `queueOutput: true`.
 */
export function echoWithChecking(state: AsyncIoState): void {
  asyncIoStateReadWithChecking(state, onBytes);
}
