import dgram from 'node:dgram';
import test from 'ava';
import {
  asyncIoStateReceiveMessage,
  asyncIoStateSendMessageToAddress,
  closeAsyncIoState,
  createAsyncIoState,
  createAsyncIoStateAndUdpSocket,
  createAsyncIoStateAndConnectedUdpSocket,
  type AsyncIoState,
} from '@commio/core';
import { checkNoLeaksAfterAll } from './helpers/leaks.js';
import { deferred, withCollection } from './helpers/fixtures.js';
import { connectedUdpState, ipv6LoopbackPresent, receive, send, sendTo, udpPeer, udpState } from './helpers/udp-peers.js';

checkNoLeaksAfterAll(test);

const hasIpv6 = ipv6LoopbackPresent();
if (!hasIpv6) console.log('udp-roundtrip: this machine has no IPv6 on its loopback (::1): the IPv6 tests are skipped');
/** IPv6 tests run only where the loopback has ::1. */
const ipv6Test = hasIpv6 ? test : test.skip;

test('an unconnected state receives with needsAddress and replies to that address', async (t) => {
  const c = withCollection(t);
  const state = await udpState(t, c);
  const peer = await udpPeer(t);
  const address = state.address;
  t.deepEqual(address, { address: '127.0.0.1', port: address?.port ?? -1, family: 'IPv4' });
  t.true((address?.port ?? 0) > 0);
  t.is(state.peerAddress, null);

  const replied = deferred();
  asyncIoStateReceiveMessage(
    state,
    Buffer.alloc(100),
    (s, buffer, count, from, port) => {
      t.is(s, state);
      t.is(from, '127.0.0.1');
      t.is(port, peer.port);
      // Reply straight to what the receive reported.
      asyncIoStateSendMessageToAddress(s, from as string, port as number, Buffer.from(buffer.subarray(0, count).toString().toUpperCase()), () => replied.resolve(), { end: count });
    },
    { needsAddress: true },
  );
  await peer.send('hello', address?.port ?? 0, '127.0.0.1');
  const echoed = await peer.next();
  t.is(echoed.message.toString(), 'HELLO');
  t.is(echoed.from.port, address?.port ?? -1);
  await replied.promise;
  t.is(state.readStatus, null);
  t.is(state.writeStatus, null);
});

test('without needsAddress the callback gets three arguments', async (t) => {
  const c = withCollection(t);
  const state = await udpState(t, c);
  const peer = await udpPeer(t);
  const got = receive(state);
  await peer.send('abc', state.address?.port ?? 0, '127.0.0.1');
  const received = await got;
  t.is(received.args, 3);
  t.is(received.count, 3);
  t.is(received.bytes.toString(), 'abc');
});

test('a state sends first, to a host name resolved in its family, and gets the answer', async (t) => {
  const c = withCollection(t);
  const state = await udpState(t, c, { ipv6: false });
  const peer = await udpPeer(t);
  const sent = await sendTo(state, 'localhost', peer.port, 'ping');
  t.deepEqual(sent, { status: null, via: 'callback' });
  const got = await peer.next();
  t.is(got.message.toString(), 'ping');
  t.is(got.from.port, state.address?.port ?? -1);
  const answer = receive(state, 64, { needsAddress: true });
  await peer.send('pong', got.from.port, got.from.address);
  const received = await answer;
  t.is(received.bytes.toString(), 'pong');
  t.is(received.port, peer.port);
});

test('a service given as a decimal string works as a port', async (t) => {
  const c = withCollection(t);
  const state = await udpState(t, c);
  const peer = await udpPeer(t);
  await sendTo(state, '127.0.0.1', String(peer.port), 'by string');
  t.is((await peer.next()).message.toString(), 'by string');
});

test('a connected state sends to its peer and receives from it only', async (t) => {
  const c = withCollection(t);
  const peer = await udpPeer(t);
  const stranger = await udpPeer(t);
  const state = await connectedUdpState(t, c, '127.0.0.1', peer.port, { localAddress: '127.0.0.1' });
  t.deepEqual(state.peerAddress, { address: '127.0.0.1', port: peer.port, family: 'IPv4' });
  t.is(state.address?.address, '127.0.0.1');

  t.deepEqual(await send(state, 'to peer'), { status: null, via: 'callback' });
  const got = await peer.next();
  t.is(got.message.toString(), 'to peer');
  t.is(got.from.port, state.address?.port ?? -1);

  // The stranger's datagram goes first; the kernel (or the state) must drop it.
  const answer = receive(state, 64, { needsAddress: true });
  await stranger.send('not for you', state.address?.port ?? 0, '127.0.0.1');
  await peer.send('from peer', state.address?.port ?? 0, '127.0.0.1');
  const received = await answer;
  t.is(received.bytes.toString(), 'from peer');
  t.is(received.address, '127.0.0.1');
  t.is(received.port, peer.port);
});

test('a connected state to a host name', async (t) => {
  const c = withCollection(t);
  const peer = await udpPeer(t);
  const state = await connectedUdpState(t, c, 'localhost', peer.port, { ipv6: false });
  await send(state, 'named');
  t.is((await peer.next()).message.toString(), 'named');
});

test('many datagrams round trip in order through a queued state', async (t) => {
  const c = withCollection(t);
  const state = await udpState(t, c);
  const peer = await udpPeer(t);
  const n = 50;
  const done: number[] = [];
  const all = deferred();
  for (let i = 0; i < n; i++) {
    asyncIoStateSendMessageToAddress(state, '127.0.0.1', peer.port, Buffer.from(`m${i}`), () => {
      done.push(i);
      if (done.length === n) all.resolve();
    });
  }
  await all.promise;
  t.deepEqual(done, Array.from({ length: n }, (_, i) => i));
  for (let i = 0; i < n; i++) t.is((await peer.next()).message.toString(), `m${i}`);
  t.is(state.queuedOutputLength, 0);
});

