/**
 * Bad input to every public function of collections, states, reading,
 * writing, ending and connecting throws its code synchronously (or rejects,
 * for the functions that return a promise), naming the argument, before
 * anything is opened.
 */
import test from 'ava';
import net from 'node:net';
import {
  makeWaitStateCollection,
  createAndRunWaitStateCollection,
  loopProcessingWaitStateCollection,
  waitForWaitStateCollection,
  callWaitStateCollection,
  waitStateCollectionStopLoop,
  waitStateCollectionAliveP,
  applyInWaitStateCollectionProcess,
  closeWaitStateCollection,
  createAsyncIoState,
  createAsyncIoStateAndConnectedTcpSocket,
  asyncIoStateReadBuffer,
  asyncIoStateReadWithChecking,
  asyncIoStateDiscard,
  asyncIoStateFinish,
  asyncIoStateWaitForInput,
  asyncIoStateGetBufferedData,
  asyncIoStateBufferedDataLength,
  asyncIoStateWriteBuffer,
  asyncIoStateAbort,
  asyncIoStateAbortAndClose,
  closeAsyncIoState,
  asyncIoStateShutdown,
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
  InvalidArgumentError,
  type AsyncIoState,
  type WaitStateCollection,
} from '@commio/core';
import { checkNoLeaksAfterAll } from './helpers/leaks.js';
import { deferred, rawServer, rawClient } from './helpers/fixtures.js';

checkNoLeaksAfterAll(test);

/** Calls with deliberately wrong types: the table bypasses the static types on purpose. */
type Loose = (...args: unknown[]) => unknown;
const loose = (fn: unknown): Loose => fn as Loose;

const noop = (): void => {};
const buf = Buffer.alloc(10);

/** [what, call, the argument path the error must name (or null to skip that check)] */
type Row = [string, (c: WaitStateCollection, s: AsyncIoState) => unknown, string | null];

