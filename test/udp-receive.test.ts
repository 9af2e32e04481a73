import dgram from 'node:dgram';
import test from 'ava';
import {
  asyncIoStateReceiveMessage,
  asyncIoStateShutdown,
  asyncIoStateWaitForInput,
  closeAsyncIoState,
  createAsyncIoState,
  type AsyncIoState,
} from '@commio/core';
import { checkNoLeaksAfterAll } from './helpers/leaks.js';
import { deferred, withCollection } from './helpers/fixtures.js';
import { connectedUdpState, receive, refusingUdpPort, send, sendTo, udpPeer, udpState, until } from './helpers/udp-peers.js';

checkNoLeaksAfterAll(test);

test('a datagram longer than the range is truncated to it; the rest is dropped', async (t) => {
  const c = withCollection(t);
  const state = await udpState(t, c);
  const peer = await udpPeer(t);
  const port = state.address?.port ?? 0;
  const big = Buffer.alloc(100, 'x');
  big.write('0123456789', 0);
  const buffer = Buffer.alloc(30, '.');
  const got = deferred<number>();
  asyncIoStateReceiveMessage(state, buffer, (_s, b, count) => got.resolve(count), { start: 10, end: 20 });
  await peer.send(big, port, '127.0.0.1');
  t.is(await got.promise, 10);
  t.is(buffer.toString(), '..........0123456789..........');
  t.is(state.readStatus, null);
  // The excess did not become a datagram of its own.
  const next = receive(state);
  await peer.send('second', port, '127.0.0.1');
  t.is((await next).bytes.toString(), 'second');
});

test('an empty datagram is a receive of count 0 with a healthy status', async (t) => {
  const c = withCollection(t);
  const state = await udpState(t, c);
  const peer = await udpPeer(t);
  const got = receive(state, 16, { needsAddress: true });
  await peer.send(Buffer.alloc(0), state.address?.port ?? 0, '127.0.0.1');
  const received = await got;
  t.is(received.count, 0);
  t.is(received.status, null);
  t.is(received.port, peer.port);
});

test('a receive timeout sets readStatus to timeout; the next receive starts clean', async (t) => {
  const c = withCollection(t);
  const state = await udpState(t, c);
  const peer = await udpPeer(t);
  const started = Date.now();
  const timedOut = await receive(state, 64, { timeout: 0.1, needsAddress: true });
  t.true(Date.now() - started >= 90);
  t.is(timedOut.status, 'timeout');
  t.is(timedOut.count, 0);
  t.is(timedOut.via, 'callback');
  t.is(timedOut.address, undefined);
  t.is(state.readTimeout, 0.1);
  t.is(state.readStatus, 'timeout');
  const got = receive(state, 64, { timeout: null });
  t.is(state.readStatus, null);
  await peer.send('late', state.address?.port ?? 0, '127.0.0.1');
  t.is((await got).bytes.toString(), 'late');
});

test('the readTimeout option of the creator applies to receives', async (t) => {
  const c = withCollection(t);
  const state = await udpState(t, c, { readTimeout: 0.05 });
  t.is((await receive(state)).status, 'timeout');
});

test('datagrams that come while no receive waits are queued and taken in order', async (t) => {
  const c = withCollection(t);
  const state = await udpState(t, c);
  const peer = await udpPeer(t);
  const port = state.address?.port ?? 0;
  for (const word of ['one', 'two', 'three']) await peer.send(word, port, '127.0.0.1');
  await until(() => state.queuedMessageCount === 3, 'three datagrams are queued');
  t.is(state.bufferedDataLength, 0);
  const seen: string[] = [];
  for (let i = 0; i < 3; i++) {
    const received = await receive(state, 64, { needsAddress: true });
    t.is(received.port, peer.port);
    seen.push(received.bytes.toString());
  }
  t.deepEqual(seen, ['one', 'two', 'three']);
  t.is(state.queuedMessageCount, 0);
  t.is(state.droppedMessageCount, 0);
});

test('a queued datagram completes a receive later, never inside the call', async (t) => {
  const c = withCollection(t);
  const state = await udpState(t, c);
  const peer = await udpPeer(t);
  await peer.send('queued', state.address?.port ?? 0, '127.0.0.1');
  await until(() => state.queuedMessageCount === 1, 'the datagram is queued');
  let returned = false;
  const got = deferred<boolean>();
  asyncIoStateReceiveMessage(state, Buffer.alloc(10), () => got.resolve(returned));
  returned = true;
  t.true(await got.promise);
});

test('past maxQueuedMessages the oldest datagrams are dropped and counted', async (t) => {
  const c = withCollection(t);
  const state = await udpState(t, c, { maxQueuedMessages: 3 });
  t.is(state.maxQueuedMessages, 3);
  const peer = await udpPeer(t);
  const port = state.address?.port ?? 0;
  for (let i = 1; i <= 5; i++) await peer.send(`d${i}`, port, '127.0.0.1');
  await until(() => state.droppedMessageCount === 2, 'two datagrams are dropped');
  t.is(state.queuedMessageCount, 3);
  const seen: string[] = [];
  for (let i = 0; i < 3; i++) seen.push((await receive(state)).bytes.toString());
  t.deepEqual(seen, ['d3', 'd4', 'd5']);
  // The limit is a writable property too.
  state.maxQueuedMessages = 1;
  for (let i = 6; i <= 7; i++) await peer.send(`d${i}`, port, '127.0.0.1');
  await until(() => state.droppedMessageCount === 3, 'one more is dropped');
  t.is((await receive(state)).bytes.toString(), 'd7');
});

