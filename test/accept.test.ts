import net from 'node:net';
import test from 'ava';
import {
  AsyncIoState,
  AcceptingHandle,
  acceptTcpConnectionsCreatingAsyncIoStates,
  acceptingHandleCollection,
  acceptingHandleLocalPort,
  acceptingHandleName,
  acceptingHandleSocket,
  acceptingHandleUserInfo,
  closeAcceptingHandle,
  closeAsyncIoState,
  closeWaitStateCollection,
  createAndRunWaitStateCollection,
  makeWaitStateCollection,
  waitStateCollectionStopLoop,
  type WaitStateCollection,
} from '@commio/core';
import { checkNoLeaksAfterAll, openHandles, settledOpenHandles } from './helpers/leaks.js';
import { deferred, onTestTransport, testTransport, withCollection } from './helpers/fixtures.js';
import { connectClient, echo, listeningServers, portFree, roundTrip } from './helpers/accept-helpers.js';

/** What is still open (beyond what was open before `baseline`) once closing handles have closed. Use in serial tests. */
async function leftOpen(baseline: Record<string, number>): Promise<Record<string, number>> {
  return settledOpenHandles(baseline, 2000);
}

checkNoLeaksAfterAll(test);

/** On the transport under test (COMMIO_TEST_TRANSPORT). */
const LOOPBACK = onTestTransport({ address: '127.0.0.1', queueOutput: true } as const);

/** The value of a Node-internal symbol property of a socket (its TCP option flags). */
function socketFlag(socket: net.Socket, description: string): unknown {
  const key = Object.getOwnPropertySymbols(socket).find((s) => s.description === description);
  return key === undefined ? undefined : (socket as unknown as Record<symbol, unknown>)[key];
}

test('resolves once listening on a real port (port 0), then echoes through a state', async (t) => {
  const c = withCollection(t);
  const handle = await acceptTcpConnectionsCreatingAsyncIoStates(c, 0, echo, LOOPBACK);
  t.teardown(() => closeAcceptingHandle(handle));
  t.true(handle instanceof AcceptingHandle);
  t.true(handle.localPort > 0);
  t.is(acceptingHandleLocalPort(handle), handle.localPort);
  if (testTransport === 'node') {
    t.is((handle.socket?.address() as net.AddressInfo).port, handle.localPort);
    t.true(handle.socket?.listening);
  } else t.is(handle.socket, null, 'a native listener has no net.Server');
  const client = await connectClient(handle.localPort);
  t.teardown(() => client.destroy());
  t.is(await roundTrip(client, 'hello commio'), 'hello commio');
});

test('a decimal string service and null both mean a port; null picks any free one', async (t) => {
  const c = withCollection(t);
  const a = await acceptTcpConnectionsCreatingAsyncIoStates(c, null, echo, LOOPBACK);
  t.teardown(() => closeAcceptingHandle(a));
  closeAcceptingHandle(a);
  const b = await acceptTcpConnectionsCreatingAsyncIoStates(c, String(a.localPort), echo, LOOPBACK);
  t.teardown(() => closeAcceptingHandle(b));
  t.is(b.localPort, a.localPort);
  const client = await connectClient(b.localPort);
  t.teardown(() => client.destroy());
  t.is(await roundTrip(client, 'x'), 'x');
});

test('initFunction runs through the collection with the listening server, before the promise resolves and before any connection', async (t) => {
  const c = withCollection(t);
  const order: string[] = [];
  let clientSocket: net.Socket | null = null;
  t.teardown(() => clientSocket?.destroy());
  const connected = deferred();
  const promise = acceptTcpConnectionsCreatingAsyncIoStates(
    c,
    0,
    (_h, state) => {
      order.push('connection');
      if (state instanceof AsyncIoState) closeAsyncIoState(state);
      connected.resolve();
    },
    {
      address: '127.0.0.1',
      initFunction: (server) => {
        t.true(server.listening);
        order.push('init');
        // A client that connects before the promise resolved must wait.
        clientSocket = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
        clientSocket.on('error', () => {});
      },
    },
  );
  order.push('called');
  const handle = await promise;
  t.teardown(() => closeAcceptingHandle(handle));
  order.push('resolved');
  await connected.promise;
  t.deepEqual(order, ['called', 'init', 'resolved', 'connection']);
});

