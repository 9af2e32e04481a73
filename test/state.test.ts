/**
 * States: creation around raw sockets, defaults and settable properties,
 * addresses, the LispWorks reader functions, and debug logging.
 */
import test from 'ava';
import net from 'node:net';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { format } from 'node:util';
import {
  createAsyncIoState,
  createAsyncIoStateAndConnectedTcpSocket,
  acceptTcpConnectionsCreatingAsyncIoStates,
  closeAcceptingHandle,
  asyncIoStateReadBuffer,
  asyncIoStateReadWithChecking,
  asyncIoStateDiscard,
  asyncIoStateWriteBuffer,
  asyncIoStateShutdown,
  closeAsyncIoState,
  asyncIoStateCollection,
  asyncIoStateObject,
  asyncIoStateName,
  asyncIoStateUserInfo,
  asyncIoStateReadTimeout,
  asyncIoStateWriteTimeout,
  asyncIoStateMaxRead,
  asyncIoStateOldLength,
  asyncIoStateReadStatus,
  asyncIoStateWriteStatus,
  asyncIoStateAddress,
  asyncIoStatePeerAddress,
  asyncIoStateSslSide,
  asyncIoStateCtx,
  asyncIoStateSsl,
  asyncIoStateBufferedDataLength,
  AsyncIoState,
} from '@commio/core';
import { checkNoLeaksAfterAll } from './helpers/leaks.js';
import { deferred, nodeOnly, onTestTransport, rawClient, readBytes, statePair, testTransport, withCollection } from './helpers/fixtures.js';

checkNoLeaksAfterAll(test);

test('createAsyncIoState wraps a raw socket with the documented defaults', async (t) => {
  const pair = await statePair(t);
  const { state } = pair;
  t.true(state instanceof AsyncIoState);
  // Node: the socket given; native: the connection's native id.
  if (testTransport === 'node') t.is(state.object, pair.socket);
  else t.is(typeof state.object, 'number');
  t.is(state.name, null);
  t.is(state.userInfo, null);
  t.is(state.readTimeout, null);
  t.is(state.writeTimeout, null);
  t.false(state.queueOutput);
  t.is(state.maxRead, 65536);
  t.is(state.maxQueuedOutput, 16 * 1024 * 1024);
  t.is(state.maxBufferedInput, 16 * 1024 * 1024);
  t.is(state.oldLength, 0);
  t.is(state.readStatus, null);
  t.is(state.writeStatus, null);
  t.is(state.bufferedDataLength, 0);
  t.is(state.sslSide, null);
  t.is(state.ctx, null);
  t.is(state.ssl, null);
  t.false(state.closed);
});

test('createAsyncIoState applies its options', async (t) => {
  const info = { mine: true };
  const { state } = await statePair(t, {
    name: 'named',
    userInfo: info,
    readTimeout: 1.5,
    writeTimeout: 0.25,
    queueOutput: true,
    maxQueuedOutput: 1000,
    maxBufferedInput: 2000,
  });
  t.is(state.name, 'named');
  t.is(state.userInfo, info);
  t.is(state.readTimeout, 1.5);
  t.is(state.writeTimeout, 0.25);
  t.true(state.queueOutput);
  t.is(state.maxQueuedOutput, 1000);
  t.is(state.maxBufferedInput, 2000);
  t.regex(String(state), /named/);
});

nodeOnly(test, 'it writes on the net.Socket the state wraps')('the state wraps the socket only: bytes the program wrote before still arrive, and the state reads what follows', async (t) => {
  const { state, peer, socket } = await statePair(t);
  const arrived = readBytes(peer, 6);
  socket.write('before');
  t.is((await arrived).toString(), 'before');
  peer.write('after');
  const got = deferred<string>();
  asyncIoStateReadBuffer(state, Buffer.alloc(5), (_s, b) => got.resolve(b.toString()));
  t.is(await got.promise, 'after');
});

