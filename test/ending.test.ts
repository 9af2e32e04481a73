/**
 * Ending: abort in each direction, abort-and-close, close (idempotent, no
 * callbacks afterwards, keep-alive), and shutdown.
 */
import test, { type ExecutionContext } from 'ava';
import {
  applyInWaitStateCollectionProcess,
  asyncIoStateReadBuffer,
  asyncIoStateReadWithChecking,
  asyncIoStateWaitForInput,
  asyncIoStateWriteBuffer,
  asyncIoStateAbort,
  asyncIoStateAbortAndClose,
  asyncIoStateDiscard,
  asyncIoStateFinish,
  asyncIoStateShutdown,
  asyncIoStateGetBufferedData,
  closeAsyncIoState,
  type AsyncIoState,
  type WaitStateCollection,
} from '@commio/core';
import { checkNoLeaksAfterAll } from './helpers/leaks.js';
import { deferred, readBytes, statePair, testTransport } from './helpers/fixtures.js';

checkNoLeaksAfterAll(test);

/** Resolves after the collection ran everything queued before it (applyIn is FIFO). */
function drained(c: WaitStateCollection): Promise<void> {
  return new Promise((resolve) => applyInWaitStateCollectionProcess(c, () => setImmediate(resolve)));
}

/** Resolves with the arguments of the abort callback. */
function abort(state: AsyncIoState, direction?: 'input' | 'output' | 'io'): Promise<unknown[]> {
  const done = deferred<unknown[]>();
  const callback = (...args: unknown[]): void => done.resolve(args);
  if (direction === undefined) asyncIoStateAbort(state, callback);
  else asyncIoStateAbort(state, callback, direction);
  return done.promise;
}

function fail(t: ExecutionContext, what: string) {
  return (): void => t.fail(`${what} must not be called`);
}

test("abort 'input' (the default) of a read-buffer: (state, buffer, count so far); the read's callback never runs", async (t) => {
  const { state, peer, c } = await statePair(t);
  peer.setNoDelay(true);
  const buffer = Buffer.alloc(10);
  asyncIoStateReadBuffer(state, buffer, fail(t, 'the aborted read'));
  peer.write('abc');
  await new Promise<void>((resolve) => {
    const poll = (): void => (buffer[2] === 0x63 ? resolve() : void setImmediate(poll));
    poll();
  });
  let ran = false;
  const args = abort(state).then((a) => {
    ran = true;
    return a;
  });
  t.false(ran, 'the abort callback never runs inside the call');
  t.deepEqual(await args, [state, buffer, 3]);
  peer.write('more');
  await drained(c);
  // The state is usable again.
  const done = deferred<string>();
  asyncIoStateReadBuffer(state, Buffer.alloc(4), (_s, b) => done.resolve(b.toString()));
  t.is(await done.promise, 'more');
});

test("abort 'input' of wait-for-input: (state)", async (t) => {
  const { state } = await statePair(t);
  asyncIoStateWaitForInput(state, fail(t, 'wait-for-input'));
  t.deepEqual(await abort(state, 'input'), [state]);
});

test("abort 'input' of read-with-checking: (state, view, end)", async (t) => {
  const { state, peer } = await statePair(t);
  const seen = deferred();
  asyncIoStateReadWithChecking(state, () => seen.resolve());
  peer.write('xyz');
  await seen.promise;
  const [s, view, end] = await abort(state);
  t.is(s, state);
  t.is(end, 3);
  t.is(Buffer.from(view as Uint8Array).subarray(0, 3).toString(), 'xyz');
});

test("abort with nothing active: (state, null, null); 'io': just (state)", async (t) => {
  const { state } = await statePair(t);
  t.deepEqual(await abort(state, 'input'), [state, null, null]);
  t.deepEqual(await abort(state, 'output'), [state, null, null]);
  t.deepEqual(await abort(state, 'io'), [state]);
});

test("abort 'output' of a write: (state, buffer, 0); its callback never runs; a new write may start", async (t) => {
  const { state, peer } = await statePair(t, { maxQueuedOutput: 64 * 1024 * 1024 });
  peer.pause();
  const big = Buffer.alloc(32 * 1024 * 1024);
  asyncIoStateWriteBuffer(state, big, fail(t, 'the aborted write'));
  t.deepEqual(await abort(state, 'output'), [state, big, 0]);
  // No longer in progress for the program.
  t.notThrows(() => asyncIoStateWriteBuffer(state, Buffer.from('x'), () => {}));
});