test.serial('initFunction throwing rejects with that error and leaves nothing open', async (t) => {
  const c = withCollection(t);
  const boom = new Error('init failed');
  let port = 0;
  const before = openHandles();
  await t.throwsAsync(
    acceptTcpConnectionsCreatingAsyncIoStates(c, 0, echo, {
      address: '127.0.0.1',
      initFunction: (server) => {
        port = (server.address() as net.AddressInfo).port;
        throw boom;
      },
    }),
    { is: boom },
  );
  t.deepEqual(await leftOpen(before), {});
  t.true(await portFree(port));
});

test('connections are handed over as states with nodelay on and keepalive off by default', async (t) => {
  const c = withCollection(t);
  const got = deferred<AsyncIoState>();
  const handle = await acceptTcpConnectionsCreatingAsyncIoStates(c, 0, (h, state) => {
    t.is(h, handle);
    if (state instanceof AsyncIoState) got.resolve(state);
  }, LOOPBACK);
  t.teardown(() => closeAcceptingHandle(handle));
  const client = await connectClient(handle.localPort);
  t.teardown(() => client.destroy());
  const state = await got.promise;
  t.is(state.collection, c);
  t.is(state.readStatus, null);
  t.is(state.name, null, 'accepted states start without the listening name');
  t.is(state.userInfo, null, "the handle's userInfo is not the states'");
  t.is(state.peerAddress?.port, client.localPort);
  // The flags Node.js records on its net.Socket (the native addon sets the same options at accept).
  if (testTransport === 'node') {
    const socket = state.object as net.Socket;
    t.true(socketFlag(socket, 'kSetNoDelay') === true);
    t.not(socketFlag(socket, 'kSetKeepAlive'), true);
  }
  closeAsyncIoState(state);
});

test('nodelay: false and keepalive: true are applied to accepted sockets', async (t) => {
  const c = withCollection(t);
  const got = deferred<net.Socket>();
  const handle = await acceptTcpConnectionsCreatingAsyncIoStates(c, 0, (_h, socket) => {
    if (socket instanceof net.Socket) got.resolve(socket);
  }, { address: '127.0.0.1', nodelay: false, keepalive: true, createState: false });
  t.teardown(() => closeAcceptingHandle(handle));
  const client = await connectClient(handle.localPort);
  t.teardown(() => client.destroy());
  const socket = await got.promise;
  t.teardown(() => socket.destroy());
  t.not(socketFlag(socket, 'kSetNoDelay'), true);
  t.true(socketFlag(socket, 'kSetKeepAlive') === true);
});

test('createState: false hands over the paused raw socket, which the caller owns (it outlives the handle)', async (t) => {
  const c = withCollection(t);
  const got = deferred<net.Socket>();
  const handle = await acceptTcpConnectionsCreatingAsyncIoStates(c, 0, (_h, socket) => {
    t.false(socket instanceof AsyncIoState);
    if (socket instanceof net.Socket) got.resolve(socket);
  }, { address: '127.0.0.1', createState: false });
  t.teardown(() => closeAcceptingHandle(handle));
  const client = await connectClient(handle.localPort);
  t.teardown(() => client.destroy());
  const socket = await got.promise;
  t.teardown(() => socket.destroy());
  t.true(socket.isPaused());
  client.write('early');
  closeAcceptingHandle(handle);
  const data = new Promise<string>((resolve) => socket.once('data', (chunk: Buffer) => resolve(chunk.toString())));
  socket.resume();
  t.is(await data, 'early');
  socket.write('back');
  const back = await new Promise<string>((resolve) => client.once('data', (chunk: Buffer) => resolve(chunk.toString())));
  t.is(back, 'back');
});