test('writable properties: name, userInfo, timeouts, maxRead and the limits; bad values throw', async (t) => {
  const { state } = await statePair(t);
  state.name = 'renamed';
  state.userInfo = 42;
  state.readTimeout = 0.5;
  state.writeTimeout = null;
  state.maxRead = 10;
  state.maxQueuedOutput = 5;
  state.maxBufferedInput = 7;
  t.is(asyncIoStateName(state), 'renamed');
  t.is(asyncIoStateUserInfo(state), 42);
  t.is(asyncIoStateReadTimeout(state), 0.5);
  t.is(asyncIoStateWriteTimeout(state), null);
  t.is(asyncIoStateMaxRead(state), 10);
  t.is(state.maxQueuedOutput, 5);
  t.is(state.maxBufferedInput, 7);
  const bad: [string, unknown][] = [
    ['readTimeout', -1],
    ['readTimeout', '1'],
    ['readTimeout', Number.NaN],
    ['readTimeout', undefined],
    ['writeTimeout', -0.5],
    ['writeTimeout', Infinity],
    ['maxRead', 0],
    ['maxRead', 1.5],
    ['maxRead', undefined],
    ['maxQueuedOutput', 0],
    ['maxQueuedOutput', undefined],
    ['maxBufferedInput', -1],
    ['maxBufferedInput', '10'],
  ];
  for (const [key, value] of bad) {
    t.throws(() => {
      (state as unknown as Record<string, unknown>)[key] = value;
    }, { code: 'ERR_COMMIO_INVALID_ARGUMENT' }, `${key} = ${String(value)}`);
  }
  t.is(state.readTimeout, 0.5, 'unchanged by the refused values');
  t.is(state.maxRead, 10);
});

test('addresses are { address, port, family } objects; peerAddress is the other end; what was read before close survives it', async (t) => {
  const { state, peer } = await statePair(t);
  t.deepEqual(state.address, { address: '127.0.0.1', port: peer.remotePort, family: 'IPv4' });
  t.deepEqual(state.peerAddress, { address: '127.0.0.1', port: peer.localPort, family: 'IPv4' });
  // Asked before closing: still known afterwards.
  closeAsyncIoState(state);
  t.deepEqual(state.address, { address: '127.0.0.1', port: peer.remotePort, family: 'IPv4' });
  t.deepEqual(state.peerAddress, { address: '127.0.0.1', port: peer.localPort, family: 'IPv4' });
  const other = await statePair(t);
  // Never asked before closing: addresses are read on demand, not at close, so they are unknown.
  closeAsyncIoState(other.state);
  t.is(other.state.address, null);
  t.is(other.state.peerAddress, null);
  // Asking one before close keeps that one only.
  const third = await statePair(t);
  const local = third.state.address;
  closeAsyncIoState(third.state);
  t.deepEqual(third.state.address, local);
  t.is(third.state.peerAddress, null);
});

test('IPv6 loopback addresses have family IPv6', async (t) => {
  const c = withCollection(t);
  const server = net.createServer((s) => s.on('error', () => {}));
  const sockets: net.Socket[] = [];
  server.on('connection', (s) => sockets.push(s));
  const listening = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(0, '::1', () => resolve(true));
  });
  if (!listening) {
    t.pass('no IPv6 loopback here');
    return;
  }
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  const port = (server.address() as net.AddressInfo).port;
  const done = deferred<AsyncIoState>();
  const state = createAsyncIoStateAndConnectedTcpSocket(c, '::1', port, (s) => done.resolve(s), onTestTransport());
  await done.promise;
  t.like(state.peerAddress, { address: '::1', port, family: 'IPv6' });
  t.like(state.address, { address: '::1', family: 'IPv6' });
});

