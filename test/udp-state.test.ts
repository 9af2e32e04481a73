import test from 'ava';
import {
  asyncIoStateAbort,
  asyncIoStateAbortAndClose,
  asyncIoStateAddress,
  asyncIoStateAttachSsl,
  asyncIoStateShutdown,
  asyncIoStatePeerAddress,
  asyncIoStateReadStatus,
  asyncIoStateReceiveMessage,
  asyncIoStateSendMessage,
  asyncIoStateSendMessageToAddress,
  asyncIoStateWaitForInput,
  asyncIoStateWriteStatus,
  callWaitStateCollection,
  closeAsyncIoState,
  closeWaitStateCollection,
  createAndRunWaitStateCollection,
  createAsyncIoStateAndUdpSocket,
  makeWaitStateCollection,
  waitForWaitStateCollection,
  waitStateCollectionStopLoop,
  type AsyncIoState,
} from '@commio/core';
import { checkNoLeaksAfterAll } from './helpers/leaks.js';
import { deferred, withCollection } from './helpers/fixtures.js';
import { connectedUdpState, receive, sendTo, udpPeer, udpState, until } from './helpers/udp-peers.js';

checkNoLeaksAfterAll(test);

function socketOf(state: AsyncIoState): import('node:dgram').Socket {
  return state.object as import('node:dgram').Socket;
}

function socketClosed(state: AsyncIoState): boolean {
  try {
    socketOf(state).address();
    return false;
  } catch {
    return true;
  }
}

test("abort 'input' during a receive: the abort callback gets (state, buffer, 0), the receive's never runs", async (t) => {
  const c = withCollection(t);
  const state = await udpState(t, c);
  const peer = await udpPeer(t);
  const buffer = Buffer.alloc(16);
  let called = false;
  asyncIoStateReceiveMessage(state, buffer, () => {
    called = true;
  });
  const aborted = deferred<unknown[]>();
  asyncIoStateAbort(state, (...args: unknown[]) => aborted.resolve(args));
  t.deepEqual(await aborted.promise, [state, buffer, 0]);
  // The read direction is free again, and the next datagram goes to the next receive.
  const next = receive(state);
  await peer.send('after abort', state.address?.port ?? 0, '127.0.0.1');
  t.is((await next).bytes.toString(), 'after abort');
  t.false(called);
});

test('an abort of wait-for-input gets (state); an abort with nothing active gets (state, null, null)', async (t) => {
  const c = withCollection(t);
  const state = await udpState(t, c);
  asyncIoStateWaitForInput(state, () => t.fail('the wait was aborted'));
  const aborted = deferred<unknown[]>();
  asyncIoStateAbort(state, (...args: unknown[]) => aborted.resolve(args), 'input');
  t.deepEqual(await aborted.promise, [state]);
  const idle = deferred<unknown[]>();
  asyncIoStateAbort(state, (...args: unknown[]) => idle.resolve(args));
  t.deepEqual(await idle.promise, [state, null, null]);
  const io = deferred<unknown[]>();
  asyncIoStateAbort(state, (...args: unknown[]) => io.resolve(args), 'io');
  t.deepEqual(await io.promise, [state]);
});

test('an abort called inside a callback of the state takes effect when it returns', async (t) => {
  const c = withCollection(t);
  const state = await udpState(t, c);
  const peer = await udpPeer(t);
  const seen: string[] = [];
  const aborted = deferred();
  asyncIoStateReceiveMessage(state, Buffer.alloc(16), (s) => {
    seen.push('first');
    // Aborts nothing yet: the receive started next is what it aborts.
    asyncIoStateAbort(s, (...args: unknown[]) => {
      seen.push(`abort ${String(args[2])} ${args[1] instanceof Uint8Array ? 'buffer' : 'null'}`);
      aborted.resolve();
    });
    asyncIoStateReceiveMessage(s, Buffer.alloc(16), () => seen.push('second'));
    seen.push('started second');
  });
  await peer.send('one', state.address?.port ?? 0, '127.0.0.1');
  await aborted.promise;
  t.deepEqual(seen, ['first', 'started second', 'abort 0 buffer']);
});

test('closeAsyncIoState closes the dgram socket, runs no pending callback, and is idempotent', async (t) => {
  const c = withCollection(t);
  const state = await udpState(t, c);
  const peer = await udpPeer(t);
  const port = state.address?.port ?? 0;
  asyncIoStateReceiveMessage(state, Buffer.alloc(8), () => t.fail('no callback after close'));
  const closed = new Promise<void>((resolve) => socketOf(state).once('close', resolve));
  t.is(closeAsyncIoState(state), 0);
  t.true(state.closed);
  await closed;
  t.true(socketClosed(state));
  t.is(closeAsyncIoState(state), 0);
  // The addresses are remembered after close.
  t.is(asyncIoStateAddress(state)?.port, port);
  t.is(asyncIoStatePeerAddress(state), null);
  t.throws(() => asyncIoStateReceiveMessage(state, Buffer.alloc(8), () => {}), { code: 'ERR_COMMIO_STATE_CLOSED' });
  await peer.send('into the void', port, '127.0.0.1');
});

test('abort-and-close runs the close callback with the state closed', async (t) => {
  const c = withCollection(t);
  const peer = await udpPeer(t);
  const state = await connectedUdpState(t, c, '127.0.0.1', peer.port);
  const peerAddress = state.peerAddress;
  asyncIoStateReceiveMessage(state, Buffer.alloc(8), () => t.fail('aborted'));
  const done = deferred<boolean>();
  asyncIoStateAbortAndClose(state, { closeCallback: (s) => done.resolve(s.closed) });
  t.true(await done.promise);
  t.deepEqual(state.peerAddress, peerAddress);
  await until(() => socketClosed(state), 'the socket is closed');
  t.pass();
});

