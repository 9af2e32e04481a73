import dgram from 'node:dgram';
import test, { type ExecutionContext } from 'ava';
import {
  asyncIoStateAbort,
  asyncIoStateSendMessage,
  asyncIoStateSendMessageToAddress,
  closeAsyncIoState,
  createAsyncIoState,
  type AsyncIoState,
} from '@commio/core';
import { checkNoLeaksAfterAll } from './helpers/leaks.js';
import { deferred, withCollection } from './helpers/fixtures.js';
import { connectedUdpState, refusingUdpPort, send, sendTo, udpPeer, udpState } from './helpers/udp-peers.js';

checkNoLeaksAfterAll(test);

/** A state over a socket whose sends never complete until released (a kernel that does not take the datagram). */
async function stalledState(t: ExecutionContext, options: { queueOutput?: boolean } = {}): Promise<{ state: AsyncIoState; release: () => void; held: number }> {
  const c = withCollection(t);
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const held: ((error: Error | null, bytes: number) => void)[] = [];
  // A test double of the kernel: keep each send's completion until released.
  socket.send = ((...args: unknown[]) => {
    held.push(args[args.length - 1] as (error: Error | null, bytes: number) => void);
  }) as typeof socket.send;
  const state = createAsyncIoState(c, socket, { udp: true, ...options });
  t.teardown(() => closeAsyncIoState(state));
  return {
    state,
    release: () => {
      for (const done of held.splice(0)) done(null, 1);
    },
    get held() {
      return held.length;
    },
  };
}

test('queued sends complete in order, each with its own (state) callback', async (t) => {
  const c = withCollection(t);
  const state = await udpState(t, c);
  const peer = await udpPeer(t);
  const order: string[] = [];
  const all = deferred();
  for (const word of ['a', 'b', 'c', 'd']) {
    asyncIoStateSendMessageToAddress(state, '127.0.0.1', peer.port, Buffer.from(word), (...args: unknown[]) => {
      t.is(args.length, 1);
      t.is(args[0], state);
      order.push(word);
      if (order.length === 4) all.resolve();
    });
  }
  t.deepEqual(order, [], 'no callback inside the call');
  t.is(state.queuedOutputLength, 4);
  await all.promise;
  t.deepEqual(order, ['a', 'b', 'c', 'd']);
  t.is(state.queuedOutputLength, 0);
  const got: string[] = [];
  for (let i = 0; i < 4; i++) got.push((await peer.next()).message.toString());
  t.deepEqual(got, ['a', 'b', 'c', 'd']);
});

test('a send to a host name waits for its lookup, and later sends stay behind it', async (t) => {
  const c = withCollection(t);
  const state = await udpState(t, c);
  const peer = await udpPeer(t);
  const first = sendTo(state, 'localhost', peer.port, 'by name');
  const second = sendTo(state, '127.0.0.1', peer.port, 'by literal');
  await Promise.all([first, second]);
  t.is((await peer.next()).message.toString(), 'by name');
  t.is((await peer.next()).message.toString(), 'by literal');
});

test('start and end select the bytes of the datagram', async (t) => {
  const c = withCollection(t);
  const state = await udpState(t, c);
  const peer = await udpPeer(t);
  await sendTo(state, '127.0.0.1', peer.port, Buffer.from('0123456789'), { start: 2, end: 5 });
  t.is((await peer.next()).message.toString(), '234');
  await sendTo(state, '127.0.0.1', peer.port, new Int8Array([104, 105]));
  t.is((await peer.next()).message.toString(), 'hi');
  await sendTo(state, '127.0.0.1', peer.port, Buffer.alloc(4), { start: 4 });
  t.is((await peer.next()).message.length, 0);
});

test('with queueOutput false a second send while one is in flight throws', async (t) => {
  const c = withCollection(t);
  const state = await udpState(t, c, { queueOutput: false });
  const peer = await udpPeer(t);
  t.false(state.queueOutput);
  const first = sendTo(state, '127.0.0.1', peer.port, 'one');
  t.throws(() => asyncIoStateSendMessageToAddress(state, '127.0.0.1', peer.port, Buffer.from('two'), () => {}), {
    code: 'ERR_COMMIO_OPERATION_IN_PROGRESS',
  });
  await first;
  await sendTo(state, '127.0.0.1', peer.port, 'three');
  t.is((await peer.next()).message.toString(), 'one');
  t.is((await peer.next()).message.toString(), 'three');
});

