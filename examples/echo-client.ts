/**
 * An echo client: sends lines to an echo server and prints what comes back.
 *
 *   node examples/dist/echo-client.js PORT [LINE...] [--host ADDRESS]
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
 * output, and the state still reads.
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
} from '@commio/core';

/** Stdin is paused while this many bytes wait to be sent, and resumed below a quarter of it. */
const MAX_PENDING_INPUT = 1024 * 1024;
const CONNECT_TIMEOUT_SECONDS = 10;

const usage = 'usage: echo-client PORT [LINE...] [--host ADDRESS]   (default host 127.0.0.1; no LINE: send standard input)';

const { values, positionals } = parseArgs({
  options: { host: { type: 'string', default: '127.0.0.1' }, help: { type: 'boolean', short: 'h', default: false } },
  allowPositionals: true,
});
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const [service, ...lines] = positionals;
if (service === undefined) {
  console.error(usage);
  process.exit(2);
}
const host = values.host;

let sent = 0;
let received = 0;
let inputEnded = false;
let stdinPaused = false;

const collection = createAndRunWaitStateCollection('echo-client');
createAsyncIoStateAndConnectedTcpSocket(collection, host, service, onConnected, {
  queueOutput: true,
  connectTimeout: CONNECT_TIMEOUT_SECONDS,
});

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