const rows: Row[] = [
  // collections
  ['createAndRun: options not an object', () => loose(createAndRunWaitStateCollection)('x', 'opts'), 'options'],
  ['createAndRun: unknown option', () => loose(createAndRunWaitStateCollection)('x', { handlr: true }), 'options.handlr'],
  ['createAndRun: bad handler', () => loose(createAndRunWaitStateCollection)('x', { handler: 'print' }), 'options.handler'],
  ['createAndRun: handler false', () => loose(createAndRunWaitStateCollection)('x', { handler: false }), 'options.handler'],
  ['createAndRun: bad withBacktrace', () => loose(createAndRunWaitStateCollection)('x', { withBacktrace: 'verbose' }), 'options.withBacktrace'],
  ['createAndRun: withBacktrace null', () => loose(createAndRunWaitStateCollection)('x', { withBacktrace: null }), 'options.withBacktrace'],
  ['callWait: not a collection', () => loose(callWaitStateCollection)({}), 'collection'],
  ['stopLoop: not a collection', () => loose(waitStateCollectionStopLoop)('c'), 'collection'],
  ['aliveP: not a collection', () => loose(waitStateCollectionAliveP)(null), 'collection'],
  ['applyIn: not a collection', () => loose(applyInWaitStateCollectionProcess)(undefined, noop), 'collection'],
  ['applyIn: not a function', (c) => loose(applyInWaitStateCollectionProcess)(c, 'fn'), 'fn'],
  ['closeWait: not a collection', () => loose(closeWaitStateCollection)(1), 'collection'],

  // createAsyncIoState
  ['create: not a collection', () => loose(createAsyncIoState)({}, new net.Socket()), 'collection'],
  ['create: object not a socket', (c) => loose(createAsyncIoState)(c, {}), 'object'],
  ['create: object a string', (c) => loose(createAsyncIoState)(c, 'socket'), 'object'],
  ['create: object null', (c) => loose(createAsyncIoState)(c, null), 'object'],
  ['create: options not an object', (c) => loose(createAsyncIoState)(c, new net.Socket(), []), 'options'],
  ['create: unknown option', (c) => loose(createAsyncIoState)(c, new net.Socket(), { readTimout: 1 }), 'options.readTimout'],
  ['create: negative readTimeout', (c) => loose(createAsyncIoState)(c, new net.Socket(), { readTimeout: -1 }), 'options.readTimeout'],
  ['create: string writeTimeout', (c) => loose(createAsyncIoState)(c, new net.Socket(), { writeTimeout: '1' }), 'options.writeTimeout'],
  ['create: queueOutput not boolean', (c) => loose(createAsyncIoState)(c, new net.Socket(), { queueOutput: 'yes' }), 'options.queueOutput'],
  ['create: maxQueuedOutput 0', (c) => loose(createAsyncIoState)(c, new net.Socket(), { maxQueuedOutput: 0 }), 'options.maxQueuedOutput'],
  ['create: maxBufferedInput fraction', (c) => loose(createAsyncIoState)(c, new net.Socket(), { maxBufferedInput: 1.5 }), 'options.maxBufferedInput'],
  ['create: unknown udp keyword', (c) => loose(createAsyncIoState)(c, new net.Socket(), { udp: 'unconnected' }), 'options.udp'],
  ['create: udp on a TCP socket', (c) => loose(createAsyncIoState)(c, new net.Socket(), { udp: true }), 'object'],
  ['create: ipv6 not boolean', (c) => loose(createAsyncIoState)(c, new net.Socket(), { ipv6: 'both' }), 'options.ipv6'],

  // readers
  ...(
    [
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
    ] as const
  ).map((fn): Row => [`${fn.name}: not a state`, () => loose(fn)({}), 'state']),

  // read-buffer
  ['readBuffer: not a state', () => loose(asyncIoStateReadBuffer)({}, buf, noop), 'state'],
  ['readBuffer: buffer a string', (_c, s) => loose(asyncIoStateReadBuffer)(s, 'buffer', noop), 'buffer'],
  ['readBuffer: buffer an array', (_c, s) => loose(asyncIoStateReadBuffer)(s, [1, 2], noop), 'buffer'],
  ['readBuffer: no callback', (_c, s) => loose(asyncIoStateReadBuffer)(s, buf), 'callback'],
  ['readBuffer: options not an object', (_c, s) => loose(asyncIoStateReadBuffer)(s, buf, noop, 5), 'options'],
  ['readBuffer: unknown option', (_c, s) => loose(asyncIoStateReadBuffer)(s, buf, noop, { maxRead: 1 }), 'options.maxRead'],
  ['readBuffer: negative start', (_c, s) => loose(asyncIoStateReadBuffer)(s, buf, noop, { start: -1 }), 'options.start'],
  ['readBuffer: start past the end', (_c, s) => loose(asyncIoStateReadBuffer)(s, buf, noop, { start: 11 }), 'options.start'],
  ['readBuffer: end past the buffer', (_c, s) => loose(asyncIoStateReadBuffer)(s, buf, noop, { end: 11 }), 'options.end'],
  ['readBuffer: end before start', (_c, s) => loose(asyncIoStateReadBuffer)(s, buf, noop, { start: 5, end: 4 }), 'options.end'],
  ['readBuffer: fractional start', (_c, s) => loose(asyncIoStateReadBuffer)(s, buf, noop, { start: 1.5 }), 'options.start'],
  ['readBuffer: negative timeout', (_c, s) => loose(asyncIoStateReadBuffer)(s, buf, noop, { timeout: -0.1 }), 'options.timeout'],
  ['readBuffer: NaN timeout', (_c, s) => loose(asyncIoStateReadBuffer)(s, buf, noop, { timeout: Number.NaN }), 'options.timeout'],
  ['readBuffer: bad errorCallback', (_c, s) => loose(asyncIoStateReadBuffer)(s, buf, noop, { errorCallback: 'x' }), 'options.errorCallback'],

  // read-with-checking, discard, finish
  ['readWithChecking: not a state', () => loose(asyncIoStateReadWithChecking)(null, noop), 'state'],
  ['readWithChecking: no callback', (_c, s) => loose(asyncIoStateReadWithChecking)(s), 'callback'],
  ['readWithChecking: maxRead 0', (_c, s) => loose(asyncIoStateReadWithChecking)(s, noop, { maxRead: 0 }), 'options.maxRead'],
  ['readWithChecking: maxRead string', (_c, s) => loose(asyncIoStateReadWithChecking)(s, noop, { maxRead: '10' }), 'options.maxRead'],
  ['readWithChecking: unknown elementType', (_c, s) => loose(asyncIoStateReadWithChecking)(s, noop, { elementType: 'character' }), 'options.elementType'],
  ['readWithChecking: negative timeout', (_c, s) => loose(asyncIoStateReadWithChecking)(s, noop, { timeout: -1 }), 'options.timeout'],
  ['readWithChecking: bad errorCallback', (_c, s) => loose(asyncIoStateReadWithChecking)(s, noop, { errorCallback: 1 }), 'options.errorCallback'],
  ['readWithChecking: unknown option', (_c, s) => loose(asyncIoStateReadWithChecking)(s, noop, { start: 0 }), 'options.start'],
  ['discard: not a state', () => loose(asyncIoStateDiscard)({}, 1), 'state'],
  ['discard: negative', (_c, s) => loose(asyncIoStateDiscard)(s, -1), 'n'],
  ['discard: not a number', (_c, s) => loose(asyncIoStateDiscard)(s, '1'), 'n'],
  ['discard: missing', (_c, s) => loose(asyncIoStateDiscard)(s), 'n'],
  ['discard: fraction', (_c, s) => loose(asyncIoStateDiscard)(s, 1.5), 'n'],
  ['discard: NaN', (_c, s) => loose(asyncIoStateDiscard)(s, Number.NaN), 'n'],
  ['finish: not a number', (_c, s) => loose(asyncIoStateFinish)(s, '1'), 'n'],
  ['finish: not a state', () => loose(asyncIoStateFinish)('s'), 'state'],
  ['finish: negative', (_c, s) => loose(asyncIoStateFinish)(s, -2), 'n'],
  ['finish: fraction', (_c, s) => loose(asyncIoStateFinish)(s, 0.5), 'n'],

  // wait-for-input, buffered data
  ['waitForInput: not a state', () => loose(asyncIoStateWaitForInput)(1, noop), 'state'],
  ['waitForInput: no callback', (_c, s) => loose(asyncIoStateWaitForInput)(s, null), 'callback'],
  ['waitForInput: negative timeout', (_c, s) => loose(asyncIoStateWaitForInput)(s, noop, { timeout: -5 }), 'options.timeout'],
  ['waitForInput: unknown option', (_c, s) => loose(asyncIoStateWaitForInput)(s, noop, { errorCallback: noop }), 'options.errorCallback'],
  ['getBufferedData: not a state', () => loose(asyncIoStateGetBufferedData)({}, buf), 'state'],
  ['getBufferedData: not a buffer', (_c, s) => loose(asyncIoStateGetBufferedData)(s, 'x'), 'buffer'],
  ['getBufferedData: end past the buffer', (_c, s) => loose(asyncIoStateGetBufferedData)(s, buf, { end: 100 }), 'options.end'],
  ['getBufferedData: unknown option', (_c, s) => loose(asyncIoStateGetBufferedData)(s, buf, { count: 1 }), 'options.count'],

  // write-buffer
  ['writeBuffer: not a state', () => loose(asyncIoStateWriteBuffer)({}, buf, noop), 'state'],
  ['writeBuffer: buffer a string', (_c, s) => loose(asyncIoStateWriteBuffer)(s, 'text', noop), 'buffer'],
  ['writeBuffer: no callback', (_c, s) => loose(asyncIoStateWriteBuffer)(s, buf, undefined), 'callback'],
  ['writeBuffer: start past the end', (_c, s) => loose(asyncIoStateWriteBuffer)(s, buf, noop, { start: 20 }), 'options.start'],
  ['writeBuffer: end before start', (_c, s) => loose(asyncIoStateWriteBuffer)(s, buf, noop, { start: 3, end: 2 }), 'options.end'],
  ['writeBuffer: negative timeout', (_c, s) => loose(asyncIoStateWriteBuffer)(s, buf, noop, { timeout: -1 }), 'options.timeout'],
  ['writeBuffer: string timeout', (_c, s) => loose(asyncIoStateWriteBuffer)(s, buf, noop, { timeout: '1' }), 'options.timeout'],
  ['writeBuffer: bad errorCallback', (_c, s) => loose(asyncIoStateWriteBuffer)(s, buf, noop, { errorCallback: {} }), 'options.errorCallback'],
  ['writeBuffer: unknown option', (_c, s) => loose(asyncIoStateWriteBuffer)(s, buf, noop, { queueOutput: true }), 'options.queueOutput'],

  // ending
  ['abort: not a state', () => loose(asyncIoStateAbort)({}, noop), 'state'],
  ['abort: callback not a function', (_c, s) => loose(asyncIoStateAbort)(s, 'cb'), 'abortCallback'],
  ['abort: unknown direction', (_c, s) => loose(asyncIoStateAbort)(s, noop, 'both'), 'direction'],
  ['abort: direction in capitals', (_c, s) => loose(asyncIoStateAbort)(s, noop, 'INPUT'), 'direction'],
  ['abort: direction null', (_c, s) => loose(asyncIoStateAbort)(s, noop, null), 'direction'],
  ['abortAndClose: not a state', () => loose(asyncIoStateAbortAndClose)(undefined), 'state'],
  ['abortAndClose: bad closeCallback', (_c, s) => loose(asyncIoStateAbortAndClose)(s, { closeCallback: 1 }), 'options.closeCallback'],
  ['abortAndClose: keepAliveP not boolean', (_c, s) => loose(asyncIoStateAbortAndClose)(s, { keepAliveP: 'yes' }), 'options.keepAliveP'],
  ['abortAndClose: unknown option', (_c, s) => loose(asyncIoStateAbortAndClose)(s, { keepAlive: true }), 'options.keepAlive'],
  ['close: not a state', () => loose(closeAsyncIoState)({}), 'state'],
  ['close: keepAliveP not boolean', (_c, s) => loose(closeAsyncIoState)(s, { keepAliveP: 1 }), 'options.keepAliveP'],
  ['close: unknown option', (_c, s) => loose(closeAsyncIoState)(s, { abort: true }), 'options.abort'],
  ['shutdown: not a state', () => loose(asyncIoStateShutdown)({}, 'output'), 'state'],
  ['shutdown: unknown direction', (_c, s) => loose(asyncIoStateShutdown)(s, 'both'), 'direction'],
  ['shutdown: missing direction', (_c, s) => loose(asyncIoStateShutdown)(s), 'direction'],
  ['shutdown: abort not boolean', (_c, s) => loose(asyncIoStateShutdown)(s, 'output', { abort: 'yes' }), 'options.abort'],
  ['shutdown: bad callback', (_c, s) => loose(asyncIoStateShutdown)(s, 'output', { callback: 1 }), 'options.callback'],
  ['shutdown: unknown option', (_c, s) => loose(asyncIoStateShutdown)(s, 'output', { keepAliveP: true }), 'options.keepAliveP'],

  // connect
  ['connect: not a collection', () => loose(createAsyncIoStateAndConnectedTcpSocket)({}, '127.0.0.1', 1, noop), 'collection'],
  ['connect: empty hostspec', (c) => loose(createAsyncIoStateAndConnectedTcpSocket)(c, '', 1, noop), 'hostspec'],
  ['connect: numeric hostspec', (c) => loose(createAsyncIoStateAndConnectedTcpSocket)(c, 0x7f000001, 1, noop), 'hostspec'],
  ['connect: negative port', (c) => loose(createAsyncIoStateAndConnectedTcpSocket)(c, '127.0.0.1', -1, noop), 'service'],
  ['connect: port out of range', (c) => loose(createAsyncIoStateAndConnectedTcpSocket)(c, '127.0.0.1', 65536, noop), 'service'],
  ['connect: fractional port', (c) => loose(createAsyncIoStateAndConnectedTcpSocket)(c, '127.0.0.1', 80.5, noop), 'service'],
  ['connect: decimal string out of range', (c) => loose(createAsyncIoStateAndConnectedTcpSocket)(c, '127.0.0.1', '99999', noop), 'service'],
  ['connect: unknown service name', (c) => loose(createAsyncIoStateAndConnectedTcpSocket)(c, '127.0.0.1', 'no-such-service-xyz', noop), 'service'],
  ['connect: service null', (c) => loose(createAsyncIoStateAndConnectedTcpSocket)(c, '127.0.0.1', null, noop), 'service'],
  ['connect: no callback', (c) => loose(createAsyncIoStateAndConnectedTcpSocket)(c, '127.0.0.1', 1), 'callback'],
  ['connect: unknown option', (c) => loose(createAsyncIoStateAndConnectedTcpSocket)(c, '127.0.0.1', 1, noop, { timeout: 1 }), 'options.timeout'],
  ['connect: negative connectTimeout', (c) => loose(createAsyncIoStateAndConnectedTcpSocket)(c, '127.0.0.1', 1, noop, { connectTimeout: -1 }), 'options.connectTimeout'],
  ['connect: string connectTimeout', (c) => loose(createAsyncIoStateAndConnectedTcpSocket)(c, '127.0.0.1', 1, noop, { connectTimeout: '5' }), 'options.connectTimeout'],
  ['connect: negative readTimeout', (c) => loose(createAsyncIoStateAndConnectedTcpSocket)(c, '127.0.0.1', 1, noop, { readTimeout: -1 }), 'options.readTimeout'],
  ['connect: host name as localAddress', (c) => loose(createAsyncIoStateAndConnectedTcpSocket)(c, '127.0.0.1', 1, noop, { localAddress: 'localhost' }), 'options.localAddress'],
  ['connect: numeric localAddress', (c) => loose(createAsyncIoStateAndConnectedTcpSocket)(c, '127.0.0.1', 1, noop, { localAddress: 1 }), 'options.localAddress'],
  ['connect: localPort out of range', (c) => loose(createAsyncIoStateAndConnectedTcpSocket)(c, '127.0.0.1', 1, noop, { localPort: 70000 }), 'options.localPort'],
  ['connect: keepalive not boolean', (c) => loose(createAsyncIoStateAndConnectedTcpSocket)(c, '127.0.0.1', 1, noop, { keepalive: 'yes' }), 'options.keepalive'],
  ['connect: nodelay not boolean', (c) => loose(createAsyncIoStateAndConnectedTcpSocket)(c, '127.0.0.1', 1, noop, { nodelay: 1 }), 'options.nodelay'],
  ['connect: unknown ipv6 keyword', (c) => loose(createAsyncIoStateAndConnectedTcpSocket)(c, '127.0.0.1', 1, noop, { ipv6: 'both' }), 'options.ipv6'],
  ['connect: queueOutput not boolean', (c) => loose(createAsyncIoStateAndConnectedTcpSocket)(c, '127.0.0.1', 1, noop, { queueOutput: 1 }), 'options.queueOutput'],
];

