/** Every bad argument of the UDP functions throws (or rejects with) its code before anything is opened. */
import dgram from 'node:dgram';
import net from 'node:net';
import test from 'ava';
import {
  asyncIoStateReadBuffer,
  asyncIoStateReadWithChecking,
  asyncIoStateReceiveMessage,
  asyncIoStateSendMessage,
  asyncIoStateSendMessageToAddress,
  asyncIoStateWriteBuffer,
  closeAsyncIoState,
  createAsyncIoState,
  createAsyncIoStateAndConnectedUdpSocket,
  createAsyncIoStateAndUdpSocket,
  createAsyncIoStateAndConnectedTcpSocket,
  type AsyncIoState,
} from '@commio/core';
import { checkNoLeaksAfterAll } from './helpers/leaks.js';
import { deferred, rawServer, withCollection } from './helpers/fixtures.js';
import { connectedUdpState, udpPeer, udpState } from './helpers/udp-peers.js';

checkNoLeaksAfterAll(test);

function udpSockets(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === 'UDPWrap' || kind === 'UDPWRAP').length;
}

const noop = (): void => {};

/** Bad arguments of the creators: [what, arguments after the collection, the option path named]. */
const badUnconnected: [string, unknown, string][] = [
  ['options not an object', 5, 'options'],
  ['unknown option', { localPrt: 1 }, 'options.localPrt'],
  ['errorp not a boolean', { errorp: 'no' }, 'options.errorp'],
  ['ipv6 not a keyword', { ipv6: 'v6' }, 'options.ipv6'],
  ['localAddress not a string', { localAddress: 7 }, 'options.localAddress'],
  ['localAddress empty', { localAddress: '' }, 'options.localAddress'],
  ['localPort out of range', { localPort: 70000 }, 'options.localPort'],
  ['localPort negative', { localPort: -1 }, 'options.localPort'],
  ['localPort an unknown service', { localPort: 'no-such-service-name' }, 'options.localPort'],
  ['readTimeout negative', { readTimeout: -1 }, 'options.readTimeout'],
  ['writeTimeout not a number', { writeTimeout: '1' }, 'options.writeTimeout'],
  ['queueOutput not a boolean', { queueOutput: 1 }, 'options.queueOutput'],
  ['maxQueuedOutput zero', { maxQueuedOutput: 0 }, 'options.maxQueuedOutput'],
  ['maxBufferedInput negative', { maxBufferedInput: -5 }, 'options.maxBufferedInput'],
  ['maxQueuedMessages zero', { maxQueuedMessages: 0 }, 'options.maxQueuedMessages'],
  ['maxQueuedMessages fractional', { maxQueuedMessages: 1.5 }, 'options.maxQueuedMessages'],
];

for (const [what, options, path] of badUnconnected) {
  test(`createAsyncIoStateAndUdpSocket rejects ${what}`, async (t) => {
    const c = withCollection(t);
    const before = udpSockets();
    const promise = createAsyncIoStateAndUdpSocket(c, options as never);
    t.is(udpSockets(), before, 'nothing opened');
    const error = await t.throwsAsync(promise, { code: 'ERR_COMMIO_INVALID_ARGUMENT' });
    t.is((error as unknown as { argument: string }).argument, path);
  });
}

test('createAsyncIoStateAndUdpSocket rejects a non-collection', async (t) => {
  await t.throwsAsync(createAsyncIoStateAndUdpSocket({} as never), { code: 'ERR_COMMIO_INVALID_ARGUMENT' });
});

const badConnected: [string, unknown, unknown, unknown, string][] = [
  ['hostspec not a string', 5, 9, undefined, 'hostspec'],
  ['hostspec empty', '', 9, undefined, 'hostspec'],
  ['service 0 (nothing to send to)', '127.0.0.1', 0, undefined, 'service'],
  ['service out of range', '127.0.0.1', 65536, undefined, 'service'],
  ['service null', '127.0.0.1', null, undefined, 'service'],
  ['service an unknown name', '127.0.0.1', 'no-such-service-name', undefined, 'service'],
  ["ipv6 'both' (unconnected only)", '127.0.0.1', 9, { ipv6: 'both' }, 'options.ipv6'],
  ['unknown option', '127.0.0.1', 9, { connectTimeout: 1 }, 'options.connectTimeout'],
  ['maxQueuedMessages zero', '127.0.0.1', 9, { maxQueuedMessages: 0 }, 'options.maxQueuedMessages'],
];

for (const [what, host, service, options, path] of badConnected) {
  test(`createAsyncIoStateAndConnectedUdpSocket rejects ${what}`, async (t) => {
    const c = withCollection(t);
    const before = udpSockets();
    const promise = createAsyncIoStateAndConnectedUdpSocket(c, host as never, service as never, options as never);
    t.is(udpSockets(), before, 'nothing opened');
    const error = await t.throwsAsync(promise, { code: 'ERR_COMMIO_INVALID_ARGUMENT' });
    t.is((error as unknown as { argument: string }).argument, path);
  });
}

