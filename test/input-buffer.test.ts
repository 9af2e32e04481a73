/** The input buffer of a stream state: pure unit tests, no sockets. */
import test from 'ava';
import fc from 'fast-check';
import { InputBuffer } from '../packages/core/src/state/input-buffer.js';
import { checkNoLeaksAfterAll } from './helpers/leaks.js';

checkNoLeaksAfterAll(test);

function drain(buffer: InputBuffer): Buffer {
  const out = Buffer.alloc(buffer.bufferedLength);
  buffer.copyOut(out, 0, out.length);
  return out;
}

test('a chunk appended to an empty buffer is kept as is, without a copy', (t) => {
  const b = new InputBuffer();
  const chunk = Buffer.from('hello');
  b.append(chunk);
  t.is(b.bufferedLength, 5);
  t.is(b.view(5, false), chunk);
  t.is(b.takeAll()?.buffer, chunk.buffer);
});

test('appends, views, consume and copyOut keep the bytes in order', (t) => {
  const b = new InputBuffer();
  b.append(Buffer.from('abc'));
  b.append(Buffer.from('def'));
  t.is(Buffer.from(b.view(4, false)).toString(), 'abcd');
  b.consume(2);
  t.is(b.bufferedLength, 4);
  const target = Buffer.alloc(3);
  t.is(b.copyOut(target, 1, 2), 2);
  t.is(target.toString('latin1', 1), 'cd');
  t.is(drain(b).toString(), 'ef');
  t.is(b.bufferedLength, 0);
  t.is(b.copyOut(target, 0, 3), 0);
});

test('empty chunks change nothing; views of nothing are empty, signed ones Int8Array', (t) => {
  const b = new InputBuffer();
  b.append(Buffer.alloc(0));
  t.is(b.bufferedLength, 0);
  t.is(b.view(10, false).length, 0);
  t.true(b.view(10, true) instanceof Int8Array);
  t.is(b.takeAll(), null);
});

test('a signed view shares the memory of the bytes', (t) => {
  const b = new InputBuffer();
  b.append(Buffer.from([0xff, 0x01]));
  const view = b.view(2, true);
  t.true(view instanceof Int8Array);
  t.deepEqual([...view], [-1, 1]);
});

test('takeAll hands out every byte and empties the buffer', (t) => {
  const b = new InputBuffer();
  b.append(Buffer.from('xy'));
  b.append(Buffer.from('z'));
  t.is(b.takeAll()?.toString(), 'xyz');
  t.is(b.bufferedLength, 0);
});

test('a view handed out never changes, whatever is appended, consumed or compacted after', (t) => {
  fc.assert(
    fc.property(
      fc.array(
        fc.oneof(
          fc.record({ kind: fc.constant('append' as const), bytes: fc.uint8Array({ minLength: 0, maxLength: 9000 }) }),
          fc.record({ kind: fc.constant('consume' as const), n: fc.nat(12000) }),
          fc.record({ kind: fc.constant('view' as const), n: fc.nat(12000) }),
        ),
        { maxLength: 40 },
      ),
      (steps) => {
        const b = new InputBuffer();
        let model = Buffer.alloc(0);
        const views: [Uint8Array | Int8Array, Buffer][] = [];
        for (const step of steps) {
          if (step.kind === 'append') {
            // The buffer owns what it is given: a fresh copy, as a transport hands over.
            b.append(Buffer.from(step.bytes));
            model = Buffer.concat([model, Buffer.from(step.bytes)]);
          } else if (step.kind === 'consume') {
            const n = Math.min(step.n, model.length);
            b.consume(n);
            model = model.subarray(n);
          } else {
            const view = b.view(step.n, false);
            views.push([view, Buffer.from(view)]);
            t.deepEqual(Buffer.from(view), model.subarray(0, Math.min(step.n, model.length)));
          }
          t.is(b.bufferedLength, model.length);
        }
        for (const [view, copy] of views) t.deepEqual(Buffer.from(view), copy);
        t.deepEqual(drain(b), model);
      },
    ),
    { numRuns: 200 },
  );
});

test('bytes appended past a compacted backlog never land in memory another Buffer shares (even with a large Buffer.poolSize)', (t) => {
  const poolSize = Buffer.poolSize;
  Buffer.poolSize = 1 << 20;
  try {
    const b = new InputBuffer();
    b.append(Buffer.from('ab'));
    b.append(Buffer.from('cd'));
    // Allocated after the compaction: a pooled neighbour, were the buffer's memory pooled.
    const neighbour = Buffer.allocUnsafe(64).fill(0x2a);
    for (let i = 0; i < 1000; i++) b.append(Buffer.from('0123456789'));
    t.true(neighbour.every((byte) => byte === 0x2a));
    t.is(b.bufferedLength, 4 + 10000);
    t.is(Buffer.from(b.view(6, false)).toString(), 'abcd01');
  } finally {
    Buffer.poolSize = poolSize;
  }
});

test('a view of the whole backlog stays as it was when more bytes are appended into the memory behind it', (t) => {
  const b = new InputBuffer();
  b.append(Buffer.from('ab'));
  b.append(Buffer.from('cd'));
  const whole = b.view(100, false);
  b.append(Buffer.from('ef'));
  t.is(Buffer.from(whole).toString(), 'abcd');
  t.is(Buffer.from(b.view(100, false)).toString(), 'abcdef');
  b.consume(3);
  t.is(b.takeAll()?.toString(), 'def');
  t.is(Buffer.from(whole).toString(), 'abcd');
});
