/**
 * The memory transport of @commio/testkit, driven directly through the
 * StreamTransport contract with recording sinks: delivery never inside a
 * call, owned pieces, chunking, backpressure, FIN, destroy and reset.
 */
import test from 'ava';
import { WRITE_DONE, WRITE_PENDING, type StreamSink } from '@commio/core/internal';
import { checkChunking, connectMemoryEnds, memoryTransport as mt, type Chunking, type MemoryEnd } from '@commio/testkit';
import { checkNoLeaksAfterAll } from './helpers/leaks.ts';

checkNoLeaksAfterAll(test);

/** A sink recording every report, with the bytes received. */
class Recorder implements StreamSink {
  readonly events: string[] = [];
  readonly pieces: Buffer[] = [];
  readonly errors: Error[] = [];
  /** Set while a driver method runs: a report then would be re-entrant. */
  inCall = false;
  #waiters: { until: () => boolean; resolve: () => void }[] = [];

  #note(event: string): void {
    if (this.inCall) throw new Error(`${event} reported inside a driver call`);
    this.events.push(event);
    this.#waiters = this.#waiters.filter((w) => {
      if (!w.until()) return true;
      w.resolve();
      return false;
    });
  }
  received(chunk: Buffer): void {
    this.pieces.push(chunk);
    this.#note(`received ${chunk.length}`);
  }
  ended(): void {
    this.#note('ended');
  }
  failed(error: Error): void {
    this.errors.push(error);
    this.#note(`failed ${(error as NodeJS.ErrnoException).code}`);
  }
  disconnected(): void {
    this.#note('disconnected');
  }
  written(error: Error | null): void {
    this.#note(error === null ? 'written' : `written ${(error as NodeJS.ErrnoException).code}`);
  }
  outputShut(result: true | string): void {
    this.#note(`outputShut ${result}`);
  }
  get text(): string {
    return Buffer.concat(this.pieces).toString();
  }
  /** Resolves once `until()` holds (checked after every report). */
  when(until: () => boolean): Promise<void> {
    if (until()) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ until, resolve }));
  }
  has(event: string): Promise<void> {
    return this.when(() => this.events.includes(event));
  }
}

function pair(chunking?: Chunking, capacity = 1024): { a: MemoryEnd; b: MemoryEnd; ra: Recorder; rb: Recorder; call: <T>(r: Recorder, f: () => T) => T } {
  const [a, b] = connectMemoryEnds(capacity, checkChunking(chunking));
  const ra = new Recorder();
  const rb = new Recorder();
  mt.attach(a, ra);
  mt.attach(b, rb);
  const call = <T>(r: Recorder, f: () => T): T => {
    r.inCall = true;
    try {
      return f();
    } finally {
      r.inCall = false;
    }
  };
  return { a, b, ra, rb, call };
}

test('bytes arrive in order at the other end, later, only while it reads; a write the pipe takes is WRITE_DONE', async (t) => {
  const { a, b, ra, rb, call } = pair();
  t.is(call(ra, () => mt.write(a, Buffer.from('hello '), false)), WRITE_DONE);
  t.is(call(ra, () => mt.write(a, Buffer.from('world'), true)), WRITE_DONE);
  await new Promise((resolve) => setImmediate(resolve));
  t.deepEqual(rb.events, [], 'nothing while reading is off');
  call(rb, () => mt.setReading(b, true));
  await rb.when(() => rb.text === 'hello world');
  t.is(mt.pendingOutput(a), 0);
  t.true(mt.isOpen(a) && mt.isOpen(b));
  mt.destroy(a);
  mt.destroy(b);
});

test('pieces are owned: changing the written buffer after the write changes nothing received', async (t) => {
  const { a, b, ra, rb, call } = pair();
  const bytes = Buffer.from('abc');
  call(ra, () => mt.write(a, bytes, false));
  bytes.fill(0x78);
  call(rb, () => mt.setReading(b, true));
  await rb.when(() => rb.text.length === 3);
  t.is(rb.text, 'abc');
  mt.destroy(a);
  mt.destroy(b);
});