test('past maxBufferedInput bytes the oldest queued datagrams are dropped too', async (t) => {
  const c = withCollection(t);
  const state = await udpState(t, c, { maxBufferedInput: 250 });
  const peer = await udpPeer(t);
  const port = state.address?.port ?? 0;
  for (let i = 1; i <= 4; i++) await peer.send(Buffer.alloc(100, String(i)), port, '127.0.0.1');
  await until(() => state.droppedMessageCount === 2, 'two datagrams are dropped');
  t.is(state.queuedMessageCount, 2);
  t.is((await receive(state, 200)).bytes.toString(), '3'.repeat(100));
  t.is((await receive(state, 200)).bytes.toString(), '4'.repeat(100));
});

test('ICMP port unreachable on a connected socket reaches errorCallback with ECONNREFUSED, and is not sticky', async (t) => {
  const c = withCollection(t);
  const port = await refusingUdpPort(t);
  const state = await connectedUdpState(t, c, '127.0.0.1', port);
  const sent = await send(state, 'anyone?');
  t.is(sent.status, null);
  // Bounded, so that an answer that never comes fails the test at once instead of hanging it.
  const failed = await receive(state, 64, { needsAddress: true, timeout: 5 });
  t.is(failed.via, 'errorCallback');
  t.is(failed.count, 0);
  t.is(failed.address, undefined);
  t.is((failed.status as NodeJS.ErrnoException).code, 'ECONNREFUSED');
  // A datagram socket has no connection to lose: the next receive starts clean.
  const again = receive(state, 64, { timeout: 0.05 });
  t.is(state.readStatus, null);
  t.is((await again).status, 'timeout');
});

test('without errorCallback, a socket error goes to the callback with the status', async (t) => {
  const c = withCollection(t);
  const port = await refusingUdpPort(t);
  const state = await connectedUdpState(t, c, '127.0.0.1', port);
  const got = deferred<unknown>();
  const code = (s: AsyncIoState): unknown => (s.readStatus === 'timeout' ? 'timeout' : (s.readStatus as NodeJS.ErrnoException | null)?.code);
  asyncIoStateReceiveMessage(state, Buffer.alloc(8), (s) => got.resolve(code(s)), { timeout: 5 });
  await send(state, 'x');
  t.is(await got.promise, 'ECONNREFUSED');
});

test('wait-for-input on a UDP state completes when a datagram is queued; the receive then takes it', async (t) => {
  const c = withCollection(t);
  const state = await udpState(t, c);
  const peer = await udpPeer(t);
  const ready = deferred<number>();
  asyncIoStateWaitForInput(state, (s) => ready.resolve(s.queuedMessageCount));
  t.throws(() => asyncIoStateReceiveMessage(state, Buffer.alloc(8), () => {}), { code: 'ERR_COMMIO_OPERATION_IN_PROGRESS' });
  await peer.send('wake', state.address?.port ?? 0, '127.0.0.1');
  t.is(await ready.promise, 1);
  t.is((await receive(state)).bytes.toString(), 'wake');
  // With a datagram already queued it completes at once (later); with none it can time out.
  const timedOut = deferred<unknown>();
  asyncIoStateWaitForInput(state, (s) => timedOut.resolve(s.readStatus), { timeout: 0.05 });
  t.is(await timedOut.promise, 'timeout');
});

test("after shutdown('input') a receive ends with eof once the queue is empty", async (t) => {
  const c = withCollection(t);
  const state = await udpState(t, c);
  const peer = await udpPeer(t);
  await peer.send('kept', state.address?.port ?? 0, '127.0.0.1');
  await until(() => state.queuedMessageCount === 1, 'the datagram is queued');
  t.is(asyncIoStateShutdown(state, 'input'), true);
  t.is((await receive(state)).bytes.toString(), 'kept');
  const end = await receive(state);
  t.is(end.status, 'eof');
  t.is(end.count, 0);
});

test('a wrapped socket closed under the state: receives and sends fail with a sticky error', async (t) => {
  const c = withCollection(t);
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const state = createAsyncIoState(c, socket, { udp: true });
  t.teardown(() => closeAsyncIoState(state));
  const pending = receive(state);
  socket.close();
  const failed = await pending;
  t.is(failed.via, 'errorCallback');
  t.is((failed.status as NodeJS.ErrnoException).code, 'ERR_SOCKET_DGRAM_NOT_RUNNING');
  const again = await receive(state);
  t.is((again.status as NodeJS.ErrnoException).code, 'ERR_SOCKET_DGRAM_NOT_RUNNING');
  const sent = await sendTo(state, '127.0.0.1', 9, 'x');
  t.is(sent.via, 'errorCallback');
  t.is((sent.status as NodeJS.ErrnoException).code, 'ERR_SOCKET_DGRAM_NOT_RUNNING');
  t.false(state.closed);
});