test("abort 'io' stops both directions and calls back once with (state)", async (t) => {
  const { state, peer, c } = await statePair(t, { maxQueuedOutput: 64 * 1024 * 1024 });
  peer.pause();
  asyncIoStateReadBuffer(state, Buffer.alloc(4), fail(t, 'the read'));
  asyncIoStateWriteBuffer(state, Buffer.alloc(32 * 1024 * 1024), fail(t, 'the write'));
  let calls = 0;
  const done = deferred<unknown[]>();
  asyncIoStateAbort(state, (...args: unknown[]) => {
    calls++;
    done.resolve(args);
  }, 'io');
  t.deepEqual(await done.promise, [state]);
  peer.resume();
  peer.write('data');
  await drained(c);
  await drained(c);
  t.is(calls, 1);
});

test('an abort inside one of the state’s own callbacks takes effect after it returns', async (t) => {
  const { state, peer } = await statePair(t);
  const log: string[] = [];
  const aborted = deferred();
  asyncIoStateReadWithChecking(state, (s, _view, end) => {
    log.push(`call ${end}`);
    asyncIoStateAbort(s, (_s: AsyncIoState, _v: Uint8Array, e: number) => {
      log.push(`abort ${e}`);
      aborted.resolve();
    });
    // Still inside the callback: the read is still active.
    t.throws(() => asyncIoStateWaitForInput(s, () => {}), { code: 'ERR_COMMIO_OPERATION_IN_PROGRESS' });
    t.notThrows(() => asyncIoStateDiscard(s, 0));
    log.push('returning');
  });
  peer.write('abc');
  await aborted.promise;
  t.deepEqual(log, ['call 3', 'returning', 'abort 3']);
});

test('an operation that completed before the abort still gets its own callback; the abort then sees nothing active', async (t) => {
  const { state, peer } = await statePair(t);
  peer.write('ab');
  const order: string[] = [];
  const done = deferred();
  asyncIoStateReadBuffer(state, Buffer.alloc(2), (s) => {
    order.push('read');
    // The read is over: an abort from its own callback finds nothing active.
    asyncIoStateAbort(s, (...args: unknown[]) => {
      order.push(`abort ${args.length === 3 && args[1] === null ? 'idle' : 'active'}`);
      done.resolve();
    });
  });
  await done.promise;
  t.deepEqual(order, ['read', 'abort idle']);
});

test('abortAndClose: pending callbacks never run, closeCallback(state) runs after the close, the socket is destroyed', async (t) => {
  const { state, peer, transportClosed } = await statePair(t);
  asyncIoStateReadBuffer(state, Buffer.alloc(4), fail(t, 'the read'));
  const peerEnded = deferred();
  peer.on('end', () => peerEnded.resolve());
  peer.resume();
  const closed = deferred<AsyncIoState>();
  let ranInside = false;
  asyncIoStateAbortAndClose(state, {
    closeCallback: (s) => {
      ranInside = true;
      t.true(s.closed);
      closed.resolve(s);
    },
  });
  t.false(ranInside);
  t.is(await closed.promise, state);
  t.true(transportClosed());
  await peerEnded.promise;
});

test('abortAndClose inside a callback happens when it returns; keepAliveP keeps the socket open', async (t) => {
  const pair = await statePair(t);
  const { state, peer } = pair;
  const closed = deferred();
  asyncIoStateReadWithChecking(state, (s) => {
    asyncIoStateAbortAndClose(s, { keepAliveP: true, closeCallback: () => closed.resolve() });
    t.false(s.closed, 'not yet: inside its own callback');
  });
  peer.write('x');
  await closed.promise;
  t.true(state.closed);
  // On the native transport the socket handed back is a new net.Socket on the same descriptor.
  const socket = pair.socket;
  t.false(socket.destroyed);
  const arrived = readBytes(peer, 4);
  socket.write('raw!');
  t.is((await arrived).toString(), 'raw!');
});

test('abortAndClose is idempotent and runs the closeCallback each time', async (t) => {
  const { state } = await statePair(t);
  let calls = 0;
  const twice = deferred();
  const closeCallback = (): void => {
    if (++calls === 2) twice.resolve();
  };
  asyncIoStateAbortAndClose(state, { closeCallback });
  asyncIoStateAbortAndClose(state, { closeCallback });
  await twice.promise;
  t.true(state.closed);
});

