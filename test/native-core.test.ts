/**
 * `transport: 'native'` through core's API: accepting and connecting on the
 * native addon (echo, addresses, maxConnections holding the backlog, close,
 * abort, shutdown, connect failure and timeout), the option's checks, and
 * what is refused. The plain-TCP behaviour of states is covered by rerunning
 * read, read-with-checking and write with COMMIO_TEST_TRANSPORT=native.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import net from 'node:net';
import { promisify } from 'node:util';
import {
  acceptTcpConnectionsCreatingAsyncIoStates,
  asyncIoStateAbort,
  asyncIoStateAttachSsl,
  asyncIoStateReadBuffer,
  asyncIoStateShutdown,
  asyncIoStateWriteBuffer,
  closeAcceptingHandle,
  closeAsyncIoState,
  createAsyncIoStateAndConnectedTcpSocket,
  nativeTransportStatus,
  acceptingHandleStats,
  type AsyncIoState,
} from '@commio/core';
import { checkNoLeaksAfterAll } from './helpers/leaks.js';
import { deferred, rawClient, readBytes, refusingTcpPort, withCollection } from './helpers/fixtures.js';
import { echo, roundTrip } from './helpers/accept-helpers.js';
import { checkNativeNoLeaksAfterAll, nativeTest } from './helpers/native-fixtures.js';

checkNoLeaksAfterAll(test);
if (process.env['COMMIO_TEST_TRANSPORT'] !== 'native') checkNativeNoLeaksAfterAll(test);
const nativeOnly = nativeTest(test);

nativeOnly('nativeTransportStatus says the addon is available', (t) => {
  t.deepEqual(nativeTransportStatus(), { available: true, reason: null });
});

nativeOnly('an echo server on the native transport: states, addresses, localPort', async (t) => {
  const c = withCollection(t);
  const accepted = deferred<AsyncIoState>();
  const handle = await acceptTcpConnectionsCreatingAsyncIoStates(
    c,
    0,
    (h, s) => {
      accepted.resolve(s as AsyncIoState);
      echo(h, s);
    },
    { address: '127.0.0.1', transport: 'native', queueOutput: true },
  );
  t.teardown(() => closeAcceptingHandle(handle));
  t.true(handle.localPort > 0);
  t.is(handle.socket, null, 'a native listener has no net.Server');
  const client = await rawClient(t, handle.localPort);
  t.is(await roundTrip(client, 'hello native'), 'hello native');
  const state = await accepted.promise;
  t.is(typeof state.object, 'number');
  t.like(state.address, { address: '127.0.0.1', port: handle.localPort, family: 'IPv4' });
  t.like(state.peerAddress, { address: '127.0.0.1', port: client.localPort });
  client.end();
});

nativeOnly('maxConnections 1 on the native transport: the second connection waits in the backlog until the first closes', async (t) => {
  const c = withCollection(t);
  const states: AsyncIoState[] = [];
  const arrived: (() => void)[] = [];
  const handle = await acceptTcpConnectionsCreatingAsyncIoStates(
    c,
    0,
    (_h, s) => {
      states.push(s as AsyncIoState);
      arrived.shift()?.();
    },
    { address: '127.0.0.1', transport: 'native', maxConnections: 1 },
  );
  t.teardown(() => closeAcceptingHandle(handle));
  const first = new Promise<void>((resolve) => arrived.push(resolve));
  await rawClient(t, handle.localPort);
  await first;
  t.is(handle.openConnections, 1);
  t.false(handle.accepting);
  const second = new Promise<void>((resolve) => arrived.push(resolve));
  await rawClient(t, handle.localPort);
  // Connected in the kernel, not accepted: nothing arrives while the first is open.
  await new Promise<void>((resolve) => setImmediate(resolve));
  t.is(states.length, 1);
  closeAsyncIoState(states[0]!);
  await second;
  t.is(states.length, 2);
  closeAsyncIoState(states[1]!);
});

nativeOnly('connect on the native transport: write, shutdown output, EOF reaches the peer', async (t) => {
  const c = withCollection(t);
  const peerSocket = deferred<net.Socket>();
  const server = net.createServer((s) => peerSocket.resolve(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const port = (server.address() as net.AddressInfo).port;
  const connected = deferred<AsyncIoState>();
  const state = createAsyncIoStateAndConnectedTcpSocket(c, '127.0.0.1', port, (s, f) => (f === null ? connected.resolve(s) : connected.reject(f)), { transport: 'native' });
  t.teardown(() => closeAsyncIoState(state));
  await connected.promise;
  const peer = await peerSocket.promise;
  t.teardown(() => peer.destroy());
  const ended = new Promise<void>((resolve) => peer.once('end', resolve));
  const got = readBytes(peer, 5);
  asyncIoStateWriteBuffer(state, Buffer.from('12345'), () => {});
  t.is((await got).toString(), '12345');
  t.true(asyncIoStateShutdown(state, 'output'));
  await ended;
});

nativeOnly('STARTTLS (asyncIoStateAttachSsl) on a native state is ERR_COMMIO_UNSUPPORTED', async (t) => {
  const c = withCollection(t);
  const server = net.createServer((s) => s.resume());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const port = (server.address() as net.AddressInfo).port;
  const connected = deferred<AsyncIoState>();
  const state = createAsyncIoStateAndConnectedTcpSocket(c, '127.0.0.1', port, (s, f) => (f === null ? connected.resolve(s) : connected.reject(f)), { transport: 'native' });
  t.teardown(() => closeAsyncIoState(state));
  await connected.promise;
  t.throws(() => asyncIoStateAttachSsl(state, () => t.fail('refused: no callback'), { sslCtx: true, sslSide: 'client' }), { code: 'ERR_COMMIO_UNSUPPORTED' });
});

nativeOnly('abort of a waiting read, then close, on the native transport: the abort callback runs, the peer sees EOF', async (t) => {
  const c = withCollection(t);
  const peerSocket = deferred<net.Socket>();
  const server = net.createServer((s) => peerSocket.resolve(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const port = (server.address() as net.AddressInfo).port;
  const connected = deferred<AsyncIoState>();
  const state = createAsyncIoStateAndConnectedTcpSocket(c, '127.0.0.1', port, (s, f) => (f === null ? connected.resolve(s) : connected.reject(f)), { transport: 'native' });
  await connected.promise;
  const peer = await peerSocket.promise;
  t.teardown(() => peer.destroy());
  const ended = new Promise<void>((resolve) => peer.once('end', resolve));
  peer.resume();
  asyncIoStateReadBuffer(state, Buffer.alloc(4), () => t.fail('aborted: no callback'));
  const aborted = deferred();
  asyncIoStateAbort(state, () => aborted.resolve(), 'input');
  await aborted.promise;
  closeAsyncIoState(state);
  await ended;
  t.pass();
});

nativeOnly('a refused native connect closes the state before the callback gets the error', async (t) => {
  const c = withCollection(t);
  const port = await refusingTcpPort(t);
  const outcome = deferred<{ state: AsyncIoState; failure: Error | null; closed: boolean }>();
  createAsyncIoStateAndConnectedTcpSocket(c, '127.0.0.1', port, (state, failure) => outcome.resolve({ state, failure, closed: state.closed }), { transport: 'native' });
  const { failure, closed } = await outcome.promise;
  t.is(failure === null ? null : (failure as NodeJS.ErrnoException).code, 'ECONNREFUSED');
  t.true(closed);
});

test('transport is checked: other values are ERR_COMMIO_INVALID_ARGUMENT, native with sslCtx ERR_COMMIO_UNSUPPORTED, before anything opens', async (t) => {
  const c = withCollection(t);
  const cb = (): void => t.fail('no callback');
  t.throws(() => createAsyncIoStateAndConnectedTcpSocket(c, '127.0.0.1', 1, cb, { transport: 'uv' as never }), { code: 'ERR_COMMIO_INVALID_ARGUMENT' });
  await t.throwsAsync(acceptTcpConnectionsCreatingAsyncIoStates(c, 0, cb, { transport: 42 as never }), { code: 'ERR_COMMIO_INVALID_ARGUMENT' });
  const sslCtx = true;
  t.throws(() => createAsyncIoStateAndConnectedTcpSocket(c, '127.0.0.1', 1, cb, { transport: 'native', sslCtx }), { code: 'ERR_COMMIO_UNSUPPORTED' });
  await t.throwsAsync(acceptTcpConnectionsCreatingAsyncIoStates(c, 0, cb, { transport: 'native', sslCtx }), { code: 'ERR_COMMIO_UNSUPPORTED' });
  // proxyProtocol and reuseport are not refused on native (proxy-protocol.test.ts, the reuseport test below).
  await t.throwsAsync(acceptTcpConnectionsCreatingAsyncIoStates(c, 0, cb, { transport: 'native', initFunction: () => {} }), { code: 'ERR_COMMIO_UNSUPPORTED' });
  await t.throwsAsync(acceptTcpConnectionsCreatingAsyncIoStates(c, 0, cb, { transport: 'native', createState: false }), { code: 'ERR_COMMIO_UNSUPPORTED' });
  // A host name is looked up (connect.test.ts connects to localhost on both transports).
});

test('without the addon, transport native runs on the Node transport and nativeTransportStatus says why', async (t) => {
  const { stdout: output } = await promisify(execFile)(process.execPath, ['--import=tsx', '--conditions=commio-source', 'test/helpers/native-fallback-child.ts'], {
    env: { ...process.env, COMMIO_NATIVE_PATH: '/nonexistent/commio_native.node' },
    timeout: 30_000,
  });
  const result = JSON.parse(output.trim()) as { status: { available: boolean; reason: string | null }; echoed: string; onNodeServer: boolean };
  t.false(result.status.available);
  t.regex(result.status.reason ?? '', /nonexistent/);
  t.is(result.echoed, 'still served');
  t.true(result.onNodeServer);
});

nativeOnly('reuseport on the native transport (any Node.js): two handles share one port and both are served; without it the second bind fails', async (t) => {
  const c = withCollection(t);
  const first = await acceptTcpConnectionsCreatingAsyncIoStates(c, 0, echo, { transport: 'native', reuseport: true, address: '127.0.0.1', queueOutput: true });
  t.teardown(() => closeAcceptingHandle(first));
  const port = first.localPort;
  const second = await acceptTcpConnectionsCreatingAsyncIoStates(c, port, echo, { transport: 'native', reuseport: true, address: '127.0.0.1', queueOutput: true });
  t.teardown(() => closeAcceptingHandle(second));
  t.is(second.localPort, port);
  // The kernel spreads connections over both sockets: each handle ends up serving some.
  for (let i = 0; i < 200 && (acceptingHandleStats(first).accepted === 0 || acceptingHandleStats(second).accepted === 0); i++) {
    const client = await rawClient(t, port);
    t.is(await roundTrip(client, `hello ${i}`), `hello ${i}`);
    client.destroy();
  }
  t.true(acceptingHandleStats(first).accepted > 0 && acceptingHandleStats(second).accepted > 0, 'both sockets accepted connections');
  await t.throwsAsync(acceptTcpConnectionsCreatingAsyncIoStates(c, port, echo, { transport: 'native', address: '127.0.0.1', initTimeout: 0 }), {
    code: 'ERR_COMMIO_BIND_TIMEOUT',
  });
});

test.serial('in a cluster worker, port 0 on the native transport is refused before anything opens (each worker would get its own port)', async (t) => {
  const c = withCollection(t);
  const cb = (): void => t.fail('no callback');
  // What cluster sets in a worker's environment (and what commio looks at, beside cluster.isWorker).
  process.env['NODE_UNIQUE_ID'] = '1';
  try {
    const error = await t.throwsAsync(acceptTcpConnectionsCreatingAsyncIoStates(c, 0, cb, { transport: 'native', address: '127.0.0.1' }));
    const native = nativeTransportStatus().available;
    // Without the addon the Node transport is used, where cluster shares port 0 as usual (not tried here: no primary).
    if (native) t.like(error, { code: 'ERR_COMMIO_UNSUPPORTED' });
    else t.pass();
  } finally {
    delete process.env['NODE_UNIQUE_ID'];
  }
});
