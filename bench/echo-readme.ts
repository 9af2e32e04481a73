/**
 * Benchmark echo server written exactly as the README teaches (the shape of
 * `examples/echo-server.ts`): read-with-checking, the view written back
 * uncopied on a state with `queueOutput: true`, `asyncIoStateDiscard`, after
 * the client's FIN a shutdown of the output then close. Nothing tuned for the
 * benchmark: module-level callbacks as the example has them, commio's accept
 * defaults, except one socket option:
 *
 * TCP_NODELAY is OFF by default here (`nodelay: false`), because commio's
 * accept default is on while the `node-net` anchor keeps Nagle on; the issue
 * compares with "the same socket options as the anchor". `--nodelay` turns
 * it back on (commio's default).
 *
 *   node bench/dist/echo-readme.js PORT [--tls CERT KEY] [--nodelay]
 */
import tls from 'node:tls';
import {
  AsyncIoState,
  acceptTcpConnectionsCreatingAsyncIoStates,
  asyncIoStateDiscard,
  asyncIoStateReadWithChecking,
  asyncIoStateShutdown,
  asyncIoStateWriteBuffer,
  closeAsyncIoState,
  createAndRunWaitStateCollection,
  type AcceptOptions,
} from '@commio/core';
import { exitOnSignals, parseServerArgs } from './lib/server-args.js';

const usage = 'node echo-readme.js PORT [--tls CERT KEY] [--nodelay]';
const argv = process.argv.slice(2);
const nodelay = argv.includes('--nodelay');
const args = parseServerArgs(
  argv.filter((arg) => arg !== '--nodelay'),
  usage,
);
exitOnSignals();

const collection = createAndRunWaitStateCollection('echo-readme');

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
  if (status === 'eof') {
    if (asyncIoStateShutdown(state, 'output', { callback: closeState }) !== true) closeState(state);
  } else {
    closeState(state);
  }
}

function onWritten(state: AsyncIoState): void {
  if (state.writeStatus !== null) closeState(state);
}

function closeState(state: AsyncIoState): void {
  closeAsyncIoState(state);
}

const options: AcceptOptions = { address: '127.0.0.1', queueOutput: true, initTimeout: 0, handleName: 'echo', nodelay };
if (args.tls !== null) {
  // The README's TLS server passes a secure context as `sslCtx`; the key pair comes from the harness.
  Object.assign(options, { sslCtx: tls.createSecureContext({ cert: args.tls.cert, key: args.tls.key }) });
}
const handle = await acceptTcpConnectionsCreatingAsyncIoStates(collection, args.port, onConnection, options);
process.stderr.write(
  `echo-readme listening on 127.0.0.1:${handle.localPort}${args.tls === null ? '' : ' (TLS)'}, TCP_NODELAY ${nodelay ? 'on' : 'off'}\n`,
);
