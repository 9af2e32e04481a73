/**
 * `@commio/core/promises`, the read side: readBuffer, readChunks and
 * readUntil on real loopback sockets against plain `node:net` peers: counts,
 * EOF, timeouts, errors, aborts through `signal`, `break` leaving the state
 * usable, records split byte by byte, the maxLength bound, and flow control.
 */
import test from 'ava';
import {
  closeAsyncIoState,
  BufferOverflowError,
  InvalidArgumentError,
  OperationInProgressError,
  ReadTimeoutError,
  StateClosedError,
  type AsyncIoState,
} from '@commio/core';
import { readBuffer, readChunks, readUntil } from '@commio/core/promises';
import { checkNoLeaksAfterAll } from './helpers/leaks.js';
import { statePair } from './helpers/fixtures.js';
import { until } from './helpers/tls-fixtures.js';

checkNoLeaksAfterAll(test);

/** Resolves after `n` turns of Node's loop. */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** Reads exactly `n` bytes with readBuffer (the state's leftovers included). */
async function readExactly(state: AsyncIoState, n: number): Promise<string> {
  const buffer = Buffer.alloc(n);
  const count = await readBuffer(state, buffer);
  return buffer.toString('latin1', 0, count);
}

test('readBuffer resolves with the count once the range is full', async (t) => {
  const { state, peer } = await statePair(t);
  const buffer = Buffer.alloc(10, 0x2e);
  const reading = readBuffer(state, buffer, { start: 2, end: 7 });
  peer.write('hello world');
  t.is(await reading, 5);
  t.is(buffer.toString('latin1'), '..hello...');
  t.is(state.readStatus, null);
  t.is(await readExactly(state, 6), ' world');
});

test('readBuffer resolves short at EOF with readStatus eof, and at a timeout with readStatus timeout', async (t) => {
  const { state, peer } = await statePair(t);
  peer.write('abc');
  t.is(await readExactly(state, 1), 'a');
  await until(() => state.bufferedDataLength === 2);
  const short = await readBuffer(state, Buffer.alloc(8), { timeout: 0.05 });
  t.is(short, 2);
  t.is(state.readStatus, 'timeout');
  t.is(state.readTimeout, 0.05, 'the timeout persists, as in the callback API');
  peer.end('de');
  t.is(await readBuffer(state, Buffer.alloc(8), { timeout: null }), 2);
  t.is(state.readStatus, 'eof');
  t.is(await readBuffer(state, Buffer.alloc(8)), 0, 'eof is sticky');
});

test('readBuffer rejects with the state error when the peer resets the connection', async (t) => {
  const { state, peer } = await statePair(t);
  const reading = readBuffer(state, Buffer.alloc(8));
  await turns(2);
  peer.resetAndDestroy();
  const error = await t.throwsAsync(reading);
  t.is((error as NodeJS.ErrnoException).code, 'ECONNRESET');
  t.is(state.readStatus, error);
});

test('misuse rejects with the typed error before anything starts', async (t) => {
  const { state } = await statePair(t);
  await t.throwsAsync(readBuffer(state, 'nope' as unknown as Uint8Array), { instanceOf: InvalidArgumentError });
  await t.throwsAsync(readBuffer(state, Buffer.alloc(4), { timout: 1 } as never), { instanceOf: InvalidArgumentError, message: /options\.timout/ });
  await t.throwsAsync(readBuffer(state, Buffer.alloc(4), { signal: {} as AbortSignal }), { instanceOf: InvalidArgumentError, message: /options\.signal/ });
  await t.throwsAsync(readUntil(state, ''), { instanceOf: InvalidArgumentError, message: /delimiter/ });
  const controller = new AbortController();
  const first = readBuffer(state, Buffer.alloc(4), { signal: controller.signal });
  await t.throwsAsync(readBuffer(state, Buffer.alloc(4)), { instanceOf: OperationInProgressError });
  await t.throwsAsync(readUntil(state, '\n'), { instanceOf: OperationInProgressError });
  controller.abort();
  await t.throwsAsync(first, { any: true, name: 'AbortError' });
  t.throws(() => readChunks(state, { maxRead: 0 }), { instanceOf: InvalidArgumentError });
  closeAsyncIoState(state);
  await t.throwsAsync(readBuffer(state, Buffer.alloc(4)), { instanceOf: StateClosedError });
  t.throws(() => readChunks(state), { instanceOf: StateClosedError });
});

test('a signal aborts readBuffer, rejecting with its reason, and the state reads on', async (t) => {
  const { state, peer } = await statePair(t);
  const controller = new AbortController();
  const reason = new Error('enough');
  const reading = readBuffer(state, Buffer.alloc(4), { signal: controller.signal });
  controller.abort(reason);
  t.is(await t.throwsAsync(reading), reason);
  await t.throwsAsync(readBuffer(state, Buffer.alloc(4), { signal: controller.signal }), { is: reason }, 'an aborted signal starts nothing');
  peer.write('next');
  t.is(await readExactly(state, 4), 'next');
});

test('readChunks yields the bytes as they arrive and ends at EOF', async (t) => {
  const { state, peer } = await statePair(t);
  const payload = Buffer.alloc(300_000);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 7) & 0xff;
  peer.end(payload);
  const chunks: Uint8Array[] = [];
  for await (const chunk of readChunks(state, { maxRead: 50_000 })) {
    t.true(chunk.length > 0 && chunk.length <= 50_000);
    chunks.push(chunk);
  }
  t.true(Buffer.concat(chunks).equals(payload), 'every byte, in order; chunks kept by the caller stay intact');
  t.is(state.readStatus, 'eof');
});

