/**
 * Read-with-checking: views of the state's buffer, keeping/discarding/
 * finishing, oldLength, maxRead, element types, the final call at EOF,
 * timeout and error, and the input cap.
 */
import test from 'ava';
import {
  asyncIoStateReadWithChecking,
  asyncIoStateDiscard,
  asyncIoStateFinish,
  asyncIoStateReadBuffer,
  asyncIoStateWaitForInput,
  asyncIoStateGetBufferedData,
  asyncIoStateOldLength,
  asyncIoStateAbort,
  type AsyncIoState,
  type IoStatus,
} from '@commio/core';
import { checkNoLeaksAfterAll } from './helpers/leaks.js';
import { deferred, statePair } from './helpers/fixtures.js';

checkNoLeaksAfterAll(test);

/** One call of a read-with-checking callback, copied out. */
interface Call {
  text: string;
  end: number;
  oldLength: number;
  status: IoStatus;
  view: Uint8Array | Int8Array;
  snapshot: number[];
}

function record(s: AsyncIoState, view: Uint8Array | Int8Array, end: number): Call {
  return {
    text: Buffer.from(view.buffer, view.byteOffset, end).toString('latin1'),
    end,
    oldLength: asyncIoStateOldLength(s),
    status: s.readStatus,
    view,
    snapshot: [...view.subarray(0, end)],
  };
}

/** The calls of one read-with-checking, awaitable one by one. */
class Calls {
  readonly calls: Call[] = [];
  #taken = 0;
  #waiting: ((call: Call) => void) | null = null;

  push(call: Call): void {
    this.calls.push(call);
    const wake = this.#waiting;
    this.#waiting = null;
    wake?.(call);
  }