test('closeAcceptingHandle frees the port at once, calls back later through the collection, and leaves accepted states alive; idempotent', async (t) => {
  const c = withCollection(t);
  const handle = await acceptTcpConnectionsCreatingAsyncIoStates(c, 0, echo, { ...LOOPBACK, handleName: 'closing', userInfo: 42 });
  const port = handle.localPort;
  const client = await connectClient(port);
  t.teardown(() => client.destroy());
  t.is(await roundTrip(client, 'before'), 'before');
  const calls: WaitStateCollection[] = [];
  const called = deferred();
  closeAcceptingHandle(handle, (collection) => {
    calls.push(collection);
    called.resolve();
  });
  t.deepEqual(calls, [], 'the callback never runs inside the call');
  t.true(handle.closed);
  t.is(handle.collection, null);
  t.is(acceptingHandleCollection(handle), null);
  t.is(handle.socket, null);
  t.is(acceptingHandleSocket(handle), null);
  t.is(handle.localPort, port, 'the port is still known');
  t.is(acceptingHandleName(handle), 'closing');
  t.is(acceptingHandleUserInfo(handle), 42);
  // Bind the same port right away: it is free.
  const rebound = net.createServer();
  await new Promise<void>((resolve, reject) => {
    rebound.once('error', reject);
    rebound.listen({ port, host: '127.0.0.1', exclusive: true }, resolve);
  });
  rebound.close();
  await called.promise;
  t.deepEqual(calls, [c]);
  t.is(await roundTrip(client, 'after'), 'after', 'the accepted state lives on');
  const again = deferred();
  t.notThrows(() => closeAcceptingHandle(handle, () => again.resolve()));
  closeAcceptingHandle(handle);
  await again.promise;
});

test('bad handles and callbacks of closeAcceptingHandle and the readers throw ERR_COMMIO_INVALID_ARGUMENT', async (t) => {
  const c = withCollection(t);
  const handle = await acceptTcpConnectionsCreatingAsyncIoStates(c, 0, echo, LOOPBACK);
  t.teardown(() => closeAcceptingHandle(handle));
  t.throws(() => closeAcceptingHandle({} as unknown as AcceptingHandle), { code: 'ERR_COMMIO_INVALID_ARGUMENT', message: /^handle / });
  t.throws(() => closeAcceptingHandle(handle, 'no' as unknown as () => void), { code: 'ERR_COMMIO_INVALID_ARGUMENT', message: /^callback / });
  t.false(handle.closed, 'a bad callback is refused before anything is closed');
  for (const reader of [acceptingHandleCollection, acceptingHandleSocket, acceptingHandleName, acceptingHandleUserInfo, acceptingHandleLocalPort]) {
    t.throws(() => reader(null as unknown as AcceptingHandle), { code: 'ERR_COMMIO_INVALID_ARGUMENT' });
  }
});

test('userInfo is writable; handleName names the handle, else name, else "Listening"', async (t) => {
  const c = withCollection(t);
  const a = await acceptTcpConnectionsCreatingAsyncIoStates(c, 0, echo, { address: '127.0.0.1' });
  t.teardown(() => closeAcceptingHandle(a));
  t.is(a.name, 'Listening');
  t.is(a.userInfo, null);
  a.userInfo = ['pushed'];
  t.deepEqual(acceptingHandleUserInfo(a), ['pushed']);
  const b = await acceptTcpConnectionsCreatingAsyncIoStates(c, 0, echo, { address: '127.0.0.1', name: 'web' });
  t.teardown(() => closeAcceptingHandle(b));
  t.is(b.name, 'web');
  t.regex(String(b), /accepting-handle web port \d+/);
});

test.serial('accepting on a stopped collection rejects with ERR_COMMIO_COLLECTION_CLOSED before anything opens', async (t) => {
  const c = createAndRunWaitStateCollection('dead');
  waitStateCollectionStopLoop(c);
  const before = listeningServers();
  await t.throwsAsync(acceptTcpConnectionsCreatingAsyncIoStates(c, 0, echo, LOOPBACK), { code: 'ERR_COMMIO_COLLECTION_CLOSED' });
  t.is(listeningServers(), before);
});

test('stopping a created-and-run collection closes its handles and frees their ports', async (t) => {
  const c = createAndRunWaitStateCollection('stopping');
  t.teardown(() => waitStateCollectionStopLoop(c));
  const handle = await acceptTcpConnectionsCreatingAsyncIoStates(c, 0, echo, LOOPBACK);
  waitStateCollectionStopLoop(c);
  t.true(handle.closed);
  t.true(await portFree(handle.localPort));
});

test('closeWaitStateCollection closes the handle; the collection stays usable', async (t) => {
  const c = withCollection(t);
  const handle = await acceptTcpConnectionsCreatingAsyncIoStates(c, 0, echo, LOOPBACK);
  closeWaitStateCollection(c);
  t.true(handle.closed);
  t.true(await portFree(handle.localPort));
  const again = await acceptTcpConnectionsCreatingAsyncIoStates(c, 0, echo, LOOPBACK);
  t.teardown(() => closeAcceptingHandle(again));
  t.false(again.closed);
});