test('chunking by sizes cuts pieces in turn across write boundaries; a piece never waits for more bytes', async (t) => {
  const { a, b, ra, rb, call } = pair([2, 3]);
  call(ra, () => mt.write(a, Buffer.from('abcd'), false));
  call(ra, () => mt.write(a, Buffer.from('efghij'), false));
  call(rb, () => mt.setReading(b, true));
  await rb.when(() => rb.text.length === 10);
  t.deepEqual(rb.pieces.map(String), ['ab', 'cde', 'fg', 'hij']);
  call(ra, () => mt.write(a, Buffer.from('k'), false));
  await rb.when(() => rb.text.length === 11);
  t.is(String(rb.pieces.at(-1)), 'k', 'shorter than the next size (2): delivered anyway');
  mt.destroy(a);
  mt.destroy(b);
});

test('seeded chunking: sizes within [min, max], the same for the same seed, different per direction', async (t) => {
  async function sizesFor(seed: number, from: 'a' | 'b'): Promise<number[]> {
    const { a, b, ra, rb, call } = pair({ seed, min: 2, max: 7 });
    const [writer, reader, rw, rr] = from === 'a' ? [a, b, ra, rb] : [b, a, rb, ra];
    call(rw, () => mt.write(writer, Buffer.alloc(200, 1), false));
    call(rr, () => mt.setReading(reader, true));
    await rr.when(() => rr.text.length === 200);
    mt.destroy(a);
    mt.destroy(b);
    return rr.pieces.map((p) => p.length);
  }
  const first = await sizesFor(42, 'a');
  t.deepEqual(await sizesFor(42, 'a'), first);
  t.notDeepEqual(await sizesFor(42, 'b'), first);
  t.notDeepEqual(await sizesFor(43, 'a'), first);
  t.true(first.slice(0, -1).every((n) => n >= 2 && n <= 7), String(first));
  t.true(new Set(first).size > 1);
});

test('bad chunking options throw ERR_COMMIO_INVALID_ARGUMENT', (t) => {
  const bad: unknown[] = [[], [0], [1.5], ['2'], { seed: 1.5 }, { seed: 1, min: 0 }, { seed: 1, min: 5, max: 4 }, { seed: 1, size: 3 }, 'byte'];
  for (const chunking of bad) {
    t.throws(() => checkChunking(chunking), { code: 'ERR_COMMIO_INVALID_ARGUMENT' }, JSON.stringify(chunking));
  }
});

test('backpressure: past the capacity writes are WRITE_PENDING and complete, in order, as the reader drains', async (t) => {
  const { a, b, ra, rb, call } = pair(undefined, 10);
  t.is(call(ra, () => mt.write(a, Buffer.alloc(8, 0x61), false)), WRITE_DONE);
  t.is(call(ra, () => mt.write(a, Buffer.alloc(8, 0x62), false)), WRITE_PENDING);
  t.is(call(ra, () => mt.write(a, Buffer.alloc(4, 0x63), false)), WRITE_PENDING);
  t.is(mt.pendingOutput(a), 10, '2 of the second write fit; 6 + 4 wait');
  await new Promise((resolve) => setImmediate(resolve));
  t.deepEqual(ra.events, [], 'no completion while the reader does not read');
  call(rb, () => mt.setReading(b, true));
  await ra.when(() => ra.events.length === 2);
  t.deepEqual(ra.events, ['written', 'written']);
  await rb.when(() => rb.text.length === 20);
  t.is(rb.text, 'a'.repeat(8) + 'b'.repeat(8) + 'c'.repeat(4));
  t.is(mt.pendingOutput(a), 0);
  mt.destroy(a);
  mt.destroy(b);
});