  /** The next call not yet taken (waits for it). */
  next(): Promise<Call> {
    const call = this.calls[this.#taken];
    this.#taken++;
    if (call !== undefined) return Promise.resolve(call);
    return new Promise<Call>((resolve) => {
      this.#waiting = resolve;
    });
  }
}

/** A read-with-checking whose every call is recorded, and `decide` says what to do. */
function check(
  state: AsyncIoState,
  decide: (s: AsyncIoState, call: Call, index: number) => void = () => {},
  options: Parameters<typeof asyncIoStateReadWithChecking>[2] = {},
): Calls {
  const calls = new Calls();
  let index = 0;
  asyncIoStateReadWithChecking(state, (s, view, end) => {
    const call = record(s, view, end);
    decide(s, call, index++);
    calls.push(call);
  }, options);
  return calls;
}

test('kept bytes are seen again with oldLength = the previous end', async (t) => {
  const { state, peer } = await statePair(t);
  const c = check(state);
  peer.write('abc');
  const first = await c.next();
  t.like(first, { text: 'abc', end: 3, oldLength: 0, status: null });
  peer.write('def');
  const second = await c.next();
  t.like(second, { text: 'abcdef', end: 6, oldLength: 3, status: null });
});

test('discard drops a prefix, returns what stays buffered; the next call sees the rest', async (t) => {
  const { state, peer } = await statePair(t);
  let left = -1;
  const c = check(state, (s, _call, i) => {
    if (i === 0) left = asyncIoStateDiscard(s, 2);
  });
  peer.write('abc');
  await c.next();
  t.is(left, 1);
  t.is(state.bufferedDataLength, 1);
  peer.write('def');
  const second = await c.next();
  t.like(second, { text: 'cdef', end: 4, oldLength: 1 });
});

test('finish with n drops n bytes and ends the read; the rest stays for a read-buffer', async (t) => {
  const { state, peer } = await statePair(t);
  let left = -1;
  const c = check(state, (s) => {
    left = asyncIoStateFinish(s, 2);
  });
  peer.write('abcde');
  const call = await c.next();
  t.is(call.end, 5);
  t.is(left, 3);
  const done = deferred<string>();
  asyncIoStateReadBuffer(state, Buffer.alloc(3), (_s, b) => done.resolve(b.toString()));
  t.is(await done.promise, 'cde');
  t.is(c.calls.length, 1, 'no further call after finish');
});

test('finish without n keeps every byte for the next read of any kind', async (t) => {
  const { state, peer } = await statePair(t);
  const c = check(state, (s) => {
    t.is(asyncIoStateFinish(s), 5);
  });
  peer.write('abcde');
  await c.next();
  // wait-for-input sees them at once.
  const waited = deferred();
  asyncIoStateWaitForInput(state, () => waited.resolve());
  await waited.promise;
  // getBufferedData takes some.
  const two = Buffer.alloc(2);
  t.is(asyncIoStateGetBufferedData(state, two), 2);
  t.is(two.toString(), 'ab');
  // A new read-with-checking sees the rest first, with oldLength 0.
  const again = check(state, (s) => asyncIoStateFinish(s));
  const first = await again.next();
  t.like(first, { text: 'cde', end: 3, oldLength: 0 });
});

test('finish inside the callback lets it start the next read at once', async (t) => {
  const { state, peer } = await statePair(t);
  const line = deferred<string>();
  const rest = deferred<string>();
  asyncIoStateReadWithChecking(state, (s, view, end) => {
    const text = Buffer.from(view.buffer, view.byteOffset, end).toString();
    const nl = text.indexOf('\n');
    if (nl < 0) return;
    asyncIoStateFinish(s, nl + 1);
    line.resolve(text.slice(0, nl));
    // The next parser starts in the same callback and sees the leftover bytes.
    asyncIoStateReadWithChecking(s, (s2, v2, e2) => {
      rest.resolve(Buffer.from(v2.buffer, v2.byteOffset, e2).toString());
      asyncIoStateFinish(s2, e2);
    });
  });
  peer.write('first line\nsecond part');
  t.is(await line.promise, 'first line');
  t.is(await rest.promise, 'second part');
});

test('maxRead limits the new bytes per call, and updates state.maxRead', async (t) => {
  const { state, peer } = await statePair(t);
  const ends: number[] = [];
  const olds: number[] = [];
  const done = deferred();
  asyncIoStateReadWithChecking(state, (s, _view, end) => {
    ends.push(end);
    olds.push(s.oldLength);
    if (end === 100) {
      asyncIoStateFinish(s);
      done.resolve();
    }
  }, { maxRead: 10 });
  t.is(state.maxRead, 10);
  peer.write(Buffer.alloc(100, 1));
  await done.promise;
  t.deepEqual(ends, [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
  t.deepEqual(olds, [0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
});

test('maxRead limits new bytes also when the callback discards everything', async (t) => {
  const { state, peer } = await statePair(t);
  const seen: number[] = [];
  let total = 0;
  const done = deferred();
  asyncIoStateReadWithChecking(state, (s, _view, end) => {
    seen.push(end);
    total += end;
    asyncIoStateDiscard(s, end);
    if (total === 25) {
      asyncIoStateFinish(s);
      done.resolve();
    }
  }, { maxRead: 10 });
  peer.write(Buffer.alloc(25, 1));
  await done.promise;
  t.deepEqual(seen, [10, 10, 5]);
});

test("elementType 'signed-byte-8' hands an Int8Array; the default hands bytes", async (t) => {
  const signed = await statePair(t);
  const c1 = check(signed.state, (s) => asyncIoStateFinish(s), { elementType: 'signed-byte-8' });
  signed.peer.write(Buffer.of(0xff, 0x80, 0x7f));
  const call = await c1.next();
  t.true(call.view instanceof Int8Array);
  t.deepEqual(call.snapshot, [-1, -128, 127]);

  const plain = await statePair(t);
  const c2 = check(plain.state, (s) => asyncIoStateFinish(s), { elementType: 'unsigned-byte-8' });
  plain.peer.write(Buffer.of(0xff));
  const call2 = await c2.next();
  t.true(call2.view instanceof Uint8Array);
  t.deepEqual(call2.snapshot, [255]);

  const chars = await statePair(t);
  const c3 = check(chars.state, (s) => asyncIoStateFinish(s));
  chars.peer.write(Buffer.of(0xe9));
  const call3 = await c3.next();
  t.true(call3.view instanceof Uint8Array);
  t.is(call3.text, 'é', "'base-char' is decoded as latin1");
});

test('EOF: one final call with status eof, even with end 0, then the read ends', async (t) => {
  const { state, peer } = await statePair(t);
  const c = check(state, () => {}, { errorCallback: () => t.fail('EOF is not an error') });
  peer.end();
  const call = await c.next();
  t.like(call, { end: 0, status: 'eof' });
  // The read has ended: a new one may start (and completes with the sticky eof).
  const again = check(state);
  const call2 = await again.next();
  t.like(call2, { end: 0, status: 'eof' });
  t.is(c.calls.length, 1);
});

test('EOF after kept bytes: the final call still shows them', async (t) => {
  const { state, peer } = await statePair(t);
  const c = check(state);
  peer.write('abc');
  t.like(await c.next(), { text: 'abc', status: null });
  peer.end();
  const last = await c.next();
  t.like(last, { text: 'abc', end: 3, status: 'eof', oldLength: 3 });
  t.is(state.bufferedDataLength, 3, 'kept bytes stay buffered after the read ended');
});

test('an error: one final call to errorCallback (else to callback) with the error status', async (t) => {
  const a = await statePair(t);
  const errors: Call[] = [];
  const failed = deferred();
  const c = check(a.state, () => {}, {
    errorCallback: (s, view, end) => {
      errors.push(record(s, view, end));
      failed.resolve();
    },
  });
  a.peer.write('abc');
  await c.next();
  a.peer.resetAndDestroy();
  await failed.promise;
  t.is(errors.length, 1);
  t.is((errors[0]!.status as NodeJS.ErrnoException).code, 'ECONNRESET');
  t.is(errors[0]!.text, 'abc');

  const b = await statePair(t);
  const c2 = check(b.state);
  await new Promise((resolve) => setImmediate(resolve));
  b.peer.resetAndDestroy();
  const call = await c2.next();
  t.is((call.status as NodeJS.ErrnoException).code, 'ECONNRESET');
});

test('past maxBufferedInput unconsumed bytes the read ends with ERR_COMMIO_BUFFER_OVERFLOW', async (t) => {
  const { state, peer } = await statePair(t, { maxBufferedInput: 100 });
  t.is(state.maxBufferedInput, 100);
  const failed = deferred<IoStatus>();
  const c = check(state, () => {}, { errorCallback: (s) => failed.resolve(s.readStatus) });
  peer.setNoDelay(true);
  for (let i = 0; i < 30; i++) peer.write(Buffer.alloc(10, 65));
  const status = await failed.promise;
  t.true(status instanceof Error);
  t.is((status as NodeJS.ErrnoException).code, 'ERR_COMMIO_BUFFER_OVERFLOW');
  t.true(c.calls.every((call) => call.status === null && call.end <= 100));
  // Sticky: a new read fails at once with the same status.
  const again = deferred<IoStatus>();
  asyncIoStateReadBuffer(state, Buffer.alloc(1), () => t.fail(), { errorCallback: (s) => again.resolve(s.readStatus) });
  t.is(await again.promise, status);
});

test('discarding keeps a steady stream under maxBufferedInput', async (t) => {
  const { state, peer } = await statePair(t, { maxBufferedInput: 1000 });
  let total = 0;
  const done = deferred();
  asyncIoStateReadWithChecking(state, (s, _view, end) => {
    t.is(s.readStatus, null);
    total += end;
    asyncIoStateDiscard(s, end);
    if (total === 100_000) {
      asyncIoStateFinish(s);
      done.resolve();
    }
  }, { maxRead: 500 });
  peer.write(Buffer.alloc(100_000, 1));
  await done.promise;
  t.is(total, 100_000);
});

test('discard and finish outside a read-with-checking callback throw ERR_COMMIO_NOT_IN_CALLBACK', async (t) => {
  const { state, peer } = await statePair(t);
  t.throws(() => asyncIoStateDiscard(state, 0), { code: 'ERR_COMMIO_NOT_IN_CALLBACK' });
  t.throws(() => asyncIoStateFinish(state), { code: 'ERR_COMMIO_NOT_IN_CALLBACK' });
  // Not inside a read-buffer callback either.
  const done = deferred();
  asyncIoStateReadBuffer(state, Buffer.alloc(1), (s) => {
    t.throws(() => asyncIoStateFinish(s), { code: 'ERR_COMMIO_NOT_IN_CALLBACK' });
    done.resolve();
  });
  peer.write('x');
  await done.promise;
  // Nor later, once the view's callback returned.
  const c = check(state);
  peer.write('y');
  await c.next();
  t.throws(() => asyncIoStateDiscard(state, 1), { code: 'ERR_COMMIO_NOT_IN_CALLBACK' });
});

test('discarding more than the view holds is an invalid argument', async (t) => {
  const { state, peer } = await statePair(t);
  const done = deferred();
  asyncIoStateReadWithChecking(state, (s, _v, end) => {
    t.throws(() => asyncIoStateDiscard(s, end + 1), { code: 'ERR_COMMIO_INVALID_ARGUMENT' });
    t.throws(() => asyncIoStateDiscard(s, -1), { code: 'ERR_COMMIO_INVALID_ARGUMENT' });
    t.throws(() => asyncIoStateFinish(s, 1.5), { code: 'ERR_COMMIO_INVALID_ARGUMENT' });
    asyncIoStateFinish(s);
    done.resolve();
  });
  peer.write('ab');
  await done.promise;
  t.is(state.bufferedDataLength, 2);
});

test('a second read while read-with-checking is active throws ERR_COMMIO_OPERATION_IN_PROGRESS', async (t) => {
  const { state, peer } = await statePair(t);
  const c = check(state, (s) => {
    t.throws(() => asyncIoStateReadWithChecking(s, () => {}), { code: 'ERR_COMMIO_OPERATION_IN_PROGRESS' });
    asyncIoStateFinish(s);
  });
  t.throws(() => asyncIoStateReadWithChecking(state, () => {}), { code: 'ERR_COMMIO_OPERATION_IN_PROGRESS' });
  t.throws(() => asyncIoStateReadBuffer(state, Buffer.alloc(1), () => {}), { code: 'ERR_COMMIO_OPERATION_IN_PROGRESS' });
  peer.write('z');
  await c.next();
});

test('views never change after being handed out', async (t) => {
  const { state, peer } = await statePair(t);
  peer.setNoDelay(true);
  const kept: Call[] = [];
  const done = deferred();
  let round = 0;
  asyncIoStateReadWithChecking(state, (s, view, end) => {
    kept.push(record(s, view, end));
    round++;
    // Alternate between keeping, discarding part, and discarding all.
    if (round % 3 === 1) asyncIoStateDiscard(s, Math.min(2, end));
    else if (round % 3 === 2) asyncIoStateDiscard(s, end);
    if (round === 30) {
      asyncIoStateFinish(s);
      done.resolve();
    }
  });
  for (let i = 0; round < 30 && i < 1000; i++) {
    const before = round;
    peer.write(Buffer.from(`chunk-${i};`));
    while (round === before) await new Promise((resolve) => setImmediate(resolve));
  }
  await done.promise;
  for (const call of kept) t.deepEqual([...call.view.subarray(0, call.end)], call.snapshot);
});

test('an abort of read-with-checking gets (state, view, end) and may discard', async (t) => {
  const { state, peer } = await statePair(t);
  const c = check(state);
  peer.write('abcdef');
  await c.next();
  const aborted = deferred<string>();
  asyncIoStateAbort(state, (s: AsyncIoState, view: Uint8Array, end: number) => {
    aborted.resolve(Buffer.from(view.buffer, view.byteOffset, end).toString());
    asyncIoStateDiscard(s, 4);
  });
  t.is(await aborted.promise, 'abcdef');
  t.is(state.bufferedDataLength, 2);
});

test('a read-with-checking started right after an abort still sees the buffered bytes', async (t) => {
  const { state, peer } = await statePair(t);
  const first = check(state);
  peer.write('abc');
  await first.next();
  peer.write('def');
  // Let 'def' arrive so a delivery is queued, then abort and restart before it runs.
  await new Promise<void>((resolve) => {
    const poll = (): void => {
      if (state.bufferedDataLength === 6) resolve();
      else setImmediate(poll);
    };
    poll();
  });
  asyncIoStateAbort(state, null);
  const second = check(state, (s) => asyncIoStateFinish(s));
  const call = await second.next();
  t.is(call.text, 'abcdef');
  t.is(call.oldLength, 0);
});
