/**
 * Graceful drain: drainAcceptingHandle stops accepting at once (the port
 * refuses the next connection), calls drainCallback once, waits for the
 * handle's connections to finish and closes the rest at the timeout;
 * drainWaitStateCollection does it for every handle and state of a
 * collection. Real sockets on loopback throughout.
 */
import net from 'node:net';
import test, { type ExecutionContext } from 'ava';
import {
  AsyncIoState,
  acceptTcpConnectionsCreatingAsyncIoStates,
  asyncIoStateShutdown,
  asyncIoStateWriteBuffer,
  closeAsyncIoState,
  createAsyncIoState,
  drainAcceptingHandle,
  drainWaitStateCollection,
  type AcceptingHandle,
  type AcceptOptions,
  type WaitStateCollection,
} from '@commio/core';
import { checkNoLeaksAfterAll } from './helpers/leaks.js';
import { deferred, nodeOnly, onTestTransport, rawServer, readBytes, withCollection } from './helpers/fixtures.js';
import { connectClient } from './helpers/accept-helpers.js';
import { closed, until } from './helpers/tls-fixtures.js';

checkNoLeaksAfterAll(test);

/** Says goodbye and closes once the goodbye is flushed (what a drainCallback tells a state to do). */
function finish(state: AsyncIoState): void {
  if (state.closed) return;
  asyncIoStateWriteBuffer(state, Buffer.from('bye\n'), () => {});
  const result = asyncIoStateShutdown(state, 'output', { callback: (s: AsyncIoState) => closeAsyncIoState(s) });
  if (result !== true) closeAsyncIoState(state);
}

interface Server {
  handle: AcceptingHandle;
  states: AsyncIoState[];
  drainCalls: number;
  clients: net.Socket[];
}

/** A server whose states idle until told; `connect(n)` opens n clients and waits until their states exist. */
async function server(t: ExecutionContext, c: WaitStateCollection, options: AcceptOptions = {}): Promise<Server & { connect(n: number): Promise<void> }> {
  const s: Server = { handle: null as unknown as AcceptingHandle, states: [], drainCalls: 0, clients: [] };
  let arrived: (() => void) | null = null;
  s.handle = await acceptTcpConnectionsCreatingAsyncIoStates(
    c,
    0,
    (_h, connection) => {
      s.states.push(connection as AsyncIoState);
      arrived?.();
    },
    onTestTransport({
      address: '127.0.0.1',
      queueOutput: true,
      drainCallback: () => {
        s.drainCalls++;
      },
      ...options,
    }),
  );
  const connect = async (n: number): Promise<void> => {
    const want = s.states.length + n;
    const all = new Promise<void>((resolve) => {
      arrived = () => {
        if (s.states.length >= want) resolve();
      };
    });
    for (let i = 0; i < n; i++) {
      const client = await connectClient(s.handle.localPort);
      t.teardown(() => client.destroy());
      s.clients.push(client);
    }
    await all;
  };
  return Object.assign(s, { connect });
}

function refused(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
  });
}

test('drain: the port refuses at once, drainCallback runs once, states that finish are counted as finished', async (t) => {
  const c = withCollection(t);
  let calls = 0;
  const s = await server(t, c, {
    drainCallback: (h) => {
      t.is(h, s.handle);
      calls++;
      for (const state of s.states) finish(state);
    },
  });
  await s.connect(3);
  const goodbyes = s.clients.map((client) => readBytes(client, 4));
  const drained = drainAcceptingHandle(s.handle, { timeout: 10 });
  t.is(await refused(s.handle.localPort), 'ECONNREFUSED', 'the port is released when the call returns');
  t.deepEqual(await drained, { finished: 3, forced: 0 });
  t.is(calls, 1);
  for (const bye of await Promise.all(goodbyes)) t.is(bye.toString(), 'bye\n');
  t.true(s.handle.closed);
});

test('drain: what has not finished by the timeout is closed and counted as forced', async (t) => {
  const c = withCollection(t);
  const s = await server(t, c, {
    drainCallback: () => {
      // Only the first state listens.
      const first = s.states[0];
      if (first !== undefined) finish(first);
    },
  });
  await s.connect(3);
  const gone = s.clients.map((client) => closed(client));
  const started = Date.now();
  t.deepEqual(await drainAcceptingHandle(s.handle, { timeout: 0.2 }), { finished: 1, forced: 2 });
  t.true(Date.now() - started >= 190);
  await Promise.all(gone);
  t.true(s.states.every((state) => state.closed));
});

