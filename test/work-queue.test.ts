/** The collection's ring of pending work: FIFO, growth, wraparound. Pure unit tests. */
import test from 'ava';
import fc from 'fast-check';
import { WorkQueue, type WorkFunction } from '../packages/core/src/collection/work-queue.js';
import { checkNoLeaksAfterAll } from './helpers/leaks.js';

checkNoLeaksAfterAll(test);

const fn: WorkFunction = () => {};

/** Shifts every entry out, returning [owner, a, b, c, d] of each. */
function drain(queue: WorkQueue): unknown[][] {
  const out: unknown[][] = [];
  while (queue.shift((owner, f, a, b, c, d) => out.push([owner, f === fn, a, b, c, d]))) {
    // keep shifting
  }
  return out;
}

test('entries come out first in, first out, with their owner, function and four arguments', (t) => {
  const q = new WorkQueue();
  const owner = {};
  q.push(owner, fn, 1, 'two', null, undefined);
  q.push(null, fn, 5, 6, 7, 8);
  t.is(q.size, 2);
  t.deepEqual(drain(q), [
    [owner, true, 1, 'two', null, undefined],
    [null, true, 5, 6, 7, 8],
  ]);
  t.is(q.size, 0);
});

test('shift on an empty queue returns false and runs nothing', (t) => {
  const q = new WorkQueue();
  t.false(q.shift(() => t.fail()));
});

test('it grows past its initial capacity and keeps the order', (t) => {
  const q = new WorkQueue();
  for (let i = 0; i < 1000; i++) q.push(null, fn, i, undefined, undefined, undefined);
  t.is(q.size, 1000);
  t.deepEqual(drain(q).map((e) => e[2]), Array.from({ length: 1000 }, (_, i) => i));
});

test('it wraps around, and grows while wrapped, keeping the order', (t) => {
  const q = new WorkQueue();
  let next = 0;
  let expected = 0;
  const seen: number[] = [];
  const take = (n: number): void => {
    for (let i = 0; i < n; i++) {
      q.shift((_o, _f, a) => seen.push(a as number));
      expected++;
    }
  };
  const put = (n: number): void => {
    for (let i = 0; i < n; i++) q.push(null, fn, next++, undefined, undefined, undefined);
  };
  put(10);
  take(8);
  put(12); // wraps inside the first ring of 16
  take(5);
  put(40); // grows while the head is not at slot 0
  take(49);
  t.is(q.size, 0);
  t.deepEqual(seen, Array.from({ length: expected }, (_, i) => i));
});

test('a function queued while shifting runs after the entries already queued', (t) => {
  const q = new WorkQueue();
  const order: string[] = [];
  q.push(null, fn, 'a', undefined, undefined, undefined);
  q.push(null, fn, 'b', undefined, undefined, undefined);
  q.shift((_o, _f, a) => {
    order.push(a as string);
    q.push(null, fn, 'c', undefined, undefined, undefined);
  });
  while (q.shift((_o, _f, a) => order.push(a as string))) {
    // drain
  }
  t.deepEqual(order, ['a', 'b', 'c']);
});

test('clear drops every entry; the queue is usable after', (t) => {
  const q = new WorkQueue();
  for (let i = 0; i < 40; i++) q.push(null, fn, i, undefined, undefined, undefined);
  q.clear();
  t.is(q.size, 0);
  t.false(q.shift(() => t.fail()));
  q.push(null, fn, 'again', undefined, undefined, undefined);
  t.deepEqual(drain(q).map((e) => e[2]), ['again']);
});

test('behaves as an array used as a FIFO for any sequence of pushes and shifts', (t) => {
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.constant<'shift'>('shift'), fc.integer())), (ops) => {
      const q = new WorkQueue();
      const model: number[] = [];
      for (const op of ops) {
        if (op === 'shift') {
          let got: unknown = 'none';
          const had = q.shift((_o, _f, a) => (got = a));
          const want = model.shift();
          if (had !== (want !== undefined) || (had && got !== want)) return false;
        } else {
          q.push(null, fn, op, undefined, undefined, undefined);
          model.push(op);
        }
        if (q.size !== model.length) return false;
      }
      return true;
    }),
  );
  t.pass();
});
