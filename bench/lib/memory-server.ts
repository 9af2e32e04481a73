/**
 * Server side of the memory / scale driver (forked by idle-memory.js, talks
 * over the IPC channel). Holds every connection it accepts and echoes what it
 * receives; on request it collects garbage and reports its memory, or writes
 * a heap snapshot. Run with --expose-gc.
 *
 * Kinds:
 * - `net`: a raw `net` server, `socket.on('data', d => socket.write(d))`
 *   (the lightest usual Node echo: the reference for RSS per connection);
 * - `net-pipe`: a raw `net` server, `socket.pipe(socket)`;
 * - `commio`: commio states serving the main benchmark echo (read-with-checking
 *   active on every connection, queued write-buffer);
 * - `commio-noread`: commio states with no operation started (the floor of an
 *   idle state);
 * - `commio-native`: as `commio`, on the native transport (refuses to run
 *   when the addon is unavailable);
 * - `native-raw`: an echo straight on the native addon's binding (no commio
 *   state): the floor of the native transport.
 */
import net from 'node:net';
import v8 from 'node:v8';
import {
  acceptTcpConnectionsCreatingAsyncIoStates,
  createAndRunWaitStateCollection,
  nativeTransportStatus,
  type AcceptOptions,
  type AsyncIoState,
} from '@commio/core';
import { nativeLoop } from '@commio/native';
import { echoWithChecking } from './checking-echo.js';

/** The kinds of server the driver can measure. */
export const SERVER_KINDS = ['net', 'net-pipe', 'commio', 'commio-noread', 'commio-native', 'native-raw'] as const;
/** One of SERVER_KINDS. */
export type ServerKind = (typeof SERVER_KINDS)[number];

/** Requests the driver sends to a server process. */
export type ServerRequest = { cmd: 'count' } | { cmd: 'measure' } | { cmd: 'snapshot'; path: string } | { cmd: 'exit' };

/** A server's memory after collecting garbage, in bytes. */
export interface MemoryReport {
  type: 'memory';
  accepted: number;
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  /**
   * Resident bytes of V8's young generation (the new space's physical size).
   * V8 grows it in steps while many objects survive (as while thousands of
   * connections open), and a garbage collection does not give it back, so
   * it moves the RSS of a run by megabytes whatever the connections hold.
   */
  youngGen: number;
}

/** Replies of a server process. */
export type ServerReply = { type: 'ready'; port: number } | { type: 'count'; accepted: number } | MemoryReport | { type: 'snapshot'; path: string };

let accepted = 0;

function noop(): void {
  // Client resets are expected at teardown.
}

function onNetData(this: net.Socket, chunk: Buffer): void {
  this.write(chunk);
}

function onNetEnd(this: net.Socket): void {
  this.end();
}

async function listen(kind: ServerKind): Promise<number> {
  if (kind === 'net' || kind === 'net-pipe') {
    const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
      accepted++;
      socket.on('error', noop);
      if (kind === 'net-pipe') socket.pipe(socket);
      else socket.on('data', onNetData).on('end', onNetEnd);
    });
    await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, resolve));
    return (server.address() as net.AddressInfo).port;
  }
  if (kind === 'native-raw') return listenNative();
  const collection = createAndRunWaitStateCollection(`memory-${kind}`);
  const serve = kind === 'commio-noread' ? null : echoWithChecking;
  const options: AcceptOptions = { address: '127.0.0.1', ipv6: false, queueOutput: true, backlog: 4096 };
  if (kind === 'commio-native') {
    const status = nativeTransportStatus();
    if (!status.available) throw new Error(`the native transport is unavailable (${status.reason ?? 'unknown'})`);
    options.transport = 'native';
  }
  const handle = await acceptTcpConnectionsCreatingAsyncIoStates(
    collection,
    0,
    (_handle, state) => {
      accepted++;
      if (serve !== null) serve(state as AsyncIoState);
    },
    options,
  );
  return handle.localPort;
}

function listenNative(): number {
  const loop = nativeLoop();
  if (loop === null) throw new Error('the native addon is unavailable');
  const listener = loop.listen('127.0.0.1', 0, { noDelay: true, backlog: 4096 }, {
    onAccept(id) {
      accepted++;
      loop.attach(id, {
        onData: (bytes) => loop.write(id, bytes),
        onEnd: () => {
          if (loop.shutdown(id)) loop.close(id);
        },
        onOutputShut: () => loop.close(id),
        onError: () => loop.close(id, true),
        onWritten: noop,
        onConnect: noop,
      });
    },
    onAcceptError: () => setTimeout(() => loop.setReading(listener, true), 100),
  });
  return loop.address(listener, false)?.port ?? 0;
}

function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

async function measure(): Promise<MemoryReport> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run the memory server with --expose-gc');
  for (let i = 0; i < 3; i++) {
    gc();
    await turn();
  }
  const m = process.memoryUsage();
  const youngGen = v8.getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.physical_space_size ?? 0;
  return { type: 'memory', accepted, rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers, youngGen };
}

function reply(message: ServerReply): void {
  process.send?.(message);
}

/** Runs a memory server of `kind` until the driver says exit (or disconnects). */
export async function runMemoryServer(kind: ServerKind): Promise<void> {
  if (process.send === undefined) throw new Error('the memory server runs under idle-memory.js (IPC channel)');
  process.on('disconnect', () => process.exit(0));
  process.on('message', (request: ServerRequest) => {
    switch (request.cmd) {
      case 'count':
        reply({ type: 'count', accepted });
        return;
      case 'measure':
        void measure().then(reply);
        return;
      case 'snapshot':
        void measure().then(() => {
          v8.writeHeapSnapshot(request.path);
          reply({ type: 'snapshot', path: request.path });
        });
        return;
      case 'exit':
        process.exit(0);
    }
  });
  reply({ type: 'ready', port: await listen(kind) });
}
