/**
 * The main example: a line-based chat server.
 *
 *   node examples/dist/chat-server.js [PORT] [--host ADDRESS] [--idle SECONDS]
 *   node examples/dist/chat-server.js [PORT] --tls [--cert FILE --key FILE]
 *   PORT=7000 node examples/dist/chat-server.js
 *
 * Join with `nc 127.0.0.1 PORT` (or `telnet 127.0.0.1 PORT`); with `--tls`,
 * `openssl s_client -quiet -connect 127.0.0.1:PORT`. Every line a client
 * sends goes to every other client; joins and leaves are announced;
 * `/nick NAME`, `/who`, `/help` and `/quit` are commands.
 *
 * PORT defaults to 7000; when 7000 is taken, the server listens on a free
 * port instead (and says which). A port given explicitly (`0` = any free
 * port) is used as is: if it is taken, the server exits with status 1.
 *
 * What it shows:
 * - read-with-checking splits lines without copying: each callback gets a
 *   view of everything buffered, resumes the scan for '\n' at
 *   `state.oldLength` (what the previous call already scanned), and discards
 *   the complete lines;
 * - queued output (`queueOutput: true`) lets one broadcast write the same
 *   buffer to many states. Each state's queue is bounded
 *   (`maxQueuedOutput`): a client that stops reading cannot stall the others
 *   or grow memory; past the bound its writes fail with
 *   ERR_COMMIO_OUTPUT_OVERFLOW and it is disconnected;
 * - an idle limit (`readTimeout`), a line-length limit, and `maxBufferedInput`
 *   as the hard bound on bytes held per client;
 * - a graceful drain on SIGINT/SIGTERM (`drainAcceptingHandle`): the port is
 *   released at once, `drainCallback` tells everyone and flushes their
 *   goodbyes, the drain waits for them (at most 2 s) and closes the rest;
 *   the process then exits 0. A second signal stops at once;
 * - TLS is a matter of accept options (`sslCtx` from `@commio/ssl`): the rest
 *   of the server does not change, since a TLS state reads and writes like a
 *   plain one. Without `--cert`/`--key` a self-signed certificate is made in
 *   memory; with them, missing files are generated (self-signed, the key
 *   with mode 0600) and existing ones used.
 */
import { parseArgs } from 'node:util';
import {
  AsyncIoState,
  BufferOverflowError,
  OutputOverflowError,
  acceptTcpConnectionsCreatingAsyncIoStates,
  applyInWaitStateCollectionProcess,
  asyncIoStateDiscard,
  asyncIoStateFinish,
  asyncIoStateReadWithChecking,
  asyncIoStateShutdown,
  asyncIoStateWriteBuffer,
  drainAcceptingHandle,
  closeAsyncIoState,
  createAndRunWaitStateCollection,
  waitStateCollectionStopLoop,
  type AcceptingHandle,
  type AcceptOptions,
  type CommioError,
} from '@commio/core';
import { createSslServerContext } from '@commio/ssl';

/** The port tried when none is given. */
const DEFAULT_PORT = 7000;
/** Longest line a client may send (bytes, without the newline). */
const MAX_LINE_BYTES = 4096;
/** Bytes of output a client may have pending before it is dropped as too slow. */
const MAX_QUEUED_OUTPUT = 256 * 1024;
/**
 * Bytes of input held per client. Lines are bounded in the read callback;
 * this is the hard memory bound. It must exceed what one read can deliver
 * (Node reads up to 64 KiB at a time, possibly many short lines at once).
 */
const MAX_BUFFERED_INPUT = 128 * 1024;
/** Seconds a client may stay silent before it is disconnected. */
const DEFAULT_IDLE_SECONDS = 600;
/** Seconds the stop waits for goodbyes to be flushed before closing everything. */
const STOP_GRACE_SECONDS = 2;

const NEWLINE = 0x0a;
const EOL = Buffer.from('\n');
const RETURN = 0x0d;
const SLASH = 0x2f;
const NICK = /^[\w-]{1,24}$/;