test('drain: with no connection it resolves at once; a second drain changes nothing, drainCallback ran once', async (t) => {
  const c = withCollection(t);
  const s = await server(t, c);
  t.deepEqual(await drainAcceptingHandle(s.handle, { timeout: 5 }), { finished: 0, forced: 0 });
  t.deepEqual(await drainAcceptingHandle(s.handle, { timeout: 1 }), { finished: 0, forced: 0 });
  t.is(s.drainCalls, 1, 'drainCallback ran once');
});

nodeOnly(test, 'createState: false hands over net.Sockets (refused on the native transport)')('drain: raw sockets (createState: false) are waited for and destroyed at the timeout', async (t) => {
  const c = withCollection(t);
  const handedOver = deferred<net.Socket>();
  const handle = await acceptTcpConnectionsCreatingAsyncIoStates(c, 0, (_h, s) => handedOver.resolve(s as net.Socket), { address: '127.0.0.1', createState: false });
  const client = await connectClient(handle.localPort);
  t.teardown(() => client.destroy());
  const gone = closed(client);
  await handedOver.promise;
  t.deepEqual(await drainAcceptingHandle(handle, { timeout: 0.05 }), { finished: 0, forced: 1 });
  await gone;
});

test('drainWaitStateCollection: every handle drains and the other states get the same deadline', async (t) => {
  const c = withCollection(t);
  const a = await server(t, c, { drainCallback: () => a.states.forEach(finish) });
  const b = await server(t, c);
  await a.connect(2);
  await b.connect(1);
  // A state of the collection no handle made: a wrapped outgoing connection that never finishes.
  const peer = await rawServer(t);
  const outgoing = net.connect({ port: peer.port, host: '127.0.0.1' });
  await new Promise<void>((resolve) => outgoing.once('connect', resolve));
  const wrapped = createAsyncIoState(c, outgoing);
  const result = await drainWaitStateCollection(c, { timeout: 0.3 });
  t.deepEqual(result, { finished: 2, forced: 2 });
  t.true(a.handle.closed && b.handle.closed);
  t.true(wrapped.closed);
  t.true(c.alive, 'the collection itself stays alive');
});

test('drain: bad arguments reject with ERR_COMMIO_INVALID_ARGUMENT and change nothing', async (t) => {
  const c = withCollection(t);
  const s = await server(t, c);
  await t.throwsAsync(drainAcceptingHandle({} as never, { timeout: 1 }), { code: 'ERR_COMMIO_INVALID_ARGUMENT' });
  await t.throwsAsync(drainAcceptingHandle(s.handle, {} as { timeout: number }), { code: 'ERR_COMMIO_INVALID_ARGUMENT' });
  await t.throwsAsync(drainAcceptingHandle(s.handle, { timeout: -1 }), { code: 'ERR_COMMIO_INVALID_ARGUMENT' });
  await t.throwsAsync(drainAcceptingHandle(s.handle, { timeout: 1, extra: 1 } as { timeout: number }), { code: 'ERR_COMMIO_INVALID_ARGUMENT' });
  await t.throwsAsync(drainWaitStateCollection({} as never, { timeout: 1 }), { code: 'ERR_COMMIO_INVALID_ARGUMENT' });
  t.false(s.handle.closed);
  await t.throwsAsync(acceptTcpConnectionsCreatingAsyncIoStates(c, 0, () => {}, { drainCallback: 5 as never }), { code: 'ERR_COMMIO_INVALID_ARGUMENT' });
});

nodeOnly(test, 'PROXY protocol is refused on the native transport')('drain: connections still sending their PROXY header are destroyed and not counted; nothing is left in the collection', async (t) => {
  const c = withCollection(t);
  const handle = await acceptTcpConnectionsCreatingAsyncIoStates(c, 0, () => t.fail('nothing is handed over'), {
    address: '127.0.0.1',
    maxConnections: 10,
    proxyProtocol: { trusted: ['127.0.0.1'] },
  });
  const client = await connectClient(handle.localPort);
  t.teardown(() => client.destroy());
  const gone = closed(client);
  client.write('PROXY TCP4 1.2.3.4');
  await until(() => handle.openConnections === 1);
  t.deepEqual(await drainAcceptingHandle(handle, { timeout: 5 }), { finished: 0, forced: 0 });
  await gone;
  t.is(handle.openConnections, 0);
  t.is(c.memberCount, 0);
});
