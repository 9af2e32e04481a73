/**
 * Reading with read-buffer and wait-for-input, the buffered data, statuses
 * (sticky eof and errors; timeouts in state-timeouts.test.ts) on real loopback sockets against
 * plain `node:net` peers.
 */
import test from 'ava';
import {
  asyncIoStateReadBuffer,
  asyncIoStateWaitForInput,
  asyncIoStateGetBufferedData,
  asyncIoStateBufferedDataLength,
  asyncIoStateReadStatus,
  closeAsyncIoState,
  type AsyncIoState,
  type IoStatus,
} from '@commio/core';
import { checkNoLeaksAfterAll } from './helpers/leaks.js';
import { deferred, statePair } from './helpers/fixtures.js';

checkNoLeaksAfterAll(test);

/** Resolves on the next turn of Node's loop. */
function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Waits (turn by turn, at most 2 s) until `condition` holds. */
async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

interface ReadResult {
  state: AsyncIoState;
  buffer: Uint8Array;
  count: number;
  status: IoStatus;
  via: 'callback' | 'errorCallback';
}

/** Starts a read-buffer and resolves with what its callback got. */
function readBuffer(state: AsyncIoState, buffer: Uint8Array, options: { start?: number; end?: number; timeout?: number | null; withErrorCallback?: boolean } = {}): Promise<ReadResult> {
  const done = deferred<ReadResult>();
  const { withErrorCallback, ...rest } = options;
  const report = (via: ReadResult['via']) => (s: AsyncIoState, b: Uint8Array, count: number) =>
    done.resolve({ state: s, buffer: b, count, status: s.readStatus, via });
  asyncIoStateReadBuffer(state, buffer, report('callback'), withErrorCallback === true ? { ...rest, errorCallback: report('errorCallback') } : rest);
  return done.promise;
}

test('read-buffer fills the range from many 1-byte TCP segments, calling back once', async (t) => {
  const { state, peer } = await statePair(t);
  peer.setNoDelay(true);
  const payload = Buffer.from('split across many small segments');
  const buffer = Buffer.alloc(payload.length + 4, 0x2e);
  let calls = 0;
  const done = deferred<number>();
  asyncIoStateReadBuffer(state, buffer, (_s, b, count) => {
    calls++;
    t.is(b, buffer);
    done.resolve(count);
  }, { start: 2, end: 2 + payload.length });
  for (const byte of payload) {
    peer.write(Buffer.of(byte));
    await turn();
  }
  t.is(await done.promise, payload.length);
  t.is(calls, 1);
  t.deepEqual(buffer.subarray(2, 2 + payload.length), payload);
  t.is(buffer[0], 0x2e, 'bytes before start are untouched');
  t.is(buffer[payload.length + 3], 0x2e, 'bytes after end are untouched');
  t.is(state.readStatus, null);
});

test('the callback never runs inside the call that starts the read, even with the data already buffered', async (t) => {
  const { state, peer } = await statePair(t);
  peer.write('abcd');
  const first = await readBuffer(state, Buffer.alloc(1));
  t.is(first.count, 1);
  await until(() => state.bufferedDataLength === 3);
  let ran = false;
  const done = deferred();
  asyncIoStateReadBuffer(state, Buffer.alloc(3), () => {
    ran = true;
    done.resolve();
  });
  t.false(ran);
  await done.promise;
  t.true(ran);
});

test('EOF before the range is full: callback with the count so far and readStatus eof', async (t) => {
  const { state, peer } = await statePair(t);
  peer.end('abc');
  const result = await readBuffer(state, Buffer.alloc(10), { withErrorCallback: true });
  t.is(result.via, 'callback', 'EOF is not an error');
  t.is(result.count, 3);
  t.is(result.status, 'eof');
  t.is(asyncIoStateReadStatus(state), 'eof');
  t.is(Buffer.from(result.buffer.subarray(0, 3)).toString(), 'abc');
});

