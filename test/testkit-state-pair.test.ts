/**
 * makeStatePair of @commio/testkit: two in-memory states behave as the two
 * ends of a TCP connection for every state function: reads, read-with-
 * checking, queued writes, limits, shutdown, abort, close, EOF, statuses,
 * addresses. (Timeouts on pairs: state-timeouts.test.ts.)
 */
import test from 'ava';
import {
  asyncIoStateAbort,
  asyncIoStateAbortAndClose,
  asyncIoStateReadBuffer,
  asyncIoStateReadWithChecking,
  asyncIoStateShutdown,
  asyncIoStateWaitForInput,
  asyncIoStateWriteBuffer,
  closeAsyncIoState,
  createAndRunWaitStateCollection,
  waitStateCollectionStopLoop,
  type AsyncIoState,
  type IoStatus,
} from '@commio/core';
import { makeStatePair, type StatePairOptions } from '@commio/testkit';
import { checkNoLeaksAfterAll } from './helpers/leaks.ts';
import { deferred, withCollection } from './helpers/fixtures.ts';

checkNoLeaksAfterAll(test);

function pair(t: import('ava').ExecutionContext, options?: StatePairOptions): [AsyncIoState, AsyncIoState] {
  return makeStatePair(withCollection(t), options);
}

function read(state: AsyncIoState, size: number): Promise<{ text: string; count: number; status: IoStatus }> {
  const done = deferred<{ text: string; count: number; status: IoStatus }>();
  asyncIoStateReadBuffer(state, Buffer.alloc(size), (s, buffer, count) =>
    done.resolve({ text: Buffer.from(buffer.subarray(0, count)).toString(), count, status: s.readStatus }),
  );
  return done.promise;
}

function write(state: AsyncIoState, text: string | Uint8Array): Promise<{ count: number; status: IoStatus }> {
  const done = deferred<{ count: number; status: IoStatus }>();
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  const report = (s: AsyncIoState, _b: Uint8Array, count: number): void => done.resolve({ count, status: s.writeStatus });
  asyncIoStateWriteBuffer(state, bytes, report, { errorCallback: report });
  return done.promise;
}

test('read-buffer fills its range from byte-sized pieces, calling back once; both directions work', async (t) => {
  const [a, b] = pair(t, { chunking: [1] });
  let calls = 0;
  const got = deferred<string>();
  asyncIoStateReadBuffer(b, Buffer.alloc(11), (_s, buffer, count) => {
    calls++;
    got.resolve(Buffer.from(buffer.subarray(0, count)).toString());
  });
  t.deepEqual(await write(a, 'hello world'), { count: 11, status: null });
  t.is(await got.promise, 'hello world');
  t.is(calls, 1);
  void write(b, 'and back');
  t.is((await read(a, 8)).text, 'and back');
});

test('read-with-checking sees each piece as it arrives (oldLength = the previous end); views never change', async (t) => {
  const [a, b] = pair(t, { chunking: [3] });
  const views: { text: string; old: number; view: Uint8Array; copy: string }[] = [];
  const done = deferred();
  asyncIoStateReadWithChecking(b, (s, view, end) => {
    const text = Buffer.from(view.subarray(0, end)).toString();
    views.push({ text, old: s.oldLength, view: view.subarray(0, end), copy: text });
    if (end === 9) done.resolve();
  });
  void write(a, 'abcdefghi');
  await done.promise;
  t.deepEqual(
    views.map((v) => [v.text, v.old]),
    [
      ['abc', 0],
      ['abcdef', 3],
      ['abcdefghi', 6],
    ],
  );
  t.true(views.every((v) => Buffer.from(v.view).toString() === v.copy));
});

test('queued writes complete in order; without queueOutput a second write throws', async (t) => {
  const [a, b] = pair(t, { queueOutput: true, chunking: { seed: 5 } });
  const order: number[] = [];
  const writes = [1, 2, 3].map((n) => write(a, `part ${n};`).then(() => order.push(n)));
  t.is((await read(b, 21)).text, 'part 1;part 2;part 3;');
  await Promise.all(writes);
  t.deepEqual(order, [1, 2, 3]);
  const [c] = pair(t);
  void write(c, 'first');
  t.throws(() => asyncIoStateWriteBuffer(c, Buffer.from('second'), () => {}), { code: 'ERR_COMMIO_OPERATION_IN_PROGRESS' });
});

test('maxQueuedOutput: a peer that does not read holds the writer back until writes past the cap fail', async (t) => {
  const [a] = pair(t, { queueOutput: true, capacity: 1024, maxQueuedOutput: 4096 });
  const chunk = Buffer.alloc(1024);
  const results: Promise<{ count: number; status: IoStatus }>[] = [];
  for (let i = 0; i < 8; i++) results.push(write(a, chunk));
  const last = await results.at(-1);
  t.is((last?.status as { code?: string } | null)?.code, 'ERR_COMMIO_OUTPUT_OVERFLOW');
  t.true(a.queuedOutputLength <= 4096 + 1024, `queued ${a.queuedOutputLength}`);
});

test('maxBufferedInput: past it a read-with-checking ends with ERR_COMMIO_BUFFER_OVERFLOW', async (t) => {
  const [a, b] = pair(t, { maxBufferedInput: 100 });
  const status = deferred<IoStatus>();
  asyncIoStateReadWithChecking(
    b,
    (s) => {
      if (s.readStatus !== null) status.resolve(s.readStatus);
    },
    { errorCallback: (s: AsyncIoState) => status.resolve(s.readStatus) },
  );
  void write(a, Buffer.alloc(300));
  t.is(((await status.promise) as { code?: string }).code, 'ERR_COMMIO_BUFFER_OVERFLOW');
});