test('close is idempotent, returns bufferedDataLength, and pending callbacks never run afterwards', async (t) => {
  const { state, peer, transportClosed, c } = await statePair(t, { queueOutput: true });
  peer.write('0123456789');
  await new Promise<void>((resolve) => asyncIoStateReadBuffer(state, Buffer.alloc(4), () => resolve()));
  await new Promise<void>((resolve) => {
    const poll = (): void => (state.bufferedDataLength === 6 ? resolve() : void setImmediate(poll));
    poll();
  });
  asyncIoStateWaitForInput(state, fail(t, 'wait-for-input'));
  asyncIoStateWriteBuffer(state, Buffer.from('pending'), fail(t, 'the write'));
  asyncIoStateAbort(state, fail(t, 'the abort callback'));
  t.is(closeAsyncIoState(state), 6);
  t.is(closeAsyncIoState(state), 6);
  t.true(state.closed);
  t.true(transportClosed());
  await drained(c);
  await drained(c);
  const rest = Buffer.alloc(6);
  t.is(asyncIoStateGetBufferedData(state, rest), 6);
  t.is(rest.toString(), '456789');
});

test('close with keepAliveP hands the socket back usable; reads continue raw', async (t) => {
  const pair = await statePair(t);
  const { state, peer } = pair;
  const before = state.object;
  peer.write('hello');
  await new Promise<void>((resolve) => asyncIoStateReadBuffer(state, Buffer.alloc(2), () => resolve()));
  closeAsyncIoState(state, { keepAliveP: true });
  // Node: the state's own socket; native: a net.Socket made on the descriptor the addon handed back.
  const socket = pair.socket;
  t.false(socket.destroyed);
  t.is(state.object, socket);
  if (testTransport === 'node') t.is<unknown, unknown>(socket, before);
  const arrived = readBytes(peer, 3);
  socket.write('raw');
  t.is((await arrived).toString(), 'raw');
  const back = readBytes(socket, 4);
  socket.resume();
  peer.write('back');
  const bytes = (await back).toString();
  // Bytes the state had read ahead stay in the state; the rest arrives raw.
  t.true(bytes.endsWith('back'));
  socket.destroy();
});

test("shutdown('output') sends FIN after the queued output is flushed; the state can still read", async (t) => {
  const { state, peer } = await statePair(t, { queueOutput: true });
  const parts = ['one,', 'two,', 'three'];
  let written = 0;
  for (const part of parts) asyncIoStateWriteBuffer(state, Buffer.from(part), () => written++);
  const received: Buffer[] = [];
  const ended = deferred();
  peer.on('data', (chunk: Buffer) => received.push(chunk));
  peer.on('end', () => ended.resolve());
  const result = deferred<unknown>();
  t.is(asyncIoStateShutdown(state, 'output', { callback: (_s, r) => result.resolve(r) }), true);
  t.is(await result.promise, true);
  await ended.promise;
  t.is(Buffer.concat(received).toString(), 'one,two,three');
  t.is(written, 3, 'queued writes completed');
  const reply = deferred<string>();
  asyncIoStateReadBuffer(state, Buffer.alloc(5), (s, b, n) => {
    t.is(s.readStatus, null);
    reply.resolve(b.subarray(0, n).toString());
  });
  peer.end('reply');
  t.is(await reply.promise, 'reply');
});

test('shutdown with a read active in that direction throws unless abort: true, which returns null', async (t) => {
  const { state, peer, c } = await statePair(t);
  asyncIoStateReadBuffer(state, Buffer.alloc(4), fail(t, 'the read'));
  t.throws(() => asyncIoStateShutdown(state, 'input'), { code: 'ERR_COMMIO_OPERATION_IN_PROGRESS' });
  t.throws(() => asyncIoStateShutdown(state, 'io'), { code: 'ERR_COMMIO_OPERATION_IN_PROGRESS' });
  t.is(asyncIoStateShutdown(state, 'input', { abort: true }), null);
  peer.write('data');
  await drained(c);
  // The input is shut: reads see eof.
  const status = deferred<unknown>();
  asyncIoStateReadBuffer(state, Buffer.alloc(4), (s, _b, n) => status.resolve([s.readStatus, n]));
  t.deepEqual(await status.promise, ['eof', 0]);
});