test('eof is sticky: a read started afterwards completes later, at once, with eof', async (t) => {
  const { state, peer } = await statePair(t);
  peer.end();
  const first = await readBuffer(state, Buffer.alloc(4));
  t.is(first.status, 'eof');
  let ran = false;
  const second = readBuffer(state, Buffer.alloc(4)).then((r) => {
    ran = true;
    return r;
  });
  t.false(ran);
  const result = await second;
  t.is(result.count, 0);
  t.is(result.status, 'eof');
  const waited = deferred<IoStatus>();
  asyncIoStateWaitForInput(state, (s) => waited.resolve(s.readStatus));
  t.is(await waited.promise, 'eof');
});

test('bytes buffered before EOF are still read before eof is reported', async (t) => {
  const { state, peer } = await statePair(t);
  peer.end('hello');
  const first = await readBuffer(state, Buffer.alloc(2));
  t.is(first.count, 2);
  t.is(first.status, null);
  const rest = await readBuffer(state, Buffer.alloc(10));
  t.is(rest.count, 3);
  t.is(rest.status, 'eof');
  t.is(Buffer.from(rest.buffer.subarray(0, 3)).toString(), 'llo');
});

test('a socket error goes to errorCallback when given, else to callback; errors are sticky', async (t) => {
  const withError = await statePair(t);
  const reading = readBuffer(withError.state, Buffer.alloc(10), { withErrorCallback: true });
  withError.peer.resetAndDestroy();
  const r1 = await reading;
  t.is(r1.via, 'errorCallback');
  t.true(r1.status instanceof Error);
  t.is((r1.status as NodeJS.ErrnoException).code, 'ECONNRESET');

  const without = await statePair(t);
  const reading2 = readBuffer(without.state, Buffer.alloc(10));
  without.peer.resetAndDestroy();
  const r2 = await reading2;
  t.is(r2.via, 'callback');
  t.is((r2.status as NodeJS.ErrnoException).code, 'ECONNRESET');

  // Sticky: the next read completes later, at once, with the same error.
  let ran = false;
  const again = readBuffer(without.state, Buffer.alloc(10), { withErrorCallback: true }).then((r) => {
    ran = true;
    return r;
  });
  t.false(ran);
  const r3 = await again;
  t.is(r3.via, 'errorCallback');
  t.is(r3.status, r2.status);
  t.is(r3.count, 0);
});

test('a second read operation while one is active throws ERR_COMMIO_OPERATION_IN_PROGRESS', async (t) => {
  const { state, peer } = await statePair(t);
  const reading = readBuffer(state, Buffer.alloc(2));
  t.throws(() => asyncIoStateReadBuffer(state, Buffer.alloc(1), () => {}), { code: 'ERR_COMMIO_OPERATION_IN_PROGRESS' });
  t.throws(() => asyncIoStateWaitForInput(state, () => {}), { code: 'ERR_COMMIO_OPERATION_IN_PROGRESS' });
  t.throws(() => asyncIoStateGetBufferedData(state, Buffer.alloc(1)), { code: 'ERR_COMMIO_OPERATION_IN_PROGRESS' });
  peer.write('ok');
  t.is((await reading).count, 2);
});

test('an empty range completes later with count 0', async (t) => {
  const { state } = await statePair(t);
  const result = await readBuffer(state, Buffer.alloc(4), { start: 2, end: 2 });
  t.is(result.count, 0);
  t.is(result.status, null);
});

test('read-buffer into an Int8Array', async (t) => {
  const { state, peer } = await statePair(t);
  peer.write(Buffer.of(0xff, 0x01));
  const target = new Int8Array(2);
  const done = deferred<number>();
  asyncIoStateReadBuffer(state, target, (_s, b, count) => {
    t.is(b, target);
    done.resolve(count);
  });
  t.is(await done.promise, 2);
  t.deepEqual([...target], [-1, 1]);
});

