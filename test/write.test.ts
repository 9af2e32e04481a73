/**
 * Writing: completion callbacks, queued output, the output cap, write
 * timeouts, and output batched within one pass of the loop.
 */
import test from 'ava';
import net from 'node:net';
import {
  asyncIoStateReadBuffer,
  createAndRunWaitStateCollection,
  waitStateCollectionStopLoop,
  applyInWaitStateCollectionProcess,
  asyncIoStateWriteBuffer,
  asyncIoStateWriteStatus,
  asyncIoStateShutdown,
  closeAsyncIoState,
  makeWaitStateCollection,
  callWaitStateCollection,
  createAsyncIoState,
  type AsyncIoState,
  type IoStatus,
} from '@commio/core';
import { checkNoLeaksAfterAll } from './helpers/leaks.js';
import { deferred, rawClient, rawServer, readBytes, statePair, withCollection } from './helpers/fixtures.js';

checkNoLeaksAfterAll(test);

interface WriteResult {
  buffer: Uint8Array;
  count: number;
  status: IoStatus;
  via: 'callback' | 'errorCallback';
}

function write(state: AsyncIoState, buffer: Uint8Array, options: { start?: number; end?: number; timeout?: number | null; withErrorCallback?: boolean } = {}): Promise<WriteResult> {
  const done = deferred<WriteResult>();
  const { withErrorCallback, ...rest } = options;
  const report = (via: WriteResult['via']) => (s: AsyncIoState, b: Uint8Array, count: number) => done.resolve({ buffer: b, count, status: s.writeStatus, via });
  asyncIoStateWriteBuffer(state, buffer, report('callback'), withErrorCallback === true ? { ...rest, errorCallback: report('errorCallback') } : rest);
  return done.promise;
}

test('the callback gets (state, buffer, count) once the bytes are handed to the kernel', async (t) => {
  const { state, peer } = await statePair(t);
  const buffer = Buffer.from('..hello..');
  const arrived = readBytes(peer, 5);
  let calls = 0;
  const done = deferred<[AsyncIoState, Uint8Array, number]>();
  asyncIoStateWriteBuffer(state, buffer, (s, b, count) => {
    calls++;
    done.resolve([s, b, count]);
  }, { start: 2, end: 7 });
  t.is(calls, 0, 'never inside the call');
  const [s, b, count] = await done.promise;
  t.is(s, state);
  t.is(b, buffer);
  t.is(count, 5);
  t.is(calls, 1);
  t.is(state.writeStatus, null);
  t.is((await arrived).toString(), 'hello');
});

test('an Int8Array and an empty range can be written', async (t) => {
  const { state, peer } = await statePair(t);
  const arrived = readBytes(peer, 2);
  const signed = new Int8Array([-1, 65]);
  const done = deferred<number>();
  asyncIoStateWriteBuffer(state, signed, (_s, b, count) => {
    t.is(b, signed);
    done.resolve(count);
  });
  t.is(await done.promise, 2);
  t.deepEqual([...(await arrived)], [255, 65]);
  const empty = await write(state, Buffer.from('abc'), { start: 1, end: 1 });
  t.is(empty.count, 0);
  t.is(empty.status, null);
});

test('without queueOutput a second write while one is in flight throws ERR_COMMIO_OPERATION_IN_PROGRESS', async (t) => {
  const { state } = await statePair(t);
  t.false(state.queueOutput);
  const first = write(state, Buffer.from('one'));
  t.throws(() => asyncIoStateWriteBuffer(state, Buffer.from('two'), () => {}), { code: 'ERR_COMMIO_OPERATION_IN_PROGRESS' });
  t.is((await first).count, 3);
  // Once the first completed, the next one may start.
  t.is((await write(state, Buffer.from('two'))).count, 3);
});

test('with queueOutput writes queue and complete in order, each with its own callback', async (t) => {
  const { state, peer } = await statePair(t, { queueOutput: true });
  const order: number[] = [];
  const parts = Array.from({ length: 50 }, (_, i) => Buffer.from(`<${i}>`));
  const total = parts.reduce((n, p) => n + p.length, 0);
  const arrived = readBytes(peer, total);
  const all = parts.map((part, i) =>
    write(state, part).then((r) => {
      order.push(i);
      t.is(r.buffer, part);
      t.is(r.count, part.length);
    }),
  );
  await Promise.all(all);
  t.deepEqual(order, parts.map((_, i) => i));
  t.is((await arrived).toString(), parts.join(''));
});