test("shutdown('output') with abort: true aborts the writes in flight and returns null", async (t) => {
  const { state, peer } = await statePair(t, { maxQueuedOutput: 64 * 1024 * 1024 });
  peer.pause();
  asyncIoStateWriteBuffer(state, Buffer.alloc(32 * 1024 * 1024), fail(t, 'the aborted write'));
  const result = deferred<unknown>();
  t.is(asyncIoStateShutdown(state, 'output', { abort: true, callback: (_s, r) => result.resolve(r) }), null);
  closeAsyncIoState(state);
  t.pass();
});

test("shutdown('input'): bytes already buffered are read, then eof; nothing more is read", async (t) => {
  const { state, peer, c } = await statePair(t);
  peer.write('abcdef');
  await new Promise<void>((resolve) => asyncIoStateReadBuffer(state, Buffer.alloc(2), () => resolve()));
  await new Promise<void>((resolve) => {
    const poll = (): void => (state.bufferedDataLength === 4 ? resolve() : void setImmediate(poll));
    poll();
  });
  const result = deferred<unknown>();
  t.is(asyncIoStateShutdown(state, 'input', { callback: (_s, r) => result.resolve(r) }), true);
  t.is(await result.promise, true);
  peer.write('ignored');
  await drained(c);
  const got = deferred<[unknown, string]>();
  asyncIoStateReadBuffer(state, Buffer.alloc(10), (s, b, n) => got.resolve([s.readStatus, b.subarray(0, n).toString()]));
  t.deepEqual(await got.promise, ['eof', 'cdef']);
  // Writing still works.
  const arrived = readBytes(peer, 2);
  asyncIoStateWriteBuffer(state, Buffer.from('ok'), () => {});
  t.is((await arrived).toString(), 'ok');
});

test("shutdown('io') ends both directions", async (t) => {
  const { state, peer } = await statePair(t);
  const ended = deferred();
  peer.on('end', () => ended.resolve());
  peer.resume();
  t.is(asyncIoStateShutdown(state, 'io'), true);
  await ended.promise;
  const got = deferred<unknown>();
  asyncIoStateWaitForInput(state, (s) => got.resolve(s.readStatus));
  t.is(await got.promise, 'eof');
});

test('a finish in the abort callback of read-with-checking does not end a read started there', async (t) => {
  const { state, peer } = await statePair(t);
  const first = deferred();
  asyncIoStateReadWithChecking(state, () => first.resolve());
  peer.write('12');
  await first.promise;
  const second = deferred<string>();
  asyncIoStateAbort(state, (s: AsyncIoState) => {
    asyncIoStateReadWithChecking(s, (s2, v, e) => {
      second.resolve(Buffer.from(v.buffer, v.byteOffset, e).toString());
      asyncIoStateFinish(s2);
    });
    asyncIoStateFinish(s);
  });
  t.is(await second.promise, '12');
});

test("a second shutdown('output') returns true and still calls back", async (t) => {
  const { state, peer } = await statePair(t);
  peer.resume();
  const results: unknown[] = [];
  const both = deferred();
  const callback = (_s: AsyncIoState, r: true | string): void => {
    results.push(r);
    if (results.length === 2) both.resolve();
  };
  t.is(asyncIoStateShutdown(state, 'output', { callback }), true);
  t.is(asyncIoStateShutdown(state, 'output', { callback }), true);
  await both.promise;
  t.deepEqual(results, [true, true]);
});

test("shutdown('output') whose FIN never goes out (the peer resets first) calls back with the error code", async (t) => {
  const { state, peer } = await statePair(t, { queueOutput: true });
  // A peer that never reads: the write stays pending, so FIN cannot be sent yet.
  peer.pause();
  asyncIoStateWriteBuffer(state, Buffer.alloc(8 * 1024 * 1024), () => {});
  const result = deferred<unknown>();
  t.is(asyncIoStateShutdown(state, 'output', { callback: (_s, r) => result.resolve(r) }), true);
  peer.resetAndDestroy();
  const code = await result.promise;
  t.is(typeof code, 'string');
  t.true(code === 'ECONNRESET' || code === 'EPIPE', String(code));
});

test('a shutdown callback never runs inside the call', async (t) => {
  const { state } = await statePair(t);
  let ran = false;
  const done = deferred();
  asyncIoStateShutdown(state, 'input', {
    callback: () => {
      ran = true;
      done.resolve();
    },
  });
  t.false(ran);
  await done.promise;
});