ipv6Test('IPv6: an unconnected state on ::1 round trips with a udp6 peer', async (t) => {
  const c = withCollection(t);
  const state = await udpState(t, c, { ipv6: true, localAddress: '::1' });
  t.is(state.address?.family, 'IPv6');
  t.is(state.address?.address, '::1');
  const peer = await udpPeer(t, 'udp6');
  const answer = receive(state, 64, { needsAddress: true });
  await peer.send('v6', state.address?.port ?? 0, '::1');
  const received = await answer;
  t.is(received.bytes.toString(), 'v6');
  t.is(received.address, '::1');
  await sendTo(state, received.address as string, received.port as number, 'v6 back');
  t.is((await peer.next()).message.toString(), 'v6 back');
});

ipv6Test('IPv6: a connected state to ::1 (family chosen from the address)', async (t) => {
  const c = withCollection(t);
  const peer = await udpPeer(t, 'udp6');
  const state = await connectedUdpState(t, c, '::1', peer.port);
  t.deepEqual(state.peerAddress, { address: '::1', port: peer.port, family: 'IPv6' });
  await send(state, 'hi6');
  const got = await peer.next();
  t.is(got.message.toString(), 'hi6');
  const answer = receive(state);
  await peer.send('back6', got.from.port, '::1');
  t.is((await answer).bytes.toString(), 'back6');
});

ipv6Test("IPv6: an ipv6 'both' state takes IPv4 datagrams and replies to their mapped address", async (t) => {
  const c = withCollection(t);
  const state = await udpState(t, c, { ipv6: 'both', localAddress: null });
  t.is(state.address?.family, 'IPv6');
  const peer4 = await udpPeer(t);
  const answer = receive(state, 64, { needsAddress: true });
  await peer4.send('four', state.address?.port ?? 0, '127.0.0.1');
  const received = await answer;
  t.is(received.address, '::ffff:127.0.0.1');
  await sendTo(state, received.address as string, received.port as number, 'mapped');
  t.is((await peer4.next()).message.toString(), 'mapped');
  // A plain IPv4 literal also works from the dual-stack socket.
  await sendTo(state, '127.0.0.1', peer4.port, 'literal');
  t.is((await peer4.next()).message.toString(), 'literal');
});

test('createAsyncIoState wraps a bound dgram socket; keepAliveP hands it back open', async (t) => {
  const c = withCollection(t);
  const socket = dgram.createSocket('udp4');
  t.teardown(() => {
    try {
      socket.close();
    } catch {
      // closed by the test
    }
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const state = createAsyncIoState(c, socket, { udp: true, ipv6: false });
  t.is(state.object, socket);
  t.true(state.queueOutput);
  t.is(state.address?.port, socket.address().port);
  const peer = await udpPeer(t);
  const answer = receive(state, 64, { needsAddress: true });
  await peer.send('wrapped', socket.address().port, '127.0.0.1');
  t.is((await answer).bytes.toString(), 'wrapped');
  await sendTo(state, '127.0.0.1', peer.port, 'from wrapped');
  t.is((await peer.next()).message.toString(), 'from wrapped');

  t.is(closeAsyncIoState(state, { keepAliveP: true }), 0);
  // Still open and the program's again.
  const own = new Promise<string>((resolve) => socket.once('message', (m) => resolve(m.toString())));
  await peer.send('after', socket.address().port, '127.0.0.1');
  t.is(await own, 'after');
});

test('createAsyncIoState wraps a connected dgram socket (udp: connected)', async (t) => {
  const c = withCollection(t);
  const peer = await udpPeer(t);
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => socket.connect(peer.port, '127.0.0.1', resolve));
  const state: AsyncIoState = createAsyncIoState(c, socket, { udp: 'connected' });
  t.teardown(() => closeAsyncIoState(state));
  t.is(state.peerAddress?.port, peer.port);
  await send(state, 'c');
  t.is((await peer.next()).message.toString(), 'c');
});

test('a UDP socket whose bind cannot succeed: rejects ERR_COMMIO_BIND_FAILED, or null with errorp false', async (t) => {
  const c = withCollection(t);
  const holder = await udpPeer(t);
  const error = await t.throwsAsync(createAsyncIoStateAndUdpSocket(c, { localAddress: '127.0.0.1', localPort: holder.port }), {
    code: 'ERR_COMMIO_BIND_FAILED',
  });
  t.is((error.cause as NodeJS.ErrnoException | undefined)?.code, 'EADDRINUSE');
  t.is(await createAsyncIoStateAndUdpSocket(c, { localAddress: '127.0.0.1', localPort: holder.port, errorp: false }), null);
  t.is(c.memberCount, 0);
});

test('a connected UDP socket that cannot be connected: errorp decides', async (t) => {
  const c = withCollection(t);
  // An IPv6 destination for an IPv4-only socket cannot be connected.
  const error = await t.throwsAsync(createAsyncIoStateAndConnectedUdpSocket(c, '::1', 9, { ipv6: false }), { code: 'ERR_COMMIO_BIND_FAILED' });
  t.truthy((error.cause as NodeJS.ErrnoException | undefined)?.code);
  t.is(await createAsyncIoStateAndConnectedUdpSocket(c, '::1', 9, { ipv6: false, errorp: false }), null);
});