test.serial('every bad argument throws ERR_COMMIO_INVALID_ARGUMENT naming it, before anything opens', async (t) => {
  const c = createAndRunWaitStateCollection('arguments');
  t.teardown(() => waitStateCollectionStopLoop(c));
  const { port } = await rawServer(t);
  const socket = await rawClient(t, port);
  const state = createAsyncIoState(c, socket);
  const listeners = socket.listenerCount('data');
  // Count the connections any call would start.
  const connect = Reflect.get(net.Socket.prototype, 'connect') as (...a: unknown[]) => net.Socket;
  let connects = 0;
  Reflect.set(net.Socket.prototype, 'connect', function (this: net.Socket, ...args: unknown[]) {
    connects++;
    return connect.apply(this, args);
  });
  t.teardown(() => {
    Reflect.set(net.Socket.prototype, 'connect', connect);
  });
  for (const [what, call, argument] of rows) {
    const members = c.memberCount;
    const error = t.throws(() => call(c, state), { instanceOf: InvalidArgumentError, code: 'ERR_COMMIO_INVALID_ARGUMENT' }, what);
    if (argument !== null) t.is((error as InvalidArgumentError | undefined)?.argument, argument, what);
    t.is(c.memberCount, members, `${what}: no state was made`);
  }
  // Nothing started on the state or anywhere else.
  t.is(state.reader.op, 0);
  t.is(socket.listenerCount('data'), listeners);
  t.false(state.closed);
  t.is(connects, 0, 'no connection was started');
  // (The count does see a good call.)
  closeAsyncIoState(createAsyncIoStateAndConnectedTcpSocket(c, '127.0.0.1', port, noop));
  t.is(connects, 1);
});

