import test from 'ava';
import {
  makeWaitStateCollection,
  createAndRunWaitStateCollection,
  loopProcessingWaitStateCollection,
  waitForWaitStateCollection,
  callWaitStateCollection,
  waitStateCollectionStopLoop,
  waitStateCollectionAliveP,
  applyInWaitStateCollectionProcess,
} from '@commio/core';
import { checkNoLeaksAfterAll } from './helpers/leaks.js';
import { deferred } from './helpers/fixtures.js';

checkNoLeaksAfterAll(test);

test('applyIn runs later, in order, never inside the call', async (t) => {
  const c = createAndRunWaitStateCollection('order');
  t.teardown(() => waitStateCollectionStopLoop(c));
  const seen: number[] = [];
  const done = deferred();
  applyInWaitStateCollectionProcess(c, (n: number) => seen.push(n), 1);
  applyInWaitStateCollectionProcess(c, (n: number) => {
    seen.push(n);
    applyInWaitStateCollectionProcess(c, () => {
      seen.push(3);
      done.resolve();
    });
    seen.push(2.5);
  }, 2);
  t.deepEqual(seen, []);
  await done.promise;
  t.deepEqual(seen, [1, 2, 2.5, 3]);
});

test('manual wait and call drive a made collection', async (t) => {
  const c = makeWaitStateCollection();
  const seen: string[] = [];
  applyInWaitStateCollectionProcess(c, () => seen.push('a'));
  await waitForWaitStateCollection(c);
  t.deepEqual(seen, []);
  callWaitStateCollection(c);
  t.deepEqual(seen, ['a']);
  t.true(waitStateCollectionAliveP(c));
});

test('a throw goes to the handler function and the loop goes on', async (t) => {
  const errors: unknown[] = [];
  const c = createAndRunWaitStateCollection('throwing', { handler: (object, error, backtrace) => errors.push([object, error, typeof backtrace]) });
  t.teardown(() => waitStateCollectionStopLoop(c));
  const done = deferred();
  const boom = new Error('boom');
  applyInWaitStateCollectionProcess(c, () => {
    throw boom;
  });
  applyInWaitStateCollectionProcess(c, () => done.resolve());
  await done.promise;
  t.deepEqual(errors, [[null, boom, 'string']]);
});

test('a second loop on the same collection is refused; stop resolves the loop', async (t) => {
  const c = makeWaitStateCollection();
  const loop = loopProcessingWaitStateCollection(c);
  await t.throwsAsync(loopProcessingWaitStateCollection(c), { code: 'ERR_COMMIO_OPERATION_IN_PROGRESS' });
  waitStateCollectionStopLoop(c);
  await loop;
  t.true(c.alive);
});

test('stopping a created-and-run collection makes it dead', (t) => {
  const c = createAndRunWaitStateCollection('dies');
  waitStateCollectionStopLoop(c);
  t.false(waitStateCollectionAliveP(c));
  t.throws(() => applyInWaitStateCollectionProcess(c, () => {}), { code: 'ERR_COMMIO_COLLECTION_CLOSED' });
});