test('break leaves the state open with no read active and the rest buffered for the next read', async (t) => {
  const { state, peer } = await statePair(t);
  peer.write('abcdef');
  for await (const chunk of readChunks(state, { maxRead: 2 })) {
    t.is(Buffer.from(chunk).toString(), 'ab');
    break;
  }
  t.false(state.closed);
  t.is(await readExactly(state, 4), 'cdef');
  peer.write('gh');
  const again: string[] = [];
  for await (const chunk of readChunks(state)) {
    again.push(Buffer.from(chunk).toString());
    break;
  }
  t.deepEqual(again, ['gh'], 'a new iteration starts where the last read ended');
});

test('readChunks throws ReadTimeoutError after readTimeout seconds, and the state error on a reset', async (t) => {
  const { state, peer } = await statePair(t, { readTimeout: 0.05 });
  await t.throwsAsync(
    async () => {
      for await (const _chunk of readChunks(state)) t.fail();
    },
    { instanceOf: ReadTimeoutError, code: 'ERR_COMMIO_READ_TIMEOUT' } as never,
  );
  state.readTimeout = null;
  const iterating = (async () => {
    for await (const _chunk of readChunks(state)) t.fail();
  })();
  await turns(2);
  peer.resetAndDestroy();
  const error = await t.throwsAsync(iterating);
  t.is((error as NodeJS.ErrnoException).code, 'ECONNRESET');
});

test('a signal aborts readChunks: the loop throws its reason, and the state reads on', async (t) => {
  const { state, peer } = await statePair(t);
  const controller = new AbortController();
  const reason = new Error('stop');
  const iterating = (async () => {
    for await (const _chunk of readChunks(state, { signal: controller.signal })) t.fail();
  })();
  await turns(2);
  controller.abort(reason);
  t.is(await t.throwsAsync(iterating), reason);
  peer.write('still here');
  t.is(await readExactly(state, 10), 'still here');
});

test('a consumer that stops pulling stops the reading: the state holds at most its read-ahead', async (t) => {
  const { state, peer } = await statePair(t);
  const total = 16 * 1024 * 1024;
  peer.write(Buffer.alloc(total, 0x61));
  const iterator = readChunks(state)[Symbol.asyncIterator]();
  const first = await iterator.next();
  let received = first.done === true ? 0 : first.value.length;
  // The state reads ahead (64 KiB), then pauses the socket: TCP holds the peer back.
  await until(() => state.bufferedDataLength >= 64 * 1024);
  let most = 0;
  for (let i = 0; i < 50; i++) {
    most = Math.max(most, state.bufferedDataLength);
    await turns(1);
  }
  t.true(most <= 128 * 1024, `buffered ${most} bytes while nobody pulled`);
  t.true(peer.writableLength > 0, 'the peer is held back');
  for (;;) {
    const next = await iterator.next();
    if (next.done === true) break;
    received += next.value.length;
    t.true(state.bufferedDataLength <= 128 * 1024);
    if (received === total) break;
  }
  t.is(received, total);
  await iterator.return?.();
});