test('the promise-returning collection functions reject bad arguments instead of throwing', async (t) => {
  const loop = loose(loopProcessingWaitStateCollection);
  const wait = loose(waitForWaitStateCollection);
  let loopResult: unknown;
  let waitResult: unknown;
  t.notThrows(() => {
    loopResult = loop({});
    waitResult = wait('c');
  });
  await t.throwsAsync(loopResult as Promise<void>, { code: 'ERR_COMMIO_INVALID_ARGUMENT' });
  await t.throwsAsync(waitResult as Promise<void>, { code: 'ERR_COMMIO_INVALID_ARGUMENT' });
});

test('use after close throws ERR_COMMIO_STATE_CLOSED; close, abort-and-close and the buffered data still work', async (t) => {
  const c = createAndRunWaitStateCollection('after-close');
  t.teardown(() => waitStateCollectionStopLoop(c));
  const { port } = await rawServer(t);
  const state = createAsyncIoState(c, await rawClient(t, port));
  closeAsyncIoState(state);
  const closedCalls: [string, () => unknown][] = [
    ['readBuffer', () => asyncIoStateReadBuffer(state, buf, noop)],
    ['readWithChecking', () => asyncIoStateReadWithChecking(state, noop)],
    ['waitForInput', () => asyncIoStateWaitForInput(state, noop)],
    ['writeBuffer', () => asyncIoStateWriteBuffer(state, buf, noop)],
    ['abort', () => asyncIoStateAbort(state, noop)],
    ['abort io', () => asyncIoStateAbort(state, noop, 'io')],
    ['shutdown', () => asyncIoStateShutdown(state, 'output')],
  ];
  for (const [what, call] of closedCalls) t.throws(call, { code: 'ERR_COMMIO_STATE_CLOSED' }, what);
  // Bad arguments are still reported as such.
  t.throws(() => loose(asyncIoStateReadBuffer)(state, 'x', noop), { code: 'ERR_COMMIO_STATE_CLOSED' });
  t.is(closeAsyncIoState(state), 0);
  t.is(asyncIoStateGetBufferedData(state, buf), 0);
  t.is(asyncIoStateBufferedDataLength(state), 0);
  const closed = deferred();
  asyncIoStateAbortAndClose(state, { closeCallback: () => closed.resolve() });
  await closed.promise;
  t.throws(() => asyncIoStateDiscard(state, 0), { code: 'ERR_COMMIO_NOT_IN_CALLBACK' });
});