test('a service name from the services database works for the connected creator', async (t) => {
  const c = withCollection(t);
  // 'domain' is 53 in every services database; connecting UDP sends nothing.
  const state = await connectedUdpState(t, c, '127.0.0.1', 'domain');
  t.is(state.peerAddress?.port, 53);
});

/** Bad arguments of receive: [what, call, code]. */
function receiveCases(state: AsyncIoState): [string, () => void, string][] {
  const buffer = Buffer.alloc(8);
  return [
    ['state not a state', () => asyncIoStateReceiveMessage({} as never, buffer, noop), 'ERR_COMMIO_INVALID_ARGUMENT'],
    ['buffer not a buffer', () => asyncIoStateReceiveMessage(state, 'x' as never, noop), 'ERR_COMMIO_INVALID_ARGUMENT'],
    ['callback missing', () => asyncIoStateReceiveMessage(state, buffer, undefined as never), 'ERR_COMMIO_INVALID_ARGUMENT'],
    ['options not an object', () => asyncIoStateReceiveMessage(state, buffer, noop, 1 as never), 'ERR_COMMIO_INVALID_ARGUMENT'],
    ['unknown option', () => asyncIoStateReceiveMessage(state, buffer, noop, { needAddress: true } as never), 'ERR_COMMIO_INVALID_ARGUMENT'],
    ['start past the end', () => asyncIoStateReceiveMessage(state, buffer, noop, { start: 9 }), 'ERR_COMMIO_INVALID_ARGUMENT'],
    ['end before start', () => asyncIoStateReceiveMessage(state, buffer, noop, { start: 4, end: 2 }), 'ERR_COMMIO_INVALID_ARGUMENT'],
    ['timeout negative', () => asyncIoStateReceiveMessage(state, buffer, noop, { timeout: -0.5 }), 'ERR_COMMIO_INVALID_ARGUMENT'],
    ['errorCallback not a function', () => asyncIoStateReceiveMessage(state, buffer, noop, { errorCallback: 5 as never }), 'ERR_COMMIO_INVALID_ARGUMENT'],
    ['needsAddress not a boolean', () => asyncIoStateReceiveMessage(state, buffer, noop, { needsAddress: 'yes' as never }), 'ERR_COMMIO_INVALID_ARGUMENT'],
  ];
}

test('asyncIoStateReceiveMessage: every bad argument throws before anything starts', async (t) => {
  const c = withCollection(t);
  const state = await udpState(t, c);
  for (const [what, call, code] of receiveCases(state)) {
    t.throws(call, { code }, what);
  }
  // Nothing started: the read direction is free.
  asyncIoStateReceiveMessage(state, Buffer.alloc(1), noop, { timeout: 0.01 });
  t.throws(() => asyncIoStateReceiveMessage(state, Buffer.alloc(1), noop), { code: 'ERR_COMMIO_OPERATION_IN_PROGRESS' }, 'a second receive');
});

test('the send functions: every bad argument throws before anything is sent', async (t) => {
  const c = withCollection(t);
  const state = await udpState(t, c);
  const buffer = Buffer.from('x');
  const cases: [string, () => void][] = [
    ['state not a state', () => asyncIoStateSendMessageToAddress({} as never, '127.0.0.1', 9, buffer, noop)],
    ['hostspec empty', () => asyncIoStateSendMessageToAddress(state, '', 9, buffer, noop)],
    ['hostspec not a string', () => asyncIoStateSendMessageToAddress(state, 1 as never, 9, buffer, noop)],
    ['service 0', () => asyncIoStateSendMessageToAddress(state, '127.0.0.1', 0, buffer, noop)],
    ['service out of range', () => asyncIoStateSendMessageToAddress(state, '127.0.0.1', 70000, buffer, noop)],
    ['service unknown', () => asyncIoStateSendMessageToAddress(state, '127.0.0.1', 'no-such-service-name', buffer, noop)],
    ['buffer not a buffer', () => asyncIoStateSendMessageToAddress(state, '127.0.0.1', 9, [1] as never, noop)],
    ['callback missing', () => asyncIoStateSendMessageToAddress(state, '127.0.0.1', 9, buffer, null as never)],
    ['unknown option', () => asyncIoStateSendMessageToAddress(state, '127.0.0.1', 9, buffer, noop, { needsAddress: true } as never)],
    ['end past the buffer', () => asyncIoStateSendMessageToAddress(state, '127.0.0.1', 9, buffer, noop, { end: 2 })],
    ['timeout not a number', () => asyncIoStateSendMessageToAddress(state, '127.0.0.1', 9, buffer, noop, { timeout: 'soon' as never })],
    ['errorCallback not a function', () => asyncIoStateSendMessageToAddress(state, '127.0.0.1', 9, buffer, noop, { errorCallback: {} as never })],
    ['send: state not a state', () => asyncIoStateSendMessage(null as never, buffer, noop)],
    ['send: buffer not a buffer', () => asyncIoStateSendMessage(state, 'x' as never, noop)],
  ];
  for (const [what, call] of cases) t.throws(call, { code: 'ERR_COMMIO_INVALID_ARGUMENT' }, what);
  t.is(state.queuedOutputLength, 0);
});

