/** The receive queue of UDP states, without sockets. */
import test from 'ava';
import fc from 'fast-check';
import { MessageQueue, type SenderInfo } from '../packages/core/src/udp/message-queue.js';
import { checkNoLeaksAfterAll } from './helpers/leaks.js';

checkNoLeaksAfterAll(test);

function sender(port: number): SenderInfo {
  return { address: '127.0.0.1', family: 'IPv4', port, size: 0 };
}

function drain(queue: MessageQueue): string[] {
  const out: string[] = [];
  for (;;) {
    const payload = queue.peekPayload();
    if (payload === undefined) return out;
    out.push(payload instanceof Error ? `error:${payload.message}` : payload.toString());
    queue.shift();
  }
}

test('entries come out oldest first, with their senders', (t) => {
  const queue = new MessageQueue();
  t.is(queue.push(Buffer.from('a'), sender(1), 10, 100), 0);
  t.is(queue.push(new Error('refused'), null, 10, 100), 0);
  t.is(queue.push(Buffer.from('bc'), sender(2), 10, 100), 0);
  t.is(queue.size, 3);
  t.is(queue.bytes, 3);
  t.is(queue.peekSender()?.port, 1);
  queue.shift();
  t.is(queue.peekSender(), null);
  t.deepEqual(drain(queue), ['error:refused', 'bc']);
  t.is(queue.bytes, 0);
  t.is(queue.peekPayload(), undefined);
});

test('past the count bound the oldest are dropped and counted', (t) => {
  const queue = new MessageQueue();
  for (let i = 0; i < 5; i++) queue.push(Buffer.from(String(i)), sender(i), 3, 100);
  t.is(queue.dropped, 2);
  t.deepEqual(drain(queue), ['2', '3', '4']);
});

test('past the byte bound the oldest are dropped; a lone entry is always kept', (t) => {
  const queue = new MessageQueue();
  queue.push(Buffer.alloc(60, 'a'), sender(1), 10, 100);
  t.is(queue.push(Buffer.alloc(60, 'b'), sender(2), 10, 100), 1);
  t.is(queue.push(Buffer.alloc(500, 'c'), sender(3), 10, 100), 1);
  t.is(queue.size, 1);
  t.is(queue.bytes, 500);
  t.is(queue.dropped, 2);
  queue.clear();
  t.is(queue.size, 0);
  t.is(queue.bytes, 0);
});

test('property: the queue keeps the newest entries within both bounds, in order', (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.nat({ max: 40 }), { maxLength: 200 }),
      fc.integer({ min: 1, max: 20 }),
      fc.integer({ min: 1, max: 200 }),
      fc.array(fc.boolean(), { maxLength: 200 }),
      (lengths, maxCount, maxBytes, takes) => {
        const queue = new MessageQueue();
        const model: number[] = [];
        let dropped = 0;
        lengths.forEach((length, i) => {
          queue.push(Buffer.alloc(length, i % 256), sender(i), maxCount, maxBytes);
          model.push(i);
          const bytes = (): number => model.reduce((sum, j) => sum + (lengths[j] ?? 0), 0);
          while (model.length > 1 && (model.length > maxCount || bytes() > maxBytes)) {
            model.shift();
            dropped++;
          }
          if (takes[i] === true && model.length > 0) {
            if (queue.peekSender()?.port !== model[0]) throw new Error('took the wrong entry');
            queue.shift();
            model.shift();
          }
          if (queue.size !== model.length || queue.dropped !== dropped) throw new Error(`size ${queue.size} vs ${model.length}`);
          if (queue.size > 1 && (queue.size > maxCount || queue.bytes > maxBytes)) throw new Error('bound exceeded');
        });
        for (const i of model) {
          if (queue.peekSender()?.port !== i) throw new Error('order');
          queue.shift();
        }
      },
    ),
  );
  t.pass();
});