const usage = `usage: chat-server [PORT] [--host ADDRESS] [--idle SECONDS] [--tls [--cert FILE --key FILE]]
  PORT       port to listen on (or the PORT variable); default ${DEFAULT_PORT}, or a free one when ${DEFAULT_PORT} is taken
  --host     address to listen on; default 127.0.0.1 ('*' for every interface)
  --idle     seconds of silence before a client is dropped; 0 for no limit; default ${DEFAULT_IDLE_SECONDS}
  --tls      speak TLS; --cert/--key name PEM files (generated, self-signed, when missing);
             without them a self-signed certificate is made in memory`;

/**
 * One connected client, kept in its state's `userInfo`. It is in the room
 * until it leaves; its connection may still be flushing after that.
 */
interface Client {
  readonly state: AsyncIoState;
  name: string;
  /** `name: `, ready to prefix the client's lines. */
  prefix: Buffer;
}

// ------------------------------------------------------------------ options

const { values, positionals } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    idle: { type: 'string' },
    tls: { type: 'boolean', default: false },
    cert: { type: 'string' },
    key: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
  allowPositionals: true,
});
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const explicitPort = positionals[0] ?? process.env['PORT'];
const idleSeconds = values.idle === undefined ? DEFAULT_IDLE_SECONDS : Number(values.idle);
const certFile = values.cert;
const keyFile = values.key;
if (
  positionals.length > 1 ||
  !Number.isFinite(idleSeconds) ||
  idleSeconds < 0 ||
  (certFile === undefined) !== (keyFile === undefined) ||
  (certFile !== undefined && !values.tls)
) {
  console.error(usage);
  process.exit(2);
}

/**
 * With `--tls` every accepted connection gets TLS before the connection
 * function sees it. Handshakes are bounded (10 s by default); a failed one
 * never reaches the room, it is only logged.
 */
