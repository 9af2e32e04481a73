/**
 * An echo server: every byte a client sends comes back, in order.
 *
 *   node examples/dist/echo-server.js PORT [--host ADDRESS]
 *   node examples/dist/echo-server.js --tls PORT [CERT KEY]
 *
 * Listens on 127.0.0.1:PORT (`0` = any free port; the port is printed). This
 * is the shape the benchmark measures: read-with-checking plus queued
 * write-buffer. The view a read-with-checking callback gets is never
 * modified by commio afterwards, so it is written back without a copy and
 * then discarded. After the client's FIN the server flushes what is pending,
 * sends its own FIN and closes. SIGINT/SIGTERM stop it.
 *
 * With `--tls` it speaks TLS with the PEM certificate and key in CERT and
 * KEY (generated, self-signed, when both files are missing), or with a
 * self-signed certificate made in memory. The echo code does not change.
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
  type AcceptOptions,
} from '@commio/core';
import { createSslServerContext } from '@commio/ssl';

const usage = 'usage: echo-server PORT [--host ADDRESS] [--tls [CERT KEY]]   (PORT 0 = any free port; default host 127.0.0.1)';

const { values, positionals } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    tls: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
  allowPositionals: true,
});
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const [service, certFile, keyFile] = positionals;
if (service === undefined || positionals.length === 2 || positionals.length > 3 || (positionals.length === 3 && !values.tls)) {
  console.error(usage);
  process.exit(2);
}

/** The TLS accept options: a server context from `@commio/ssl`. */
function tlsOptions(): AcceptOptions {
  try {
    const sslCtx = createSslServerContext(certFile === undefined || keyFile === undefined ? { selfSigned: true } : { certFile, keyFile, selfSigned: true });
    // A failed handshake concerns only that client: log it, keep serving.
    return { sslCtx, sslErrorCallback: (error) => console.error(`echo: a TLS handshake failed: ${error.message}`) };
  } catch (error) {
    console.error(`echo: cannot set up TLS: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
const extraOptions: AcceptOptions = values.tls ? tlsOptions() : {};

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
    ...extraOptions,
  });
  console.log(`echo: listening on ${values.host}:${handle.localPort}${values.tls ? ' (TLS)' : ''}`);
} catch (error) {
  console.error(`echo: cannot listen: ${error instanceof Error ? error.message : String(error)}`);
  waitStateCollectionStopLoop(collection);
  process.exit(1);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  // Stopping a created-and-run collection closes its handle and every state.
  process.on(signal, () => waitStateCollectionStopLoop(collection));
}
