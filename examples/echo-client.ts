/**
 * An echo client: sends lines to an echo server and prints what comes back.
 *
 *   node examples/dist/echo-client.js PORT [LINE...] [--host ADDRESS]
 *   node examples/dist/echo-client.js PORT [LINE...] --tls [--ca FILE | --insecure]
 *
 * With LINEs it sends them (one per line); without, it sends standard input
 * as it comes (type lines, or pipe a file). When the input ends it sends FIN,
 * prints the rest of the echo, and exits with status 0 if every byte came
 * back, 1 otherwise.
 *
 * What it shows: `createAsyncIoStateAndConnectedTcpSocket` returns the state
 * at once and calls back when connected (or with the failure as an Error);
 * operations may be started from outside the collection (here: stdin's
 * events); `asyncIoStateShutdown(state, 'output')` sends FIN after the queued
 * output, and the state still reads. With `--tls` the same state speaks TLS:
 * the callback runs after the handshake, and the server's certificate is
 * verified (against `--ca`, or the system's roots) unless `--insecure`.
 */
import { parseArgs } from 'node:util';
import {
  asyncIoStateDiscard,
  asyncIoStateReadWithChecking,
  asyncIoStateShutdown,
  asyncIoStateWriteBuffer,
  closeAsyncIoState,
  createAndRunWaitStateCollection,
  createAsyncIoStateAndConnectedTcpSocket,
  waitStateCollectionStopLoop,
  type AsyncIoState,
  type ConnectOptions,
} from '@commio/core';
import { createSslClientContext } from '@commio/ssl';

/** Stdin is paused while this many bytes wait to be sent, and resumed below a quarter of it. */
const MAX_PENDING_INPUT = 1024 * 1024;
const CONNECT_TIMEOUT_SECONDS = 10;

const usage = `usage: echo-client PORT [LINE...] [--host ADDRESS] [--tls [--ca FILE | --insecure]]
  default host 127.0.0.1; no LINE: send standard input
  --tls       speak TLS; the server's certificate is checked against --ca FILE (or the system's roots),
              or not at all with --insecure (testing only)`;

const { values, positionals } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    tls: { type: 'boolean', default: false },
    ca: { type: 'string' },
    insecure: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
  allowPositionals: true,
});
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const [service, ...lines] = positionals;
if (service === undefined || (!values.tls && (values.ca !== undefined || values.insecure)) || (values.ca !== undefined && values.insecure)) {
  console.error(usage);
  process.exit(2);
}
const host = values.host;

/** The TLS connect options: a client context from `@commio/ssl`. */
function tlsOptions(): ConnectOptions {
  try {
    const sslCtx = createSslClientContext(values.ca === undefined ? { verify: !values.insecure } : { caFile: values.ca });
    return { sslCtx };
  } catch (error) {
    console.error(`echo-client: cannot set up TLS: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
const extraOptions: ConnectOptions = values.tls ? tlsOptions() : {};

let sent = 0;
let received = 0;
let inputEnded = false;
let stdinPaused = false;

const collection = createAndRunWaitStateCollection('echo-client');
try {
  createAsyncIoStateAndConnectedTcpSocket(collection, host, service, onConnected, {
    queueOutput: true,
    connectTimeout: CONNECT_TIMEOUT_SECONDS,
    ...extraOptions,
  });
} catch (error) {
  // Misuse (a bad port or host) throws at once, before anything is opened.
  console.error(`echo-client: ${error instanceof Error ? error.message : String(error)}`);
  waitStateCollectionStopLoop(collection);
  process.exit(2);
}

function onConnected(state: AsyncIoState, failure: Error | null): void {
  if (failure !== null) {
    // The failure is an Error with a code (ECONNREFUSED, ERR_COMMIO_CONNECT_TIMEOUT, ...).
    const code = (failure as NodeJS.ErrnoException).code;
    console.error(`echo-client: cannot connect to ${host}:${service}: ${failure.message}${code === undefined ? '' : ` (${code})`}`);
    finish(state, 1);
    return;
  }
  asyncIoStateReadWithChecking(state, onEcho, { elementType: 'unsigned-byte-8' });
  if (lines.length > 0) {
    send(state, Buffer.from(lines.map((line) => `${line}\n`).join('')));
    endInput(state);
    return;
  }
  // Stdin's events come from outside the collection; starting writes there is fine.
  process.stdin.on('data', (chunk: Buffer) => {
    if (state.closed) return;
    send(state, chunk);
    if (state.queuedOutputLength > MAX_PENDING_INPUT) {
      stdinPaused = true;
      process.stdin.pause();
    }
  });
  process.stdin.on('end', () => {
    if (!state.closed) endInput(state);
  });
}

function send(state: AsyncIoState, bytes: Buffer): void {
  sent += bytes.length;
  asyncIoStateWriteBuffer(state, bytes, onSent);
}

function onSent(state: AsyncIoState): void {
  if (state.writeStatus !== null) {
    console.error(`echo-client: write failed: ${String(state.writeStatus)}`);
    finish(state, 1);
    return;
  }
  if (stdinPaused && state.queuedOutputLength < MAX_PENDING_INPUT / 4) {
    stdinPaused = false;
    process.stdin.resume();
  }
}

function endInput(state: AsyncIoState): void {
  inputEnded = true;
  // FIN after the queued output; the echo keeps coming until the server closes.
  asyncIoStateShutdown(state, 'output');
}

/** Prints the echoed bytes. commio never changes the view afterwards, so stdout may keep it without a copy. */
function onEcho(state: AsyncIoState, view: Buffer, end: number): void {
  if (end > 0) {
    process.stdout.write(view);
    received += end;
    asyncIoStateDiscard(state, end);
  }
  const status = state.readStatus;
  if (status === null) return;
  if (status === 'eof' && inputEnded && received === sent) {
    finish(state, 0);
    return;
  }
  console.error(`echo-client: the echo ended early (${String(status)}): ${received} of ${sent} bytes came back`);
  finish(state, 1);
}

function finish(state: AsyncIoState, exitCode: number): void {
  process.exitCode = exitCode;
  closeAsyncIoState(state);
  waitStateCollectionStopLoop(collection);
  if (lines.length === 0) process.stdin.destroy();
}