test('the wrong send function for the socket throws ERR_COMMIO_UNSUPPORTED', async (t) => {
  const c = withCollection(t);
  const peer = await udpPeer(t);
  const unconnected = await udpState(t, c);
  const connected = await connectedUdpState(t, c, '127.0.0.1', peer.port);
  t.throws(() => asyncIoStateSendMessage(unconnected, Buffer.from('x'), noop), { code: 'ERR_COMMIO_UNSUPPORTED' });
  t.throws(() => asyncIoStateSendMessageToAddress(connected, '127.0.0.1', peer.port, Buffer.from('x'), noop), { code: 'ERR_COMMIO_UNSUPPORTED' });
  t.is(unconnected.queuedOutputLength + connected.queuedOutputLength, 0);
});

test('stream operations on a UDP state, and UDP operations on a TCP state, throw ERR_COMMIO_UNSUPPORTED', async (t) => {
  const c = withCollection(t);
  const udp = await udpState(t, c);
  t.throws(() => asyncIoStateReadBuffer(udp, Buffer.alloc(4), noop), { code: 'ERR_COMMIO_UNSUPPORTED' });
  t.throws(() => asyncIoStateReadWithChecking(udp, noop), { code: 'ERR_COMMIO_UNSUPPORTED' });
  t.throws(() => asyncIoStateWriteBuffer(udp, Buffer.alloc(4), noop), { code: 'ERR_COMMIO_UNSUPPORTED' });

  const { port } = await rawServer(t);
  const connected = deferred<AsyncIoState>();
  const tcp = createAsyncIoStateAndConnectedTcpSocket(c, '127.0.0.1', port, (s) => connected.resolve(s));
  t.teardown(() => closeAsyncIoState(tcp));
  await connected.promise;
  t.throws(() => asyncIoStateReceiveMessage(tcp, Buffer.alloc(4), noop), { code: 'ERR_COMMIO_UNSUPPORTED' });
  t.throws(() => asyncIoStateSendMessage(tcp, Buffer.alloc(4), noop), { code: 'ERR_COMMIO_UNSUPPORTED' });
  t.throws(() => asyncIoStateSendMessageToAddress(tcp, '127.0.0.1', 9, Buffer.alloc(4), noop), { code: 'ERR_COMMIO_UNSUPPORTED' });
  t.is(tcp.droppedMessageCount, 0);
});

test('createAsyncIoState with a dgram socket: bad combinations throw ERR_COMMIO_INVALID_ARGUMENT', async (t) => {
  const c = withCollection(t);
  const unbound = dgram.createSocket('udp4');
  t.teardown(() => unbound.close());
  t.throws(() => createAsyncIoState(c, unbound, { udp: true }), { code: 'ERR_COMMIO_INVALID_ARGUMENT', message: /bound/ });
  const peer = await udpPeer(t);
  const bound = peer.socket;
  t.throws(() => createAsyncIoState(c, bound, { udp: 'connected' }), { code: 'ERR_COMMIO_INVALID_ARGUMENT', message: /options\.udp/ });
  t.throws(() => createAsyncIoState(c, bound, { udp: true, ipv6: true }), { code: 'ERR_COMMIO_INVALID_ARGUMENT', message: /options\.ipv6/ });
  t.throws(() => createAsyncIoState(c, bound, { udp: 'yes' as never }), { code: 'ERR_COMMIO_INVALID_ARGUMENT', message: /options\.udp/ });
  t.throws(() => createAsyncIoState(c, bound, { maxQueuedMessages: -1 }), { code: 'ERR_COMMIO_INVALID_ARGUMENT', message: /options\.maxQueuedMessages/ });
  t.throws(() => createAsyncIoState(c, new net.Socket(), { udp: true }), { code: 'ERR_COMMIO_INVALID_ARGUMENT' });
  t.is(c.memberCount, 0);
  // A good one, to be sure the failures above left the socket alone.
  const state = createAsyncIoState(c, bound, { maxQueuedMessages: 7 });
  t.is(state.maxQueuedMessages, 7);
  closeAsyncIoState(state, { keepAliveP: true });
});

test('the maxQueuedMessages property refuses bad values', async (t) => {
  const c = withCollection(t);
  const state = await udpState(t, c);
  t.throws(() => {
    state.maxQueuedMessages = 0;
  }, { code: 'ERR_COMMIO_INVALID_ARGUMENT' });
  t.is(state.maxQueuedMessages, 1024);
});

test('a closed UDP state refuses operations with ERR_COMMIO_STATE_CLOSED', async (t) => {
  const c = withCollection(t);
  const state = await udpState(t, c);
  closeAsyncIoState(state);
  t.throws(() => asyncIoStateReceiveMessage(state, Buffer.alloc(1), noop), { code: 'ERR_COMMIO_STATE_CLOSED' });
  t.throws(() => asyncIoStateSendMessageToAddress(state, '127.0.0.1', 9, Buffer.alloc(1), noop), { code: 'ERR_COMMIO_STATE_CLOSED' });
});