function tlsAcceptOptions(): AcceptOptions {
  try {
    const sslCtx = createSslServerContext(
      certFile === undefined || keyFile === undefined ? { selfSigned: true } : { certFile, keyFile, selfSigned: true },
    );
    return { sslCtx, sslErrorCallback: (error) => console.log(`chat: a TLS handshake failed: ${error.message}`) };
  } catch (error) {
    console.error(`chat: cannot set up TLS: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
const tlsOptions: AcceptOptions = values.tls ? tlsAcceptOptions() : {};

// --------------------------------------------------------------------- room

const collection = createAndRunWaitStateCollection('chat');
const room = new Set<Client>();
let guests = 0;
let stopping = false;

function textLine(text: string): Buffer {
  return Buffer.from(`${text}\n`);
}

/** Queues `message` to one client; the buffer is never modified, so it may be shared. */
function send(client: Client, message: Buffer): void {
  asyncIoStateWriteBuffer(client.state, message, onWritten);
}

/** Queues `message` to every client but `from`. */
function broadcast(from: Client | null, message: Buffer): void {
  for (const client of room) if (client !== from) send(client, message);
}

/** Every write's callback: a failed write (too slow, or the peer is gone) drops the client. */
function onWritten(state: AsyncIoState): void {
  const status = state.writeStatus;
  if (status === null) return;
  const client = state.userInfo as Client;
  if (status instanceof OutputOverflowError) leave(client, 'too slow', 'drop');
  else leave(client, 'connection lost', 'drop');
}

function onConnection(_handle: AcceptingHandle, connection: unknown): void {
  if (!(connection instanceof AsyncIoState)) return;
  const state = connection;
  if (stopping) {
    closeState(state);
    return;
  }
  const name = `guest-${++guests}`;
  const client: Client = { state, name, prefix: Buffer.from(`${name}: `) };
  const others = [...room].map((c) => c.name);
  room.add(client);
  const peer = state.peerAddress;
  console.log(`chat: ${name} joined from ${peer === null ? '?' : `${peer.address}:${peer.port}`}, ${room.size} online`);
  send(
    client,
    textLine(
      `* welcome, you are ${name}. ${others.length === 0 ? 'Nobody else is here yet.' : `Online: ${others.join(', ')}.`} Commands: /nick NAME, /who, /help, /quit`,
    ),
  );
  broadcast(client, textLine(`* ${name} joined`));
  // `userInfo` given to an operation is kept on the state, as in LispWorks.
  asyncIoStateReadWithChecking(state, onInput, { userInfo: client, elementType: 'unsigned-byte-8' });
}

/**
 * The read-with-checking callback. `view[0, end)` is everything buffered;
 * the bytes before `state.oldLength` were scanned by the previous call and
 * hold no newline (complete lines are always discarded), so the scan resumes
 * there. The view stays valid only during this call.
 */
function onInput(state: AsyncIoState, view: Buffer, end: number): void {
  const client = state.userInfo as Client;
  if (!room.has(client)) {
    // It left while input was still coming (the server is stopping): ignore the rest.
    asyncIoStateFinish(state);
    return;
  }
  let lineStart = 0;
  let scan = state.oldLength;
  for (;;) {
    const newline = view.indexOf(NEWLINE, scan);
    if (newline === -1) break;
    onLine(client, view.subarray(lineStart, newline));
    if (!room.has(client)) {
      // The line was /quit.
      if (!state.closed) asyncIoStateFinish(state);
      return;
    }
    lineStart = newline + 1;
    scan = lineStart;
  }
  const status = state.readStatus;
  if (status === null) {
    if (end - lineStart > MAX_LINE_BYTES) {
      leave(client, 'line too long', 'flush', `* lines are limited to ${MAX_LINE_BYTES} bytes, bye`);
      if (!state.closed) asyncIoStateFinish(state);
      return;
    }
    if (lineStart > 0) asyncIoStateDiscard(state, lineStart);
    return;
  }
  // The last call of the read: end of input, idle timeout or an error.
  if (status === 'eof') {
    if (lineStart < end) onLine(client, view.subarray(lineStart, end));
    leave(client, null, 'flush');
  } else if (status === 'timeout') {
    leave(client, 'idle', 'flush', `* no input for ${idleSeconds} s, bye`);
  } else {
    leave(client, status instanceof BufferOverflowError ? 'flooding' : 'connection lost', 'drop');
  }
}

/** One line from `client` (without its newline): a command or a message for the others. */
function onLine(client: Client, bytes: Buffer): void {
  const line = bytes.length > 0 && bytes[bytes.length - 1] === RETURN ? bytes.subarray(0, -1) : bytes;
  if (line.length === 0) return;
  if (line[0] === SLASH) {
    onCommand(client, line.toString('utf8').trim());
    return;
  }
  // One buffer, written to every other client.
  broadcast(client, Buffer.concat([client.prefix, line, EOL]));
}

function onCommand(client: Client, command: string): void {
  const [verb = '', ...rest] = command.split(/\s+/);
  switch (verb) {
    case '/nick': {
      const name = rest.join(' ');
      if (!NICK.test(name)) {
        send(client, textLine('* a nick is 1 to 24 letters, digits, _ or -'));
      } else if ([...room].some((c) => c.name === name)) {
        send(client, textLine(`* ${name} is taken`));
      } else {
        const old = client.name;
        client.name = name;
        client.prefix = Buffer.from(`${name}: `);
        console.log(`chat: ${old} is now ${name}`);
        broadcast(null, textLine(`* ${old} is now ${name}`));
      }
      return;
    }
    case '/who':
      send(client, textLine(`* online: ${[...room].map((c) => c.name).join(', ')}`));
      return;
    case '/help':
      send(client, textLine('* /nick NAME to rename, /who to list who is here, /quit to leave; anything else goes to everyone'));
      return;
    case '/quit':
      leave(client, null, 'flush', '* bye');
      return;
    default:
      send(client, textLine(`* unknown command ${verb} (try /help)`));
  }
}

/**
 * Takes `client` out of the room and ends its connection: `'flush'` sends
 * `farewell` and what is pending, then FIN, then closes; `'drop'` closes at
 * once (the connection is broken or the client too slow to wait for).
 */
function leave(client: Client, reason: string | null, mode: 'flush' | 'drop', farewell?: string): void {
  if (!room.delete(client)) return;
  const why = reason === null ? '' : ` (${reason})`;
  console.log(`chat: ${client.name} left${why}, ${room.size} online`);
  if (!stopping) broadcast(null, textLine(`* ${client.name} left${why}`));
  const state = client.state;
  if (state.closed) return;
  if (mode === 'drop' || state.writeStatus !== null) {
    closeState(state);
    return;
  }
  if (farewell !== undefined) send(client, textLine(farewell));
  // FIN goes out once the queued output is flushed; close after that.
  const result = asyncIoStateShutdown(state, 'output', { callback: closeState });
  if (result !== true) closeState(state);
}

function closeState(state: AsyncIoState): void {
  closeAsyncIoState(state);
}

// -------------------------------------------------------------- start, stop

let handle: AcceptingHandle;

async function listen(service: number | string): Promise<AcceptingHandle> {
  return acceptTcpConnectionsCreatingAsyncIoStates(collection, service, onConnection, {
    address: values.host,
    // One try: a chat server should say at once that its port is taken.
    initTimeout: 0,
    handleName: 'chat',
    queueOutput: true,
    maxQueuedOutput: MAX_QUEUED_OUTPUT,
    maxBufferedInput: MAX_BUFFERED_INPUT,
    readTimeout: idleSeconds === 0 ? null : idleSeconds,
    // Called once when the drain starts (the port is closed by then): everyone is told and flushed.
    drainCallback: () => {
      for (const client of [...room]) leave(client, null, 'flush', '* the server is shutting down, bye');
    },
    ...tlsOptions,
  });
}

function portInUse(error: unknown): boolean {
  return (error as CommioError | null)?.code === 'ERR_COMMIO_BIND_TIMEOUT';
}

try {
  if (explicitPort !== undefined) {
    handle = await listen(explicitPort);
  } else {
    try {
      handle = await listen(DEFAULT_PORT);
    } catch (error) {
      if (!portInUse(error)) throw error;
      console.log(`chat: port ${DEFAULT_PORT} is in use; listening on a free port instead`);
      handle = await listen(0);
    }
  }
} catch (error) {
  const message = portInUse(error) ? `port ${String(explicitPort)} is in use` : error instanceof Error ? error.message : String(error);
  console.error(`chat: cannot listen: ${message}`);
  waitStateCollectionStopLoop(collection);
  process.exit(1);
}

const shown = values.host === '*' || values.host === '0.0.0.0' || values.host === '::' ? '127.0.0.1' : values.host;
const target = shown.includes(':') ? `[${shown}]` : shown;
console.log(`chat: listening on ${values.host}:${handle.localPort}${values.tls ? ' (TLS)' : ''}`);
if (values.tls) console.log(`chat: join with: openssl s_client -quiet -connect ${target}:${handle.localPort}`);
else console.log(`chat: join with: nc ${target} ${handle.localPort}`);

function stop(signal: string): void {
  if (stopping) {
    finishStop();
    return;
  }
  stopping = true;
  console.log(`chat: ${signal}: stopping`);
  void drainAcceptingHandle(handle, { timeout: STOP_GRACE_SECONDS }).then(({ finished, forced }) => {
    console.log(`chat: drained: ${finished} connections finished, ${forced} closed at the deadline`);
    finishStop();
  });
}

function finishStop(): void {
  if (!collection.alive) return;
  // Closes every state still open; nothing is left to keep the process running.
  waitStateCollectionStopLoop(collection);
  console.log('chat: stopped');
}

// Signal handlers run outside the collection: hand the work to it, so it runs
// serially with the callbacks.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (collection.alive) applyInWaitStateCollectionProcess(collection, stop, signal);
  });
}
