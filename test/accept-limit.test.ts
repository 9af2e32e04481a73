import net from 'node:net';
import { performance } from 'node:perf_hooks';
import test from 'ava';
import {
  AsyncIoState,
  acceptTcpConnectionsCreatingAsyncIoStates,
  closeAcceptingHandle,
  closeAsyncIoState,
  type AcceptingHandle,
} from '@commio/core';
import { checkNoLeaksAfterAll } from './helpers/leaks.js';
import { nodeOnly, onTestTransport, readBytes, testTransport, withCollection } from './helpers/fixtures.js';
import { captureLog, connectClient, echo, listenQueue, roundTrip } from './helpers/accept-helpers.js';

checkNoLeaksAfterAll(test);

/** Enough time for a wrong implementation to hand a connection over (a correct one never does): only ever used to show that nothing happens. */
const QUIET_MS = 150;

function quiet(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, QUIET_MS));
}

function acceptedByNode(handle: AcceptingHandle): Promise<number> {
  return new Promise((resolve, reject) => {
    handle.socket?.getConnections((error, count) => (error === null ? resolve(count) : reject(error)));
  });
}

/** Collects handed-over connections; `nth(i)` resolves when the i-th (from 0) arrived. */
function collector(onConnection: (handle: AcceptingHandle, connection: AsyncIoState | net.Socket) => void = () => {}) {
  const connections: (AsyncIoState | net.Socket)[] = [];
  const waiting = new Map<number, (c: AsyncIoState | net.Socket) => void>();
  return {
    connections,
    fn: (handle: AcceptingHandle, connection: AsyncIoState | net.Socket): void => {
      connections.push(connection);
      onConnection(handle, connection);
      waiting.get(connections.length - 1)?.(connection);
    },
    nth(i: number): Promise<AsyncIoState | net.Socket> {
      const have = connections[i];
      if (have !== undefined) return Promise.resolve(have);
      return new Promise((resolve) => waiting.set(i, resolve));
    },
  };
}

test('maxConnections 2: the third connection waits in the kernel backlog (not accepted, not reset) until a state closes, then is served', async (t) => {
  const c = withCollection(t);
  const got = collector(echo);
  const handle = await acceptTcpConnectionsCreatingAsyncIoStates(c, 0, got.fn, onTestTransport({ address: '127.0.0.1', maxConnections: 2, queueOutput: true }));
  t.teardown(() => closeAcceptingHandle(handle));
  t.is(handle.openConnections, 0);
  const first = await connectClient(handle.localPort);
  const second = await connectClient(handle.localPort);
  t.teardown(() => first.destroy());
  t.teardown(() => second.destroy());
  await got.nth(1);
  t.is(handle.openConnections, 2);
  t.false(handle.accepting);

  const third = await connectClient(handle.localPort);
  t.teardown(() => third.destroy());
  let thirdClosed = false;
  third.on('close', () => (thirdClosed = true));
  third.write('third');
  await quiet();
  t.is(got.connections.length, 2, 'not handed over');
  // A native listener has no net.Server to ask: the kernel's accept queue (below) shows it.
  if (testTransport === 'node') t.is(await acceptedByNode(handle), 2, 'not even accepted: it waits in the kernel backlog');
  const queues = listenQueue(handle.localPort);
  if (queues === null) t.log('ss is not available: the kernel accept queue is not checked');
  else t.deepEqual(queues.map((q) => q.waiting), [1], 'the kernel holds it in the accept queue');
  t.false(thirdClosed, 'not reset or closed');
  t.is(await roundTrip(first, 'one'), 'one', 'the open ones are served meanwhile');

  const closedAt = performance.now();
  closeAsyncIoState(got.connections[0] as AsyncIoState);
  await got.nth(2);
  t.log(`handed over ${(performance.now() - closedAt).toFixed(2)} ms after a state closed`);
  if (queues !== null) t.deepEqual(listenQueue(handle.localPort)?.map((q) => q.waiting), [0]);
  t.is((await readBytes(third, 5)).toString(), 'third');
  t.is(handle.openConnections, 2);
  t.false(handle.accepting);
});