test('states made from the same settings each keep their own limits when one is changed', async (t) => {
  const c = withCollection(t);
  const accepted: AsyncIoState[] = [];
  const two = deferred();
  const handle = await acceptTcpConnectionsCreatingAsyncIoStates(
    c,
    0,
    (_h, s) => {
      accepted.push(s as AsyncIoState);
      if (accepted.length === 2) two.resolve();
    },
    onTestTransport({ address: '127.0.0.1', readTimeout: 5, maxQueuedOutput: 1000 }),
  );
  t.teardown(() => closeAcceptingHandle(handle));
  await rawClient(t, handle.localPort);
  await rawClient(t, handle.localPort);
  await two.promise;
  const [a, b] = accepted as [AsyncIoState, AsyncIoState];
  a.readTimeout = 1;
  a.maxRead = 7;
  a.maxQueuedOutput = 2000;
  a.writeTimeout = 0.5;
  a.maxBufferedInput = 3000;
  a.maxQueuedMessages = 9;
  t.like(a, { readTimeout: 1, maxRead: 7, maxQueuedOutput: 2000, writeTimeout: 0.5, maxBufferedInput: 3000, maxQueuedMessages: 9 });
  t.like(b, { readTimeout: 5, maxRead: 65536, maxQueuedOutput: 1000, writeTimeout: null, maxQueuedMessages: 1024 });
  // Plain defaults are shared too: changing one state's leaves another's.
  const x = await statePair(t);
  const y = await statePair(t);
  x.state.readTimeout = 2;
  x.state.maxRead = 5;
  t.is(y.state.readTimeout, null);
  t.is(y.state.maxRead, 65536);
});

test('the LispWorks reader functions equal the properties', async (t) => {
  const c = withCollection(t);
  const serverSide = deferred<AsyncIoState>();
  const handle = await acceptTcpConnectionsCreatingAsyncIoStates(c, 0, (_h, s) => serverSide.resolve(s as AsyncIoState), onTestTransport({ address: '127.0.0.1' }));
  t.teardown(() => closeAcceptingHandle(handle));
  const connected = deferred<AsyncIoState>();
  createAsyncIoStateAndConnectedTcpSocket(c, '127.0.0.1', handle.localPort, (s) => connected.resolve(s), onTestTransport({ name: 'client', userInfo: 'u', readTimeout: 2, writeTimeout: 3 }));
  const client = await connected.promise;
  const server = await serverSide.promise;
  // Give the states something to show in oldLength and bufferedDataLength.
  asyncIoStateWriteBuffer(client, Buffer.from('abcdef'), () => {});
  const seen = deferred();
  let calls = 0;
  asyncIoStateReadWithChecking(server, (s, _v, end) => {
    if (++calls === 1 && end < 6) return;
    asyncIoStateDiscard(s, 1);
    seen.resolve();
  }, { maxRead: 3 });
  await seen.promise;
  for (const state of [client, server]) {
    t.is(asyncIoStateCollection(state), state.collection);
    t.is(asyncIoStateObject(state), state.object);
    t.is(asyncIoStateName(state), state.name);
    t.is(asyncIoStateUserInfo(state), state.userInfo);
    t.is(asyncIoStateReadTimeout(state), state.readTimeout);
    t.is(asyncIoStateWriteTimeout(state), state.writeTimeout);
    t.is(asyncIoStateMaxRead(state), state.maxRead);
    t.is(asyncIoStateOldLength(state), state.oldLength);
    t.is(asyncIoStateReadStatus(state), state.readStatus);
    t.is(asyncIoStateWriteStatus(state), state.writeStatus);
    t.deepEqual(asyncIoStateAddress(state), state.address);
    t.deepEqual(asyncIoStatePeerAddress(state), state.peerAddress);
    t.is(asyncIoStateSslSide(state), state.sslSide);
    t.is(asyncIoStateCtx(state), state.ctx);
    t.is(asyncIoStateSsl(state), state.ssl);
    t.is(asyncIoStateBufferedDataLength(state), state.bufferedDataLength);
  }
  t.is(client.collection, c);
  t.is(client.name, 'client');
  t.is(server.maxRead, 3);
  t.true(server.oldLength > 0 || calls === 1);
  t.deepEqual(client.peerAddress, server.address);
});

