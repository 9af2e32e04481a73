/**
 * A line-protocol handler, written once for any commio state: a TCP or TLS
 * connection in a server, or an in-memory state of `@commio/testkit` in a
 * test (see test/testkit-line-protocol.test.ts and the README section
 * "Testing protocol code without sockets").
 *
 * Each line (ended by LF; a CR before it is dropped; at most `MAX_LINE`
 * bytes) is a command, answered by one line:
 *
 *   PING          -> PONG
 *   ECHO text     -> text
 *   SUM 1 2 3     -> 6
 *   QUIT          -> BYE, then the server closes
 *   anything else -> ERR unknown command
 *
 * A line longer than `MAX_LINE` gets `ERR line too long` and ends the
 * session as QUIT does; so does silence for `idleTimeout` seconds (`BYE
 * idle`) and the client's EOF. Ending, the server sends what is pending and
 * its FIN, reads on until the client's EOF, then closes. The state must
 * queue its output (`queueOutput: true`).
 */
import {
  asyncIoStateDiscard,
  asyncIoStateReadWithChecking,
  asyncIoStateShutdown,
  asyncIoStateWriteBuffer,
  closeAsyncIoState,
  type AsyncIoState,
} from '@commio/core';

/** Longest line accepted, in bytes (without its LF). */
export const MAX_LINE = 1024;

const LF = 0x0a;
const CR = 0x0d;

/** The answer to one command line. */
export function answer(line: string): string {
  const [command = '', ...args] = line.split(' ');
  switch (command) {
    case 'PING':
      return 'PONG';
    case 'ECHO':
      return args.join(' ');
    case 'SUM':
      return String(args.reduce((sum, word) => sum + Number(word), 0));
    case 'QUIT':
      return 'BYE';
    default:
      return 'ERR unknown command';
  }
}

/**
 * States done answering. They read on, discarding, until the client's EOF
 * (or the idle timeout), and close once their own FIN is out too: closing
 * with unread input would reset the connection, and a reset can destroy the
 * last reply before the client reads it (TCP does this; so does the
 * in-memory pair of `@commio/testkit`).
 */
const leaving = new WeakMap<AsyncIoState, { shut: boolean; ended: boolean }>();

/** Serves the line protocol on `state` until the client quits, goes idle for `idleTimeout` seconds, or ends. */
export function serveLines(state: AsyncIoState, idleTimeout: number | null = 30): void {
  asyncIoStateReadWithChecking(state, onBytes, { elementType: 'unsigned-byte-8', timeout: idleTimeout });
}

function onBytes(state: AsyncIoState, view: Buffer, end: number): void {
  const status = state.readStatus;
  if (leaving.has(state)) {
    asyncIoStateDiscard(state, end);
    if (status !== null) inputEnded(state);
    return;
  }
  let start = 0;
  // Only the new bytes can hold a new LF: the old ones were searched before.
  let lf = view.indexOf(LF, state.oldLength);
  while (lf !== -1 && lf < end) {
    const line = view.subarray(start, lf > start && view[lf - 1] === CR ? lf - 1 : lf).toString('latin1');
    start = lf + 1;
    const reply = answer(line);
    send(state, reply);
    if (reply === 'BYE') {
      asyncIoStateDiscard(state, end);
      leave(state);
      if (status !== null) inputEnded(state);
      return;
    }
    lf = view.indexOf(LF, start);
  }
  asyncIoStateDiscard(state, start);
  if (end - start > MAX_LINE) {
    send(state, 'ERR line too long');
    asyncIoStateDiscard(state, end - start);
    leave(state);
  } else if (status === 'timeout') {
    send(state, 'BYE idle');
    leave(state);
  } else if (status === 'eof') {
    leave(state);
  } else if (status !== null) {
    closeAsyncIoState(state);
    return;
  }
  if (status !== null) inputEnded(state);
}

function send(state: AsyncIoState, line: string): void {
  asyncIoStateWriteBuffer(state, Buffer.from(`${line}\n`, 'latin1'), ignore);
}

function ignore(): void {
  // Write failures show in writeStatus; the read side notices the connection's end.
}

/** Sends what is queued, then FIN; the state closes once its input ended too. */
function leave(state: AsyncIoState): void {
  leaving.set(state, { shut: false, ended: false });
  asyncIoStateShutdown(state, 'output', { callback: outputShut });
}

function outputShut(state: AsyncIoState): void {
  const progress = leaving.get(state);
  if (progress === undefined) return;
  progress.shut = true;
  if (progress.ended) closeAsyncIoState(state);
}

function inputEnded(state: AsyncIoState): void {
  const progress = leaving.get(state);
  if (progress === undefined) return;
  progress.ended = true;
  if (progress.shut) closeAsyncIoState(state);
}