test('writes made in a callback run for an event complete in order (a lone write and a corked one after it)', async (t) => {
  const { state, peer } = await statePair(t, { queueOutput: true });
  const order: string[] = [];
  const done = deferred();
  const arrived = readBytes(peer, 6);
  // The read callback runs straight from the socket's data event; in it the
  // first write goes out at once and the second is corked until the pass ends.
  asyncIoStateReadBuffer(state, Buffer.alloc(1), (s) => {
    for (const name of ['first', 'second', 'third']) {
      asyncIoStateWriteBuffer(s, Buffer.from(name.slice(0, 2)), () => {
        order.push(name);
        if (order.length === 3) done.resolve();
      });
    }
  });
  peer.write('x');
  await done.promise;
  t.deepEqual(order, ['first', 'second', 'third']);
  t.is((await arrived).toString(), 'fiseth');
});

test('writes batched in one pass of the loop arrive intact and in order', async (t) => {
  const c = withCollection(t);
  const { state, peer } = await statePair(t, { queueOutput: true }, c);
  const parts = Array.from({ length: 200 }, (_, i) => Buffer.from(`[${i}:${'x'.repeat(i % 17)}]`));
  const expected = Buffer.concat(parts);
  const arrived = readBytes(peer, expected.length);
  let completed = 0;
  const done = deferred();
  applyInWaitStateCollectionProcess(c, () => {
    for (const part of parts) {
      asyncIoStateWriteBuffer(state, part, (_s, _b, n) => {
        t.is(n, part.length);
        if (++completed === parts.length) done.resolve();
      });
    }
  });
  await done.promise;
  t.deepEqual(await arrived, expected);
});

test('a write from a callback of another collection is flushed when that pass ends', async (t) => {
  const writer = withCollection(t, 'writer');
  const owner = withCollection(t, 'owner');
  const { state, peer } = await statePair(t, {}, owner);
  const arrived = readBytes(peer, 5);
  const completed = deferred<number>();
  applyInWaitStateCollectionProcess(writer, () => {
    asyncIoStateWriteBuffer(state, Buffer.from('cross'), (_s, _b, n) => completed.resolve(n));
  });
  t.is((await arrived).toString(), 'cross');
  t.is(await completed.promise, 5);
});

test('a write and a keep-alive close in the same pass: the socket handed back is not left corked', async (t) => {
  const c = withCollection(t);
  const { state, peer } = await statePair(t, {}, c);
  const arrived = readBytes(peer, 6);
  const closed = deferred();
  applyInWaitStateCollectionProcess(c, () => {
    asyncIoStateWriteBuffer(state, Buffer.from('abc'), () => t.fail('closed: no callback'));
    closeAsyncIoState(state, { keepAliveP: true });
    closed.resolve();
  });
  await closed.promise;
  // The socket handed back (on the native transport, the state's object becomes it at the close).
  const socket = state.object as net.Socket;
  socket.write('def');
  t.is((await arrived).toString(), 'abcdef');
});

test('maxQueuedOutput: a write past the cap fails with ERR_COMMIO_OUTPUT_OVERFLOW (sticky), to errorCallback else callback', async (t) => {
  const { state, peer } = await statePair(t, { queueOutput: true, maxQueuedOutput: 100 });
  peer.pause();
  t.is(state.maxQueuedOutput, 100);
  const first = write(state, Buffer.alloc(80));
  t.is(state.queuedOutputLength, 80);
  const refused = write(state, Buffer.alloc(30), { withErrorCallback: true });
  const r = await refused;
  t.is(r.via, 'errorCallback');
  t.is(r.count, 0);
  t.true(r.status instanceof Error);
  t.is((r.status as NodeJS.ErrnoException).code, 'ERR_COMMIO_OUTPUT_OVERFLOW');
  t.is(asyncIoStateWriteStatus(state), r.status);
  t.is((await first).count, 80, 'the write under the cap completes');
  // Sticky: later writes fail at once (later), to callback when no errorCallback.
  const later = await write(state, Buffer.alloc(1));
  t.is(later.via, 'callback');
  t.is(later.status, r.status);
  t.is(later.count, 0);
});

