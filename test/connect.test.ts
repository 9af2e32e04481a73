/**
 * createAsyncIoStateAndConnectedTcpSocket against plain `node:net` servers
 * and commio's own accept, all on loopback; connect timeouts on the fake
 * clock of @commio/testkit (serial tests: the clock is process-wide).
 */
import test, { type ExecutionContext } from 'ava';
import net from 'node:net';
import { spawn } from 'node:child_process';
import {
  createAsyncIoStateAndConnectedTcpSocket,
  acceptTcpConnectionsCreatingAsyncIoStates,
  closeAcceptingHandle,
  applyInWaitStateCollectionProcess,
  asyncIoStateReadBuffer,
  asyncIoStateWriteBuffer,
  asyncIoStateAbortAndClose,
  asyncIoStateShutdown,
  closeAsyncIoState,
  ConnectTimeoutError,
  type AsyncIoState,
} from '@commio/core';
import { installFakeClock } from '@commio/testkit';
import { checkNoLeaksAfterAll } from './helpers/leaks.js';
import { deferred, nodeOnly, onTestTransport, rawServer, readBytes, refusingTcpPort, withCollection } from './helpers/fixtures.js';

checkNoLeaksAfterAll(test);

type ConnectOptions = NonNullable<Parameters<typeof createAsyncIoStateAndConnectedTcpSocket>[4]>;

/** Connects and resolves with the callback's arguments. */
function connect(t: ExecutionContext, host: string, service: number | string, options?: ConnectOptions): { state: AsyncIoState; result: Promise<[AsyncIoState, Error | null]> } {
  const c = withCollection(t);
  const done = deferred<[AsyncIoState, Error | null]>();
  let inside = true;
  const state = createAsyncIoStateAndConnectedTcpSocket(c, host, service, (s, failure) => {
    t.false(inside, 'never inside the call');
    done.resolve([s, failure]);
  }, onTestTransport(options));
  inside = false;
  t.teardown(() => closeAsyncIoState(state));
  return { state, result: done.promise };
}

/** A port nothing listens on (bound for a moment, then released). */
async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A loopback port where connecting hangs: a child process listens with a
 * backlog of 1 and never accepts (its loop is blocked), and two connections
 * fill its queue, so the kernel drops further SYNs.
 */
async function hangingPort(t: ExecutionContext): Promise<number> {
  const child = spawn(
    process.execPath,
    [
      '-e',
      `const s = require('net').createServer();
       s.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
         process.stdout.write(s.address().port + '\\n');
         Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
       });`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const fillers: net.Socket[] = [];
  t.teardown(async () => {
    for (const socket of fillers) socket.destroy();
    child.kill('SIGKILL');
    await exited;
  });
  const port = await new Promise<number>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(Number(String(d).trim()))));
  for (let i = 0; i < 3; i++) {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => {});
    fillers.push(socket);
    // The first two fit the accept queue; the third already hangs.
    if (i < 2) await new Promise((resolve) => socket.once('connect', resolve));
  }
  return port;
}

test('connects: callback(state, null), then the state reads and writes', async (t) => {
  const accepted = deferred<net.Socket>();
  const { port } = await rawServer(t, (socket) => accepted.resolve(socket));
  const { state, result } = connect(t, '127.0.0.1', port, { userInfo: 'client', name: 'c1', readTimeout: 5, writeTimeout: 6, queueOutput: true });
  t.false(state.closed);
  const [s, failure] = await result;
  t.is(s, state);
  t.is(failure, null);
  t.is(state.userInfo, 'client');
  t.is(state.name, 'c1');
  t.is(state.readTimeout, 5);
  t.is(state.writeTimeout, 6);
  t.true(state.queueOutput);
  t.like(state.peerAddress, { address: '127.0.0.1', port, family: 'IPv4' });
  t.like(state.address, { address: '127.0.0.1', family: 'IPv4' });
  const peer = await accepted.promise;
  t.is(peer.remotePort, state.address?.port);
  const arrived = readBytes(peer, 4);
  asyncIoStateWriteBuffer(state, Buffer.from('ping'), () => {});
  t.is((await arrived).toString(), 'ping');
  const reply = deferred<string>();
  asyncIoStateReadBuffer(state, Buffer.alloc(4), (_s, b) => reply.resolve(b.toString()));
  peer.write('pong');
  t.is(await reply.promise, 'pong');
});