test('shutdownOutput: FIN after the pending writes, outputShut(true); after both FINs both ends get disconnected', async (t) => {
  const { a, b, ra, rb, call } = pair(undefined, 4);
  call(ra, () => mt.write(a, Buffer.from('12345678'), false));
  call(ra, () => mt.shutdownOutput(a, true));
  call(rb, () => mt.setReading(b, true));
  await rb.has('ended');
  t.is(rb.text, '12345678');
  t.deepEqual(ra.events, ['written', 'outputShut true']);
  t.true(mt.isOpen(b), 'half-open: the reader may still write');
  call(rb, () => mt.write(b, Buffer.from('bye'), false));
  call(rb, () => mt.shutdownOutput(b, false));
  call(ra, () => mt.setReading(a, true));
  await Promise.all([ra.has('disconnected'), rb.has('disconnected')]);
  t.is(ra.text, 'bye');
  t.deepEqual(ra.events, ['written', 'outputShut true', 'received 3', 'ended', 'disconnected']);
  t.deepEqual(rb.events, ['received 4', 'received 4', 'ended', 'disconnected'], 'a pipe of 4 bytes');
  t.false(mt.isOpen(a) || mt.isOpen(b));
  mt.destroy(a);
  mt.destroy(b);
});

test('destroy with nothing unread is a FIN: the peer reads the rest, then ended; its next write resets it', async (t) => {
  const { a, b, ra, rb, call } = pair();
  call(ra, () => mt.write(a, Buffer.from('last words'), false));
  call(ra, () => mt.destroy(a));
  call(rb, () => mt.setReading(b, true));
  await rb.has('ended');
  t.is(rb.text, 'last words');
  t.is(call(rb, () => mt.write(b, Buffer.from('anyone?'), false)), WRITE_PENDING);
  await rb.has('disconnected');
  t.deepEqual(rb.events, ['received 10', 'ended', 'failed ECONNRESET', 'written ECONNRESET', 'disconnected']);
  t.is((rb.errors[0] as NodeJS.ErrnoException).syscall, 'write');
  t.false(mt.isOpen(b));
  t.deepEqual(ra.events, [], 'nothing is reported after destroy');
  mt.destroy(b);
});

test('destroy with unread bytes is a reset: the peer gets failed(ECONNRESET), its pending writes fail, disconnected', async (t) => {
  const { a, b, ra, rb, call } = pair(undefined, 4);
  call(rb, () => mt.write(b, Buffer.from('unread by a, and more'), false));
  call(ra, () => mt.write(a, Buffer.from('in flight'), false));
  t.true((mt.pendingOutput(b) ?? 0) > 0);
  call(ra, () => mt.destroy(a));
  call(rb, () => mt.setReading(b, true));
  await rb.has('disconnected');
  t.deepEqual(rb.events, ['failed ECONNRESET', 'written ECONNRESET', 'disconnected']);
  t.is(rb.text, '', 'bytes in flight are dropped by the reset');
  t.is((rb.errors[0] as Error).message, 'read ECONNRESET');
  t.deepEqual(ra.events, []);
  mt.destroy(b);
});

test('release throws ERR_COMMIO_UNSUPPORTED and closes the end (the peer sees the close)', async (t) => {
  const { a, b, ra, rb, call } = pair();
  t.throws(() => call(ra, () => mt.release(a)), { code: 'ERR_COMMIO_UNSUPPORTED' });
  t.false(mt.isOpen(a));
  call(rb, () => mt.setReading(b, true));
  await rb.has('ended');
  mt.destroy(b);
});

test('detach stops reports and reading; attaching a new sink gets the bytes still in the pipe', async (t) => {
  const { a, b, ra, rb, call } = pair();
  call(ra, () => mt.write(a, Buffer.from('for whoever reads'), false));
  mt.detach(b);
  const next = new Recorder();
  mt.attach(b, next);
  call(next, () => mt.setReading(b, true));
  await next.when(() => next.text === 'for whoever reads');
  t.deepEqual(rb.events, []);
  mt.destroy(a);
  mt.destroy(b);
});

test('addresses: 127.0.0.1 with a port per end, each end the peer of the other', (t) => {
  const { a, b } = pair();
  const local = mt.localAddress(a);
  t.is(local?.address, '127.0.0.1');
  t.is(local?.family, 'IPv4');
  t.true((local?.port ?? 0) >= 49152);
  t.deepEqual(mt.peerAddress(a), mt.localAddress(b));
  t.deepEqual(mt.peerAddress(b), mt.localAddress(a));
  t.not(mt.localAddress(a)?.port, mt.localAddress(b)?.port);
  mt.setNoDelay(a, true);
  mt.setKeepAlive(a, true, 1);
  mt.destroy(a);
  mt.destroy(b);
});