test.serial('closing the collection while initFunction waits rejects with ERR_COMMIO_COLLECTION_CLOSED, nothing left open', async (t) => {
  // A made collection nobody drives: initFunction stays queued.
  const c = makeWaitStateCollection();
  const baseline = openHandles();
  const before = listeningServers();
  const promise = acceptTcpConnectionsCreatingAsyncIoStates(c, 0, echo, {
    address: '127.0.0.1',
    initFunction: () => t.fail('never runs'),
  });
  // A literal address binds before the call returns; then close the collection.
  t.is(listeningServers(), before + 1);
  closeWaitStateCollection(c);
  await t.throwsAsync(promise, { code: 'ERR_COMMIO_COLLECTION_CLOSED' });
  t.deepEqual(await leftOpen(baseline), {});
});

test('a connection function that throws goes to the collection handler with the handle; accepting goes on', async (t) => {
  const errors: unknown[] = [];
  const c = createAndRunWaitStateCollection('throwing accept', { handler: (object, error) => errors.push([object, error]) });
  t.teardown(() => waitStateCollectionStopLoop(c));
  const boom = new Error('boom');
  let calls = 0;
  const second = deferred();
  const handle = await acceptTcpConnectionsCreatingAsyncIoStates(c, 0, (_h, state) => {
    calls++;
    if (state instanceof AsyncIoState) closeAsyncIoState(state);
    if (calls === 1) throw boom;
    second.resolve();
  }, LOOPBACK);
  const first = await connectClient(handle.localPort);
  t.teardown(() => first.destroy());
  await new Promise((resolve) => first.once('close', resolve));
  const next = await connectClient(handle.localPort);
  t.teardown(() => next.destroy());
  await second.promise;
  t.deepEqual(errors, [[handle, boom]]);
});

test('many collections: closing a handle in one does not touch the other', async (t) => {
  const a = withCollection(t, 'a');
  const b = withCollection(t, 'b');
  const ha = await acceptTcpConnectionsCreatingAsyncIoStates(a, 0, echo, LOOPBACK);
  const hb = await acceptTcpConnectionsCreatingAsyncIoStates(b, 0, echo, LOOPBACK);
  t.teardown(() => closeAcceptingHandle(hb));
  const ca = await connectClient(ha.localPort);
  t.teardown(() => ca.destroy());
  closeAcceptingHandle(ha);
  waitStateCollectionStopLoop(a);
  t.false(hb.closed);
  t.is(hb.collection, b);
  const cb = await connectClient(hb.localPort);
  t.teardown(() => cb.destroy());
  t.is(await roundTrip(cb, 'still here'), 'still here');
});

test.serial('reuseport: true is refused with ERR_COMMIO_UNSUPPORTED on a Node.js without reusePort, never ignored', async (t) => {
  const c = withCollection(t);
  // Node's reusePort: on the Node transport (native refuses reuseport: native-core.test.ts).
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  const supported = major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
  if (supported) {
    const handle = await acceptTcpConnectionsCreatingAsyncIoStates(c, 0, echo, { ...LOOPBACK, transport: 'node', reuseport: true });
    closeAcceptingHandle(handle);
    t.pass();
    return;
  }
  const before = listeningServers();
  await t.throwsAsync(acceptTcpConnectionsCreatingAsyncIoStates(c, 0, echo, { ...LOOPBACK, transport: 'node', reuseport: true }), { code: 'ERR_COMMIO_UNSUPPORTED' });
  t.is(listeningServers(), before);
});