test('connects to commio’s own accept; service as a decimal string; host name localhost', async (t) => {
  const c = withCollection(t);
  const serverSide = deferred<AsyncIoState>();
  const handle = await acceptTcpConnectionsCreatingAsyncIoStates(c, 0, (_h, s) => serverSide.resolve(s as AsyncIoState), onTestTransport({ address: '127.0.0.1' }));
  t.teardown(() => closeAcceptingHandle(handle));
  const { result } = connect(t, '127.0.0.1', String(handle.localPort));
  const [client, failure] = await result;
  t.is(failure, null);
  const server = await serverSide.promise;
  t.deepEqual(server.peerAddress, client.address);
  t.deepEqual(client.peerAddress, server.address);

  const named = connect(t, 'localhost', handle.localPort, { ipv6: false });
  const [, failure2] = await named.result;
  t.is(failure2, null);
  t.is(named.state.peerAddress?.address, '127.0.0.1');
});

test('a host name: every address it has is tried in turn (localhost may be ::1 first; the server is on 127.0.0.1); bytes written before the connect arrive', async (t) => {
  const accepted = deferred<net.Socket>();
  const { port } = await rawServer(t, (socket) => accepted.resolve(socket));
  const { state, result } = connect(t, 'localhost', port, { queueOutput: true });
  asyncIoStateWriteBuffer(state, Buffer.from('early'), () => {});
  const [, failure] = await result;
  t.is(failure, null);
  t.like(state.peerAddress, { address: '127.0.0.1', port });
  t.is((await readBytes(await accepted.promise, 5)).toString(), 'early');
});

test('a host name: a read and a shutdown of the output asked before the connect take effect once connected', async (t) => {
  const accepted = deferred<net.Socket>();
  const { port } = await rawServer(t, (socket) => accepted.resolve(socket));
  const { state, result } = connect(t, 'localhost', port, { queueOutput: true });
  const reply = deferred<string>();
  asyncIoStateReadBuffer(state, Buffer.alloc(5), (_s, b, n) => reply.resolve(b.subarray(0, n).toString()));
  asyncIoStateWriteBuffer(state, Buffer.from('bye'), () => {});
  const shut = deferred<unknown>();
  asyncIoStateShutdown(state, 'output', { callback: (_s, r) => shut.resolve(r) });
  t.is((await result)[1], null);
  const peer = await accepted.promise;
  // readBytes resolves at EOF too: 'bye' then the FIN.
  t.is((await readBytes(peer, 100)).toString(), 'bye');
  t.is(await shut.promise, true);
  peer.end('reply');
  t.is(await reply.promise, 'reply');
});

test('a host name with ipv6: true and only an IPv4 server: the failure is the Node path’s (ECONNREFUSED or the lookup’s code); the state is closed', async (t) => {
  const port = await refusingTcpPort(t);
  const { state, result } = connect(t, 'localhost', port, { ipv6: true });
  const [, failure] = await result;
  t.true(failure instanceof Error);
  t.regex(String((failure as NodeJS.ErrnoException).code), /^(ECONNREFUSED|ENOTFOUND|EAI_[A-Z]+|EADDRNOTAVAIL)$/);
  t.true(state.closed);
});

test('ECONNREFUSED: callback(state, error) with its code; the state is closed', async (t) => {
  const port = await refusingTcpPort(t);
  const { state, result } = connect(t, '127.0.0.1', port);
  const [s, failure] = await result;
  t.is(s, state);
  t.true(failure instanceof Error);
  t.is((failure as NodeJS.ErrnoException).code, 'ECONNREFUSED');
  t.true(state.closed);
  t.throws(() => asyncIoStateWriteBuffer(state, Buffer.from('x'), () => {}), { code: 'ERR_COMMIO_STATE_CLOSED' });
});

test.serial('connectTimeout: callback(state, ERR_COMMIO_CONNECT_TIMEOUT) after the given seconds (on the fake clock); the state is closed', async (t) => {
  const port = await hangingPort(t);
  const clock = installFakeClock();
  t.teardown(() => clock.uninstall());
  const { state, result } = connect(t, '127.0.0.1', port, { connectTimeout: 20 });
  let settled = false;
  void result.then(() => (settled = true));
  clock.advance(19.9);
  await new Promise((resolve) => setImmediate(resolve));
  t.false(settled, 'not before the timeout');
  clock.advance(0.1);
  const [s, failure] = await result;
  t.is(s, state);
  t.true(failure instanceof ConnectTimeoutError);
  t.is((failure as ConnectTimeoutError).code, 'ERR_COMMIO_CONNECT_TIMEOUT');
  t.true(state.closed);
});

