/**
 * An echo server: every byte a client sends comes back, in order.
 *
 *   node examples/dist/echo-server.js PORT [--host ADDRESS]
 *
 * Listens on 127.0.0.1:PORT (`0` = any free port; the port is printed). This
 * is the shape the benchmark measures: read-with-checking plus queued
 * write-buffer. The view a read-with-checking callback gets is never
 * modified by commio afterwards, so it is written back without a copy and
 * then discarded. After the client's FIN the server flushes what is pending,
 * sends its own FIN and closes. SIGINT/SIGTERM stop it.
 */
import { parseArgs } from 'node:util';
import {
  AsyncIoState,
  acceptTcpConnectionsCreatingAsyncIoStates,
  asyncIoStateDiscard,
  asyncIoStateReadWithChecking,
  asyncIoStateShutdown,
  asyncIoStateWriteBuffer,
  closeAsyncIoState,
  createAndRunWaitStateCollection,
  waitStateCollectionStopLoop,
} from '@commio/core';

const usage = 'usage: echo-server PORT [--host ADDRESS]   (PORT 0 = any free port; default host 127.0.0.1)';

const { values, positionals } = parseArgs({
  options: { host: { type: 'string', default: '127.0.0.1' }, help: { type: 'boolean', short: 'h', default: false } },
  allowPositionals: true,
});
if (values.help) {
  console.log(usage);
  process.exit(0);
}
if (positionals.length !== 1) {
  console.error(usage);
  process.exit(2);
}
const service = positionals[0] as string;

const collection = createAndRunWaitStateCollection('echo');

function onConnection(_handle: unknown, connection: unknown): void {
  if (!(connection instanceof AsyncIoState)) return;
  asyncIoStateReadWithChecking(connection, onBytes, { elementType: 'unsigned-byte-8' });
}

/** Writes the new bytes back as they are, then drops them from the state's buffer. */
function onBytes(state: AsyncIoState, view: Buffer, end: number): void {
  if (end > 0) {
    asyncIoStateWriteBuffer(state, view, onWritten);
    asyncIoStateDiscard(state, end);
  }
  const status = state.readStatus;
  if (status === null) return;
  // The read has ended (this was its last call).
  if (status === 'eof') {
    // FIN goes out after the pending writes; close once it has.
    if (asyncIoStateShutdown(state, 'output', { callback: closeState }) !== true) closeState(state);
  } else {
    closeState(state);
  }
}

function onWritten(state: AsyncIoState): void {
  // A failed write (the peer reset) ends the connection.
  if (state.writeStatus !== null) closeState(state);
}

function closeState(state: AsyncIoState): void {
  closeAsyncIoState(state);
}

try {
  const handle = await acceptTcpConnectionsCreatingAsyncIoStates(collection, service, onConnection, {
    address: values.host,
    queueOutput: true,
    initTimeout: 0,
    handleName: 'echo',
  });
  console.log(`echo: listening on ${values.host}:${handle.localPort}`);
} catch (error) {
  console.error(`echo: cannot listen: ${error instanceof Error ? error.message : String(error)}`);
  waitStateCollectionStopLoop(collection);
  process.exit(1);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  // Stopping a created-and-run collection closes its handle and every state.
  process.on(signal, () => waitStateCollectionStopLoop(collection));
}