test('a single write larger than maxQueuedOutput is accepted when nothing is pending', async (t) => {
  const { state, peer } = await statePair(t, { queueOutput: true, maxQueuedOutput: 10 });
  const arrived = readBytes(peer, 1000);
  const r = await write(state, Buffer.alloc(1000, 9));
  t.is(r.count, 1000);
  t.is(r.status, null);
  t.is((await arrived).length, 1000);
});

test('maxQueuedOutput bounds memory with a peer that never reads', async (t) => {
  const cap = 1024 * 1024;
  const { state, peer } = await statePair(t, { queueOutput: true, maxQueuedOutput: cap });
  peer.pause();
  const chunk = Buffer.alloc(64 * 1024);
  let accepted = 0;
  const failed = deferred<IoStatus>();
  const healthy = (): boolean => state.writeStatus === null;
  for (let i = 0; i < 1000 && healthy(); i++) {
    asyncIoStateWriteBuffer(state, chunk, () => {}, { errorCallback: (s) => failed.resolve(s.writeStatus) });
    if (healthy()) accepted++;
  }
  const status = await failed.promise;
  t.is((status as NodeJS.ErrnoException).code, 'ERR_COMMIO_OUTPUT_OVERFLOW');
  t.true(state.queuedOutputLength <= cap);
  t.true(accepted * chunk.length <= cap);
});

test('a write after the peer reset reports the error status', async (t) => {
  const { state, peer } = await statePair(t);
  const closed = deferred();
  // On the native transport there is no net.Socket to watch: the peer's own close follows the reset.
  (state.object instanceof net.Socket ? state.object : peer).once('close', () => closed.resolve());
  peer.resetAndDestroy();
  // A write runs into the reset (or the socket is gone already).
  const results: WriteResult[] = [];
  for (let i = 0; i < 20; i++) {
    const r = await write(state, Buffer.alloc(64 * 1024), { withErrorCallback: true });
    results.push(r);
    if (r.status !== null) break;
  }
  const last = results.at(-1)!;
  t.is(last.via, 'errorCallback');
  t.true(last.status instanceof Error);
  t.regex(String((last.status as NodeJS.ErrnoException).code), /^(ECONNRESET|EPIPE)$/);
});

test('a write after shutdown(output) fails with EPIPE', async (t) => {
  const { state } = await statePair(t);
  t.is(asyncIoStateShutdown(state, 'output'), true);
  const r = await write(state, Buffer.from('late'), { withErrorCallback: true });
  t.is(r.via, 'errorCallback');
  t.is((r.status as NodeJS.ErrnoException).code, 'EPIPE');
});

test('userInfo given to a write updates the state', async (t) => {
  const { state } = await statePair(t);
  await new Promise<void>((resolve) => asyncIoStateWriteBuffer(state, Buffer.from('x'), () => resolve(), { userInfo: { id: 7 } }));
  t.deepEqual(state.userInfo, { id: 7 });
});

test('a write on a state of a stopped collection throws ERR_COMMIO_STATE_CLOSED', async (t) => {
  const c = createAndRunWaitStateCollection('stopped');
  const { state } = await statePair(t, {}, c);
  waitStateCollectionStopLoop(c);
  t.true(state.closed);
  t.throws(() => asyncIoStateWriteBuffer(state, Buffer.from('x'), () => {}), { code: 'ERR_COMMIO_STATE_CLOSED' });
});

test('writes the kernel took stay successful when the connection closes before their completions run', async (t) => {
  // A collection no loop drives: completions wait in it until the test runs them,
  // as they do on a busy machine when the peer's close arrives first.
  const collection = makeWaitStateCollection();
  const { port, sockets } = await rawServer(t, (peer) => {
    peer.resume();
    peer.on('end', () => peer.end());
  });
  const socket = await rawClient(t, port);
  const state = createAsyncIoState(collection, socket, { queueOutput: true });
  t.teardown(() => closeAsyncIoState(state));
  const results: IoStatus[] = [];
  for (let i = 0; i < 3; i++) asyncIoStateWriteBuffer(state, Buffer.from('hi'), (s) => results.push(s.writeStatus));
  asyncIoStateShutdown(state, 'output');
  // The peer reads everything, answers our FIN with its own, and the socket closes.
  await new Promise<void>((resolve) => socket.once('close', () => resolve()));
  t.is(sockets.length, 1);
  t.deepEqual(results, [], 'no completion ran yet');
  callWaitStateCollection(collection);
  t.deepEqual(results, [null, null, null]);
  t.is(state.writeStatus, null, 'bytes the kernel took are not reported lost');
});