test('wait-for-input calls back once bytes arrive, and leaves them buffered', async (t) => {
  const { state, peer } = await statePair(t);
  const done = deferred<AsyncIoState>();
  asyncIoStateWaitForInput(state, (s) => done.resolve(s));
  await turn();
  peer.write('data!');
  const s = await done.promise;
  t.is(s, state);
  t.is(s.readStatus, null);
  t.true(s.bufferedDataLength > 0);
  await until(() => state.bufferedDataLength === 5);
  const result = await readBuffer(state, Buffer.alloc(5));
  t.is(Buffer.from(result.buffer).toString(), 'data!');
});

test('wait-for-input with bytes already buffered completes later, not inside the call', async (t) => {
  const { state, peer } = await statePair(t);
  peer.write('abc');
  await readBuffer(state, Buffer.alloc(1));
  await until(() => state.bufferedDataLength === 2);
  let ran = false;
  const done = deferred();
  asyncIoStateWaitForInput(state, () => {
    ran = true;
    done.resolve();
  });
  t.false(ran);
  await done.promise;
  t.is(state.bufferedDataLength, 2);
});

test('wait-for-input reports EOF and errors', async (t) => {
  const a = await statePair(t);
  const eof = deferred<IoStatus>();
  asyncIoStateWaitForInput(a.state, (s) => eof.resolve(s.readStatus));
  a.peer.end();
  t.is(await eof.promise, 'eof');

  const b = await statePair(t);
  const failed = deferred<IoStatus>();
  asyncIoStateWaitForInput(b.state, (s) => failed.resolve(s.readStatus));
  await turn();
  b.peer.resetAndDestroy();
  const status = await failed.promise;
  t.is((status as NodeJS.ErrnoException).code, 'ECONNRESET');
});

test('getBufferedData moves buffered bytes out; bufferedDataLength counts them', async (t) => {
  const { state, peer } = await statePair(t);
  peer.write('0123456789');
  await readBuffer(state, Buffer.alloc(4));
  await until(() => state.bufferedDataLength === 6);
  t.is(asyncIoStateBufferedDataLength(state), 6);
  const target = Buffer.alloc(8, 0x2e);
  t.is(asyncIoStateGetBufferedData(state, target, { start: 1, end: 4 }), 3);
  t.is(target.toString(), '.456....');
  t.is(state.bufferedDataLength, 3);
  t.is(asyncIoStateGetBufferedData(state, target), 3);
  t.is(target.subarray(0, 3).toString(), '789');
  t.is(state.bufferedDataLength, 0);
  t.is(asyncIoStateGetBufferedData(state, target), 0);
});

test('buffered bytes survive close: close returns their count and getBufferedData still reads them', async (t) => {
  const { state, peer } = await statePair(t);
  peer.write('keep these');
  await readBuffer(state, Buffer.alloc(5));
  await until(() => state.bufferedDataLength === 5);
  t.is(closeAsyncIoState(state), 5);
  t.true(state.closed);
  t.is(state.bufferedDataLength, 5);
  t.is(asyncIoStateBufferedDataLength(state), 5);
  const target = Buffer.alloc(5);
  t.is(asyncIoStateGetBufferedData(state, target), 5);
  t.is(target.toString(), 'these');
  t.is(closeAsyncIoState(state), 0, 'idempotent; the count is what is left');
});

test('with no read active the state reads ahead a bounded amount, then the peer is held back', async (t) => {
  const { state, peer } = await statePair(t);
  // Start one read so the socket flows, then stop reading.
  peer.write('x');
  await readBuffer(state, Buffer.alloc(1));
  const big = Buffer.alloc(4 * 1024 * 1024, 7);
  peer.write(big);
  await until(() => state.bufferedDataLength >= 65536);
  await new Promise((resolve) => setTimeout(resolve, 50));
  // At most one socket read past the read-ahead limit; the rest waits in the kernel.
  t.true(state.bufferedDataLength < 2 * 65536, `buffered ${state.bufferedDataLength} bytes`);
  // Reading again drains the rest.
  const all = Buffer.alloc(big.length);
  const result = await readBuffer(state, all);
  t.is(result.count, big.length);
  t.true(all.every((b) => b === 7));
});