function bad(title: string, argument: string, call: (c: WaitStateCollection) => Promise<unknown>): void {
  test.serial(`bad argument rejects before anything opens: ${title}`, async (t) => {
    const c = withCollection(t);
    const before = listeningServers();
    const error = await t.throwsAsync(call(c), { code: 'ERR_COMMIO_INVALID_ARGUMENT' });
    t.is((error as unknown as { argument: string }).argument, argument);
    t.is(listeningServers(), before);
  });
}
const accept = acceptTcpConnectionsCreatingAsyncIoStates as unknown as (c: unknown, s: unknown, f: unknown, o?: unknown) => Promise<AcceptingHandle>;
bad('not a collection', 'collection', () => accept({}, 0, echo));
bad('connectionFunction not a function', 'connectionFunction', (c) => accept(c, 0, 'echo'));
bad('unknown option key (typo initTimout)', 'options.initTimout', (c) => accept(c, 0, echo, { initTimout: 1 }));
bad('options not an object', 'options', (c) => accept(c, 0, echo, 5));
bad('negative initTimeout', 'options.initTimeout', (c) => accept(c, 0, echo, { initTimeout: -1 }));
bad('initTimeout as a string', 'options.initTimeout', (c) => accept(c, 0, echo, { initTimeout: '1' }));
bad('port 70000', 'service', (c) => accept(c, 70000, echo));
bad('negative port', 'service', (c) => accept(c, -1, echo));
bad('fractional port', 'service', (c) => accept(c, 80.5, echo));
bad('unknown service name', 'service', (c) => accept(c, 'no-such-service-commio', echo));
bad('service of a wrong type', 'service', (c) => accept(c, true, echo));
bad('service as an array', 'service', (c) => accept(c, [80], echo));
bad('{ fd } with a negative fd', 'service.fd', (c) => accept(c, { fd: -1 }, echo));
bad('{ fd } with an unknown key', 'service.port', (c) => accept(c, { fd: 3, port: 80 }, echo));
bad('a net.Server not listening', 'service', (c) => accept(c, net.createServer(), echo));
bad('bad ipv6 keyword', 'options.ipv6', (c) => accept(c, 0, echo, { ipv6: 'yes' }));
bad('address of a wrong type', 'options.address', (c) => accept(c, 0, echo, { address: 127 }));
bad('empty address', 'options.address', (c) => accept(c, 0, echo, { address: '' }));
bad('empty address list', 'options.address', (c) => accept(c, 0, echo, { address: [] }));
bad('bad entry in an address list', 'options.address[1]', (c) => accept(c, 0, echo, { address: ['127.0.0.1', 7] }));
bad('IPv4 literal with ipv6: true', 'options.address', (c) => accept(c, 0, echo, { address: '127.0.0.1', ipv6: true }));
bad('IPv6 literal with ipv6: false', 'options.address', (c) => accept(c, 0, echo, { address: '::1', ipv6: false }));
bad('backlog 0', 'options.backlog', (c) => accept(c, 0, echo, { backlog: 0 }));
bad('backlog not an integer', 'options.backlog', (c) => accept(c, 0, echo, { backlog: 1.5 }));
bad('maxConnections 0', 'options.maxConnections', (c) => accept(c, 0, echo, { maxConnections: 0 }));
bad('nodelay not a boolean', 'options.nodelay', (c) => accept(c, 0, echo, { nodelay: 1 }));
bad('keepalive not a boolean', 'options.keepalive', (c) => accept(c, 0, echo, { keepalive: 'yes' }));
bad('createState not a boolean', 'options.createState', (c) => accept(c, 0, echo, { createState: null }));
bad('reuseport not a boolean', 'options.reuseport', (c) => accept(c, 0, echo, { reuseport: 1 }));
bad('queueOutput not a boolean', 'options.queueOutput', (c) => accept(c, 0, echo, { queueOutput: 'no' }));
bad('initFunction not a function', 'options.initFunction', (c) => accept(c, 0, echo, { initFunction: 3 }));
bad('signal not an AbortSignal', 'options.signal', (c) => accept(c, 0, echo, { signal: {} }));
bad('readTimeout negative', 'options.readTimeout', (c) => accept(c, 0, echo, { readTimeout: -0.5 }));
bad('maxQueuedOutput 0', 'options.maxQueuedOutput', (c) => accept(c, 0, echo, { maxQueuedOutput: 0 }));
bad('maxBufferedInput not a number', 'options.maxBufferedInput', (c) => accept(c, 0, echo, { maxBufferedInput: '1' }));
bad('address with an adopted { fd }', 'options.address', (c) => accept(c, { fd: 3 }, echo, { address: '127.0.0.1' }));
bad('ipv6 with an adopted { fd }', 'options.ipv6', (c) => accept(c, { fd: 3 }, echo, { ipv6: true }));