test("shutdown('output'): the peer reads the rest then eof (sticky); the state can still read", async (t) => {
  const [a, b] = pair(t);
  void write(a, 'last');
  const shut = deferred<unknown>();
  asyncIoStateShutdown(a, 'output', { callback: (_s: AsyncIoState, result: unknown) => shut.resolve(result) });
  t.deepEqual(await read(b, 10), { text: 'last', count: 4, status: 'eof' });
  t.is((await read(b, 1)).status, 'eof', 'eof is sticky');
  t.is(await shut.promise, true);
  void write(b, 'reply');
  t.is((await read(a, 5)).text, 'reply');
  t.is((await write(a, 'more')).status && ((await write(a, 'x')).status as { code?: string }).code, 'EPIPE');
});

test('abort: the callback gets what the read got so far; the state is usable again', async (t) => {
  const [a, b] = pair(t);
  const buffer = Buffer.alloc(10);
  asyncIoStateReadBuffer(b, buffer, () => t.fail('aborted'));
  void write(a, 'abc');
  const waiting = deferred();
  const poll = (): void => (buffer[2] === 0x63 ? waiting.resolve() : void setImmediate(poll));
  poll();
  await waiting.promise;
  const aborted = deferred<unknown[]>();
  asyncIoStateAbort(b, (...args: unknown[]) => aborted.resolve(args));
  t.deepEqual(await aborted.promise, [b, buffer, 3]);
  void write(a, 'next');
  t.is((await read(b, 4)).text, 'next');
});

test('bytes a state read ahead are not unread: closing it then is a FIN, as over TCP', async (t) => {
  const [a, b] = pair(t);
  await write(b, 'read ahead');
  const waiting = deferred();
  asyncIoStateWaitForInput(a, () => waiting.resolve());
  await waiting.promise;
  closeAsyncIoState(a);
  t.is((await read(b, 1)).status, 'eof');
});

test('close with nothing unread: the peer reads the rest then eof; abortAndClose runs its closeCallback', async (t) => {
  const [a, b] = pair(t);
  await write(a, 'bye');
  t.is(closeAsyncIoState(a), 0);
  t.true(a.closed);
  t.deepEqual(await read(b, 10), { text: 'bye', count: 3, status: 'eof' });
  const closed = deferred<AsyncIoState>();
  asyncIoStateAbortAndClose(b, { closeCallback: (s: AsyncIoState) => closed.resolve(s) });
  t.is(await closed.promise, b);
});

test('close with unread input resets the connection: the peer gets ECONNRESET (sticky), like TCP', async (t) => {
  const [a, b] = pair(t);
  // Written, not read: the bytes wait in the pipe to a (its "kernel" buffer).
  await write(b, 'never read');
  closeAsyncIoState(a);
  const result = await read(b, 1);
  t.is((result.status as { code?: string }).code, 'ECONNRESET');
  t.is(((await write(b, 'x')).status as { code?: string }).code, 'ECONNRESET');
});

test('keepAliveP: true is not possible in memory: ERR_COMMIO_UNSUPPORTED, and the state is closed', async (t) => {
  const [a, b] = pair(t);
  t.throws(() => closeAsyncIoState(a, { keepAliveP: true }), { code: 'ERR_COMMIO_UNSUPPORTED' });
  t.true(a.closed);
  t.is((await read(b, 1)).status, 'eof');
});

test('addresses: 127.0.0.1 with a port per state, each the peer of the other; state.object is the memory end', (t) => {
  const [a, b] = pair(t);
  t.is(a.address?.address, '127.0.0.1');
  t.deepEqual(a.peerAddress, b.address);
  t.deepEqual(b.peerAddress, a.address);
  t.not(a.address?.port, b.address?.port);
  t.not(a.object, b.object);
  t.is(a.readStatus, null);
  t.is(a.writeStatus, null);
});

test('state options apply to both states; bad arguments throw before anything is made', (t) => {
  const c = withCollection(t);
  const [a, b] = makeStatePair(c, { readTimeout: 2, name: 'pair', userInfo: 7, maxBufferedInput: 1000 });
  for (const s of [a, b]) {
    t.is(s.readTimeout, 2);
    t.is(s.name, 'pair');
    t.is(s.userInfo, 7);
    t.is(s.maxBufferedInput, 1000);
  }
  const members = c.memberCount;
  const loose = makeStatePair as (c: unknown, o?: unknown) => unknown;
  t.throws(() => loose({}), { code: 'ERR_COMMIO_INVALID_ARGUMENT' });
  t.throws(() => loose(c, { chunking: [0] }), { code: 'ERR_COMMIO_INVALID_ARGUMENT' });
  t.throws(() => loose(c, { capacity: 0 }), { code: 'ERR_COMMIO_INVALID_ARGUMENT' });
  t.throws(() => loose(c, { readTimeout: -1 }), { code: 'ERR_COMMIO_INVALID_ARGUMENT' });
  t.throws(() => loose(c, { transport: 'memory' }), { code: 'ERR_COMMIO_INVALID_ARGUMENT' });
  t.is(c.memberCount, members, 'nothing made');
  const dead = createAndRunWaitStateCollection('dead');
  waitStateCollectionStopLoop(dead);
  t.throws(() => makeStatePair(dead), { code: 'ERR_COMMIO_COLLECTION_CLOSED' });
});