test('maxConnections holds again and again as connections come and go', async (t) => {
  const c = withCollection(t);
  const got = collector(echo);
  const handle = await acceptTcpConnectionsCreatingAsyncIoStates(c, 0, got.fn, onTestTransport({ address: '127.0.0.1', maxConnections: 1, queueOutput: true }));
  t.teardown(() => closeAcceptingHandle(handle));
  const clients = await Promise.all([0, 1, 2, 3].map(() => connectClient(handle.localPort)));
  t.teardown(() => {
    for (const client of clients) client.destroy();
  });
  for (let i = 0; i < clients.length; i++) {
    const state = (await got.nth(i)) as AsyncIoState;
    t.is(handle.openConnections, 1);
    t.is(got.connections.length, i + 1, 'one at a time');
    const client = clients.find((cl) => cl.localPort === state.peerAddress?.port);
    if (client === undefined) throw new Error('unknown peer');
    t.is(await roundTrip(client, `n${i}`), `n${i}`);
    closeAsyncIoState(state);
  }
});

nodeOnly(test, 'createState: false hands over net.Sockets (refused on the native transport)')('maxConnections with createState: false counts raw sockets until they close', async (t) => {
  const c = withCollection(t);
  const got = collector();
  const handle = await acceptTcpConnectionsCreatingAsyncIoStates(c, 0, got.fn, { address: '127.0.0.1', maxConnections: 1, createState: false });
  t.teardown(() => closeAcceptingHandle(handle));
  const a = await connectClient(handle.localPort);
  const b = await connectClient(handle.localPort);
  t.teardown(() => a.destroy());
  t.teardown(() => b.destroy());
  const raw = (await got.nth(0)) as net.Socket;
  t.true(raw instanceof net.Socket);
  await quiet();
  t.is(got.connections.length, 1);
  raw.destroy();
  const next = (await got.nth(1)) as net.Socket;
  t.teardown(() => next.destroy());
  t.true(next instanceof net.Socket);
});

test('closing a handle held at maxConnections frees the port; its states live on', async (t) => {
  const c = withCollection(t);
  const got = collector(echo);
  const handle = await acceptTcpConnectionsCreatingAsyncIoStates(c, 0, got.fn, onTestTransport({ address: '127.0.0.1', maxConnections: 1, queueOutput: true }));
  const client = await connectClient(handle.localPort);
  t.teardown(() => client.destroy());
  await got.nth(0);
  t.false(handle.accepting);
  closeAcceptingHandle(handle);
  t.is(await roundTrip(client, 'alive'), 'alive');
  await t.throwsAsync(connectClient(handle.localPort), { code: 'ECONNREFUSED' });
  closeAsyncIoState(got.connections[0] as AsyncIoState);
});

nodeOnly(test.serial, 'it emits the error on the net.Server (native listeners: reliability and accept-emfile tests)')('an accept error stops accepting for 100 ms (connections wait in the backlog), doubling while errors go on, reset by a good accept', async (t) => {
  const c = withCollection(t);
  const log = captureLog('commio:accept');
  t.teardown(() => log.stop());
  const got = collector(echo);
  const handle = await acceptTcpConnectionsCreatingAsyncIoStates(c, 0, got.fn, { address: '127.0.0.1', queueOutput: true });
  t.teardown(() => closeAcceptingHandle(handle));
  const server = handle.socket as net.Server;
  // What libuv before 1.45 reported (and Node.js emits on the server) when accept fails.
  const emfile = (): Error => Object.assign(new Error('accept EMFILE'), { code: 'EMFILE', errno: -24, syscall: 'accept' });

  server.emit('error', emfile());
  const stoppedAt = performance.now();
  t.false(handle.accepting);
  await log.waitFor(/accept failed: EMFILE: not accepting for 100 ms/);
  const client = await connectClient(handle.localPort);
  t.teardown(() => client.destroy());
  await got.nth(0);
  const waited = performance.now() - stoppedAt;
  t.true(waited >= 80, `handed over after ${waited.toFixed(1)} ms`);
  t.true(handle.accepting);
  t.is(await roundTrip(client, 'after'), 'after');

  // Errors in a row double the pause; a good accept starts over.
  const step = async (pattern: RegExp): Promise<string> => {
    const line = await log.waitFor(pattern);
    log.lines.length = 0;
    return line;
  };
  log.lines.length = 0;
  server.emit('error', emfile());
  await step(/accepting again/);
  server.emit('error', emfile());
  t.regex(await step(/not accepting for \d+ ms/), /200 ms/);
  await step(/accepting again/);
  const other = await connectClient(handle.localPort);
  t.teardown(() => other.destroy());
  await got.nth(1);
  server.emit('error', emfile());
  t.regex(await step(/not accepting for \d+ ms/), /100 ms/);
  await step(/accepting again/);
});