test('statuses and readers: null when healthy, through the free functions too', async (t) => {
  const c = withCollection(t);
  const state = await udpState(t, c);
  t.is(asyncIoStateReadStatus(state), null);
  t.is(asyncIoStateWriteStatus(state), null);
  t.is(state.bufferedDataLength, 0);
  t.is(state.queuedOutputLength, 0);
  t.is(state.droppedMessageCount, 0);
  t.is(state.queuedMessageCount, 0);
  t.is(state.maxQueuedMessages, 1024);
  t.is(state.sslSide, null);
  t.is(state.collection, c);
});

test('callbacks run through the collection: a collection nobody runs delivers only when called', async (t) => {
  const c = makeWaitStateCollection();
  const state = await createAsyncIoStateAndUdpSocket(c, { localAddress: '127.0.0.1' });
  if (state === null) throw new Error('no state');
  t.teardown(() => closeWaitStateCollection(c));
  const peer = await udpPeer(t);
  let got = '';
  asyncIoStateReceiveMessage(state, Buffer.alloc(16), (_s, buffer, count) => {
    got = buffer.subarray(0, count).toString();
  });
  await peer.send('held', state.address?.port ?? 0, '127.0.0.1');
  await waitForWaitStateCollection(c);
  t.is(got, '');
  callWaitStateCollection(c);
  t.is(got, 'held');
});

test('callbacks of one collection run one at a time: a receive and a send never overlap', async (t) => {
  const c = withCollection(t);
  const state = await udpState(t, c);
  const peer = await udpPeer(t);
  let depth = 0;
  let maxDepth = 0;
  const enter = (): void => {
    depth++;
    maxDepth = Math.max(maxDepth, depth);
  };
  const n = 20;
  let done = 0;
  const all = deferred();
  const finish = (): void => {
    depth--;
    if (++done === 2 * n) all.resolve();
  };
  const receiveOne = (): void => {
    asyncIoStateReceiveMessage(state, Buffer.alloc(8), () => {
      enter();
      if (done < 2 * n - 1) receiveOne();
      finish();
    });
  };
  receiveOne();
  for (let i = 0; i < n; i++) {
    asyncIoStateSendMessageToAddress(state, '127.0.0.1', peer.port, Buffer.from('x'), () => {
      enter();
      finish();
    });
    await peer.send('y', state.address?.port ?? 0, '127.0.0.1');
  }
  await all.promise;
  t.is(maxDepth, 1);
});

test('stopping a created-and-run collection closes its UDP states and their sockets', async (t) => {
  const c = createAndRunWaitStateCollection('udp stop');
  t.teardown(() => waitStateCollectionStopLoop(c));
  const state = await createAsyncIoStateAndUdpSocket(c, { localAddress: '127.0.0.1' });
  if (state === null) throw new Error('no state');
  waitStateCollectionStopLoop(c);
  t.true(state.closed);
  await until(() => socketClosed(state), 'the socket is closed');
  await t.throwsAsync(createAsyncIoStateAndUdpSocket(c), { code: 'ERR_COMMIO_COLLECTION_CLOSED' });
});

test('a UDP state keeps working after a callback throws (the handler gets the state)', async (t) => {
  const errors: unknown[] = [];
  const c = createAndRunWaitStateCollection('udp throw', { handler: (object, error) => errors.push([object, (error as Error).message]) });
  t.teardown(() => waitStateCollectionStopLoop(c));
  const state = await createAsyncIoStateAndUdpSocket(c, { localAddress: '127.0.0.1' });
  if (state === null) throw new Error('no state');
  const peer = await udpPeer(t);
  asyncIoStateReceiveMessage(state, Buffer.alloc(8), () => {
    throw new Error('boom');
  });
  await peer.send('a', state.address?.port ?? 0, '127.0.0.1');
  await until(() => errors.length === 1, 'the handler ran');
  t.deepEqual(errors, [[state, 'boom']]);
  const next = receive(state);
  await peer.send('b', state.address?.port ?? 0, '127.0.0.1');
  t.is((await next).bytes.toString(), 'b');
  t.deepEqual(await sendTo(state, '127.0.0.1', peer.port, 'c'), { status: null, via: 'callback' });
});

test("shutdown on a UDP state: 'output' reports ENOTCONN (no stream to end), 'input' ends receiving", async (t) => {
  const c = withCollection(t);
  const peer = await udpPeer(t);
  const state = await connectedUdpState(t, c, '127.0.0.1', peer.port);
  t.is(asyncIoStateShutdown(state, 'output'), 'ENOTCONN');
  // Sends still work: nothing was shut.
  const sent = deferred<unknown>();
  asyncIoStateSendMessage(state, Buffer.from('still'), (s) => sent.resolve(s.writeStatus));
  t.is(await sent.promise, null);
  t.is((await peer.next()).message.toString(), 'still');
  t.is(asyncIoStateShutdown(state, 'input'), true);
  t.is((await receive(state)).status, 'eof');
});

test('TLS cannot be attached to a UDP state', async (t) => {
  const c = withCollection(t);
  const state = await udpState(t, c);
  t.throws(() => asyncIoStateAttachSsl(state, () => {}), { code: 'ERR_COMMIO_UNSUPPORTED' });
});