test('readUntil finds a delimiter split across byte-by-byte segments and leaves what follows buffered', async (t) => {
  const { state, peer } = await statePair(t);
  peer.setNoDelay(true);
  const reading = readUntil(state, '\r\n');
  for (const byte of Buffer.from('first line\r\nsecond')) {
    peer.write(Buffer.of(byte));
    await turns(1);
  }
  t.is(Buffer.from((await reading) ?? []).toString(), 'first line\r\n');
  t.is(await readExactly(state, 6), 'second');
});

test('readUntil returns consecutive records of one segment, the last without its delimiter at EOF, then null', async (t) => {
  const { state, peer } = await statePair(t);
  peer.end('a|bc|def|tail');
  const records: (string | null)[] = [];
  for (let i = 0; i < 6; i++) {
    const record = await readUntil(state, new Uint8Array([0x7c]));
    records.push(record === null ? null : Buffer.from(record).toString());
  }
  t.deepEqual(records, ['a|', 'bc|', 'def|', 'tail', null, null]);
});

test('readUntil past maxLength rejects with ERR_COMMIO_BUFFER_OVERFLOW and keeps the bytes', async (t) => {
  const { state, peer } = await statePair(t);
  peer.write('0123456789abcdef\n');
  await t.throwsAsync(readUntil(state, '\n', { maxLength: 8 }), { instanceOf: BufferOverflowError });
  t.is(Buffer.from((await readUntil(state, '\n', { maxLength: 17 })) ?? []).toString(), '0123456789abcdef\n', 'the bytes stayed, a record of exactly maxLength passes');
  peer.end('12345');
  await t.throwsAsync(readUntil(state, '\n', { maxLength: 4 }), { instanceOf: BufferOverflowError }, 'also for the last record at EOF');
});

test('readUntil: timeout rejects with ReadTimeoutError, an abort rejects with the reason, and no byte is lost', async (t) => {
  const { state, peer } = await statePair(t);
  peer.write('partial');
  await t.throwsAsync(readUntil(state, '\n', { timeout: 0.05 }), { instanceOf: ReadTimeoutError });
  state.readTimeout = null;
  const controller = new AbortController();
  const reading = readUntil(state, '\n', { signal: controller.signal });
  peer.write(' more');
  await until(() => state.bufferedDataLength === 12);
  controller.abort();
  await t.throwsAsync(reading, { any: true, name: 'AbortError' });
  peer.write(' end\n');
  t.is(Buffer.from((await readUntil(state, '\n')) ?? []).toString(), 'partial more end\n');
});

test('an abort after the read completed still resolves with the data', async (t) => {
  const { state, peer } = await statePair(t);
  peer.write('xdone');
  const controller = new AbortController();
  const buffer = Buffer.alloc(4);
  // Once the bytes are buffered, the read that follows completes at once, before the abort.
  t.is(await readExactly(state, 1), 'x');
  await until(() => state.bufferedDataLength === 4);
  const reading = readBuffer(state, buffer, { signal: controller.signal });
  controller.abort();
  t.is(await reading, 4);
  t.is(buffer.toString(), 'done');
});

test('promises pending on a state that other code closes reject with StateClosedError', async (t) => {
  const { state } = await statePair(t);
  const reading = readBuffer(state, Buffer.alloc(4));
  closeAsyncIoState(state);
  await t.throwsAsync(reading, { instanceOf: StateClosedError });
  // Started after the close: refused at once, as misuse.
  await t.throwsAsync(readUntil(state, '\n'), { instanceOf: StateClosedError });
});