test('createAsyncIoState refuses a destroyed socket and a descriptor Node.js cannot wrap, before anything opens', (t) => {
  const c = withCollection(t);
  const destroyed = new net.Socket();
  destroyed.destroy();
  t.throws(() => createAsyncIoState(c, destroyed), { code: 'ERR_COMMIO_INVALID_ARGUMENT' });
  const fd = fs.openSync(new URL(import.meta.url), 'r');
  t.teardown(() => fs.closeSync(fd));
  t.throws(() => createAsyncIoState(c, fd), { code: 'ERR_COMMIO_INVALID_ARGUMENT', message: /object/ });
  t.throws(() => createAsyncIoState(c, -1), { code: 'ERR_COMMIO_INVALID_ARGUMENT' });
  t.throws(() => createAsyncIoState(c, 1.5), { code: 'ERR_COMMIO_INVALID_ARGUMENT' });
  t.is(c.memberCount, 0);
});

// ----------------------------------------------------------------- logging

interface Debug {
  (namespace: string): unknown;
  enable(namespaces: string): void;
  disable(): string;
  log: (...args: unknown[]) => void;
}

test.serial('with commio:* enabled the life of a state is logged, and never a payload byte', async (t) => {
  // The `debug` instance @commio/core uses.
  const requireFromCore = createRequire(new URL('../packages/core/package.json', import.meta.url));
  const createDebug = requireFromCore('debug') as Debug;
  const lines: string[] = [];
  const previousLog = createDebug.log;
  const previous = createDebug.disable();
  createDebug.enable('commio:*');
  createDebug.log = (...args: unknown[]) => lines.push(format(...args));
  t.teardown(() => {
    createDebug.log = previousLog;
    createDebug.disable();
    if (previous !== '') createDebug.enable(previous);
  });

  const secret = 'PAYLOAD-7f3a9c-SECRET';
  const c = withCollection(t, 'logged');
  const serverSide = deferred<AsyncIoState>();
  // The server side stays on Node: the test resets its net.Socket.
  const handle = await acceptTcpConnectionsCreatingAsyncIoStates(c, 0, (_h, s) => serverSide.resolve(s as AsyncIoState), { address: '127.0.0.1' });
  const connected = deferred<AsyncIoState>();
  createAsyncIoStateAndConnectedTcpSocket(c, '127.0.0.1', handle.localPort, (s) => connected.resolve(s), onTestTransport({ name: 'logged-client' }));
  const client = await connected.promise;
  const server = await serverSide.promise;
  const got = deferred<string>();
  asyncIoStateReadBuffer(server, Buffer.alloc(secret.length), (_s, b) => got.resolve(b.toString()));
  asyncIoStateWriteBuffer(client, Buffer.from(secret), () => {});
  t.is(await got.promise, secret);
  // An error that carries the connection's state in its message.
  const failed = deferred();
  asyncIoStateReadBuffer(client, Buffer.alloc(1), () => failed.resolve());
  (server.object as net.Socket).resetAndDestroy();
  await failed.promise;
  asyncIoStateShutdown(server, 'output');
  closeAsyncIoState(server);
  closeAsyncIoState(client);
  closeAcceptingHandle(handle);

  const text = lines.join('\n');
  t.regex(text, /commio:connect .*logged-client.*connecting to 127\.0\.0\.1/);
  t.regex(text, /commio:connect .*logged-client.*connected/);
  t.regex(text, /commio:state .*made/);
  t.regex(text, /commio:state .*logged-client.*closed/);
  t.regex(text, /commio:state .*socket error ECONNRESET/);
  t.regex(text, /commio:state .*shutdown output/);
  t.false(text.includes(secret), 'no payload bytes in the log');
  t.false(text.includes(Buffer.from(secret).toString('hex')), 'not even as hex');
  t.false(text.includes(Buffer.from(secret).toString('base64')), 'nor base64');
});