test('a stopped collection refuses new states, work and loops with ERR_COMMIO_COLLECTION_CLOSED', async (t) => {
  const c = createAndRunWaitStateCollection('dead');
  waitStateCollectionStopLoop(c);
  const socket = new net.Socket();
  t.throws(() => createAsyncIoState(c, socket), { code: 'ERR_COMMIO_COLLECTION_CLOSED' });
  t.throws(() => createAsyncIoStateAndConnectedTcpSocket(c, '127.0.0.1', 1, noop), { code: 'ERR_COMMIO_COLLECTION_CLOSED' });
  t.throws(() => applyInWaitStateCollectionProcess(c, noop), { code: 'ERR_COMMIO_COLLECTION_CLOSED' });
  await t.throwsAsync(loopProcessingWaitStateCollection(c), { code: 'ERR_COMMIO_COLLECTION_CLOSED' });
  // Stopping and closing again are harmless.
  t.notThrows(() => waitStateCollectionStopLoop(c));
  t.notThrows(() => closeWaitStateCollection(c));
  t.is(c.memberCount, 0);
  // Bad arguments win over the dead collection: they are checked first.
  t.throws(() => loose(createAsyncIoState)(c, socket, { readTimeout: -1 }), { code: 'ERR_COMMIO_INVALID_ARGUMENT' });
  const made = makeWaitStateCollection();
  t.true(made.alive);
});