test.serial('a state closed while connecting gets no callback and leaves nothing running', async (t) => {
  const port = await hangingPort(t);
  const clock = installFakeClock();
  t.teardown(() => clock.uninstall());
  const c = withCollection(t);
  const closedDirectly = createAsyncIoStateAndConnectedTcpSocket(c, '127.0.0.1', port, () => t.fail('no callback after close'), onTestTransport({ connectTimeout: 0.1 }));
  t.is(closeAsyncIoState(closedDirectly), 0);
  const done = deferred();
  const viaAbort = createAsyncIoStateAndConnectedTcpSocket(c, '127.0.0.1', port, () => t.fail('no callback after close'), onTestTransport({ connectTimeout: 0.1 }));
  asyncIoStateAbortAndClose(viaAbort, { closeCallback: () => done.resolve() });
  await done.promise;
  // Closed while its host name is looked up.
  const byName = createAsyncIoStateAndConnectedTcpSocket(c, 'localhost', port, () => t.fail('no callback after close'), onTestTransport({ connectTimeout: 0.1 }));
  t.is(closeAsyncIoState(byName), 0);
  // The connect timers are cleared when the sockets report their close.
  for (let turns = 0; clock.pendingTimers > 0 && turns < 1000; turns++) await new Promise((resolve) => setImmediate(resolve));
  t.is(clock.pendingTimers, 0, 'every connect timer was cleared');
  // Past the connect timeout: still no callback.
  clock.advance(1);
  await new Promise((resolve) => setImmediate(resolve));
  t.true(closedDirectly.closed && viaAbort.closed && byName.closed);
});

test('localAddress and localPort bind the local end (127.0.0.2 routes to loopback)', async (t) => {
  const accepted = deferred<net.Socket>();
  const { port } = await rawServer(t, (socket) => accepted.resolve(socket));
  const localPort = await freePort('127.0.0.2');
  const { state, result } = connect(t, '127.0.0.1', port, { localAddress: '127.0.0.2', localPort });
  const [, failure] = await result;
  t.is(failure, null);
  t.deepEqual(state.address, { address: '127.0.0.2', port: localPort, family: 'IPv4' });
  const peer = await accepted.promise;
  t.is(peer.remoteAddress, '127.0.0.2');
  t.is(peer.remotePort, localPort);
});

/** The TCP_NODELAY / SO_KEEPALIVE settings Node.js recorded for a socket. */
function socketFlags(socket: net.Socket): { noDelay: unknown; keepAlive: unknown } {
  const flags: Record<string, unknown> = {};
  for (const symbol of Object.getOwnPropertySymbols(socket)) {
    flags[symbol.description ?? ''] = (socket as unknown as Record<symbol, unknown>)[symbol];
  }
  return { noDelay: flags['kSetNoDelay'], keepAlive: flags['kSetKeepAlive'] };
}

nodeOnly(test, 'it reads the flags Node.js records on the net.Socket')('nodelay (default true) and keepalive (default false) are applied to the socket', async (t) => {
  const { port } = await rawServer(t);
  const defaults = connect(t, '127.0.0.1', port);
  t.is((await defaults.result)[1], null);
  t.deepEqual(socketFlags(defaults.state.object as net.Socket), { noDelay: true, keepAlive: false });
  const flipped = connect(t, '127.0.0.1', port, { nodelay: false, keepalive: true });
  t.is((await flipped.result)[1], null);
  t.deepEqual(socketFlags(flipped.state.object as net.Socket), { noDelay: false, keepAlive: true });
});

test('a connect started from a callback of another collection calls back through its own collection', async (t) => {
  const { port } = await rawServer(t);
  const other = withCollection(t, 'other');
  const mine = withCollection(t, 'mine');
  const done = deferred<AsyncIoState>();
  applyInWaitStateCollectionProcess(other, () => {
    const state = createAsyncIoStateAndConnectedTcpSocket(mine, '127.0.0.1', port, (s) => done.resolve(s), onTestTransport());
    t.teardown(() => closeAsyncIoState(state));
  });
  const state = await done.promise;
  t.is(state.collection, mine);
});