test('a send past maxQueuedOutput fails with ERR_COMMIO_OUTPUT_OVERFLOW; the next one works', async (t) => {
  const c = withCollection(t);
  const state = await udpState(t, c, { maxQueuedOutput: 100 });
  const peer = await udpPeer(t);
  const first = sendTo(state, '127.0.0.1', peer.port, Buffer.alloc(80, 'a'));
  const second = sendTo(state, '127.0.0.1', peer.port, Buffer.alloc(80, 'b'));
  t.deepEqual(await first, { status: null, via: 'callback' });
  const refused = await second;
  t.is(refused.via, 'errorCallback');
  t.is((refused.status as Error & { code: string }).code, 'ERR_COMMIO_OUTPUT_OVERFLOW');
  // A lone send is always taken, and a refused datagram does not poison the next.
  t.deepEqual(await sendTo(state, '127.0.0.1', peer.port, Buffer.alloc(150, 'c')), { status: null, via: 'callback' });
  t.is((await peer.next()).message.toString(), 'a'.repeat(80));
  t.is((await peer.next()).message.toString(), 'c'.repeat(150));
});

test('a send that takes longer than its timeout: callback with writeStatus timeout, once', async (t) => {
  const stalled = await stalledState(t);
  const { state } = stalled;
  const calls: unknown[] = [];
  const timedOut = deferred();
  asyncIoStateSendMessageToAddress(
    state,
    '127.0.0.1',
    9,
    Buffer.from('slow'),
    (s) => {
      calls.push(s.writeStatus);
      timedOut.resolve();
    },
    { timeout: 0.1 },
  );
  t.is(state.writeTimeout, 0.1);
  await timedOut.promise;
  t.deepEqual(calls, ['timeout']);
  t.is(stalled.held, 1);
  stalled.release();
  // The late completion runs no second callback; the next send starts clean.
  const next = sendTo(state, '127.0.0.1', 9, 'next', { timeout: null });
  t.is(state.writeStatus, null);
  stalled.release();
  t.deepEqual(await next, { status: null, via: 'callback' });
  t.deepEqual(calls, ['timeout']);
});

test("abort 'output' cancels the sends in flight: the abort callback gets (state), theirs never run", async (t) => {
  const stalled = await stalledState(t);
  const { state } = stalled;
  let called = 0;
  asyncIoStateSendMessageToAddress(state, '127.0.0.1', 9, Buffer.from('x'), () => called++);
  asyncIoStateSendMessageToAddress(state, '127.0.0.1', 9, Buffer.from('y'), () => called++);
  const aborted = deferred<unknown[]>();
  asyncIoStateAbort(state, (...args: unknown[]) => aborted.resolve(args), 'output');
  t.deepEqual(await aborted.promise, [state]);
  stalled.release();
  const after = sendTo(state, '127.0.0.1', 9, 'z');
  stalled.release();
  t.is((await after).status, null);
  t.is(called, 0);
  // With nothing in flight the abort callback gets (state, null, null).
  const idle = deferred<unknown[]>();
  asyncIoStateAbort(state, (...args: unknown[]) => idle.resolve(args), 'output');
  t.deepEqual(await idle.promise, [state, null, null]);
});

test('a connected state sends with asyncIoStateSendMessage; writeTimeout from the creator applies', async (t) => {
  const c = withCollection(t);
  const peer = await udpPeer(t);
  const state = await connectedUdpState(t, c, '127.0.0.1', peer.port, { writeTimeout: 5, userInfo: 'u', name: 'client' });
  t.is(state.writeTimeout, 5);
  t.is(state.userInfo, 'u');
  t.is(String(state), '#<async-io-state client>');
  const sent = deferred<unknown>();
  asyncIoStateSendMessage(state, Buffer.from('hello'), (s) => sent.resolve(s.writeStatus), { userInfo: 'v' });
  t.is(await sent.promise, null);
  t.is(state.userInfo, 'v');
  t.is((await peer.next()).message.toString(), 'hello');
});

test('a send on a connected socket to a gone peer still completes (UDP waits for no answer)', async (t) => {
  const c = withCollection(t);
  const port = await refusingUdpPort(t);
  const state = await connectedUdpState(t, c, '127.0.0.1', port);
  // Sends themselves succeed (UDP does not wait for an answer).
  t.deepEqual(await send(state, 'one'), { status: null, via: 'callback' });
  t.is(state.writeStatus, null);
});
