/** The FIFO of a state's writes in flight, with recycled slots. Pure unit tests. */
import test from 'ava';
import fc from 'fast-check';
import { WriteQueue, scratchRecord } from '../packages/core/src/state/write-queue.js';
import { checkNoLeaksAfterAll } from './helpers/leaks.js';

checkNoLeaksAfterAll(test);

const cb = (): void => {};
const errorCb = (): void => {};

test('push, peek and shiftInto keep the order and copy every field', (t) => {
  const q = new WriteQueue();
  t.is(q.peek(), null);
  const a = Buffer.from('a');
  const b = new Int8Array(3);
  const first = q.push(a, 1, cb, null);
  q.push(b, 3, cb, errorCb);
  t.is(q.size, 2);
  t.is(q.peek(), first);
  const into = scratchRecord();
  t.true(q.shiftInto(into));
  t.deepEqual({ ...into }, { buffer: a, length: 1, callback: cb, errorCallback: null, silenced: false });
  t.true(q.shiftInto(into));
  t.like(into, { buffer: b, length: 3, callback: cb, errorCallback: errorCb });
  t.false(q.shiftInto(into));
  t.is(q.size, 0);
});

test('a shifted slot keeps no references, and a recycled slot starts unsilenced', (t) => {
  const q = new WriteQueue();
  const record = q.push(Buffer.from('x'), 1, cb, errorCb);
  record.silenced = true;
  q.shiftInto(scratchRecord());
  t.is(record.buffer, null);
  t.is(record.callback, null);
  t.is(record.errorCallback, null);
  // The ring reuses its slots: a later push starts clean.
  for (let i = 0; i < 8; i++) {
    const again = q.push(Buffer.from('y'), 1, cb, null);
    t.false(again.silenced);
    q.shiftInto(scratchRecord());
  }
});

test('forEach visits the writes oldest first, also when wrapped and grown', (t) => {
  const q = new WriteQueue();
  const into = scratchRecord();
  let next = 0;
  let head = 0;
  const put = (n: number): void => {
    for (let i = 0; i < n; i++) q.push(Buffer.alloc(0), next++, cb, null);
  };
  put(3);
  q.shiftInto(into);
  q.shiftInto(into);
  head = 2;
  put(9); // wraps, then grows while wrapped
  const lengths: number[] = [];
  q.forEach((r) => lengths.push(r.length));
  t.deepEqual(lengths, Array.from({ length: next - head }, (_, i) => head + i));
});

test('clear forgets everything', (t) => {
  const q = new WriteQueue();
  q.push(Buffer.from('a'), 1, cb, null);
  q.clear();
  t.is(q.size, 0);
  t.is(q.peek(), null);
  q.push(Buffer.from('b'), 1, cb, null);
  t.is(q.size, 1);
});

test('behaves as an array used as a FIFO', (t) => {
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.constant<'shift'>('shift'), fc.nat())), (ops) => {
      const q = new WriteQueue();
      const model: number[] = [];
      const into = scratchRecord();
      for (const op of ops) {
        if (op === 'shift') {
          const had = q.shiftInto(into);
          const want = model.shift();
          if (had !== (want !== undefined) || (had && into.length !== want)) return false;
        } else {
          q.push(Buffer.alloc(0), op, cb, null);
          model.push(op);
        }
        if (q.size !== model.length || (q.peek()?.length ?? -1) !== (model[0] ?? -1)) return false;
      }
      return true;
    }),
  );
  t.pass();
});
