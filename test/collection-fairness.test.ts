/**
 * Fairness between collections: a turn of a busy collection is bounded in
 * time, so another collection's callback and Node's timers get their turn
 * long before a count-only budget (512 invocations) would let them. Bounds
 * are counted in invocations of the busy collection, each of which takes at
 * least 1 ms of wall time, so a loaded machine only makes them smaller.
 */
import test, { type ExecutionContext } from 'ava';
import {
  createAndRunWaitStateCollection,
  applyInWaitStateCollectionProcess,
  waitStateCollectionStopLoop,
  type WaitStateCollection,
} from '@commio/core';
import { TurnBudget, TURN_BUDGET_MS, TURN_MAX_INVOCATIONS, MAX_CLOCK_STRIDE } from '../packages/core/src/collection/turn-budget.js';
import { checkNoLeaksAfterAll } from './helpers/leaks.js';
import { deferred } from './helpers/fixtures.js';

checkNoLeaksAfterAll(test);

function running(t: ExecutionContext, name: string): WaitStateCollection {
  const c = createAndRunWaitStateCollection(name);
  t.teardown(() => waitStateCollectionStopLoop(c));
  return c;
}

function busyWait(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // spin: a callback that holds the thread
  }
}

/** What the count-only budget would have allowed before the neighbour ran. */
const COUNT_ONLY_BOUND = TURN_MAX_INVOCATIONS;

/**
 * A chain of 1 ms callbacks on `busy`, each posting the next (the case of
 * the issue); `stop()` ends it and tells how many ran.
 */
function busyChain(busy: WaitStateCollection): { ran: () => number; stop: () => void } {
  let ran = 0;
  let going = true;
  const step = (): void => {
    if (!going) return;
    busyWait(1);
    ran++;
    applyInWaitStateCollectionProcess(busy, step);
  };
  applyInWaitStateCollectionProcess(busy, step);
  return { ran: () => ran, stop: () => (going = false) };
}

test('a chain of 1 ms callbacks holds another collection’s callback for one short turn, not 512 invocations', async (t) => {
  const busy = running(t, 'busy');
  const calm = running(t, 'calm');
  const chain = busyChain(busy);
  const served = deferred<number>();
  // Posted from inside the busy collection, so it is queued behind a turn that has started.
  applyInWaitStateCollectionProcess(busy, () => applyInWaitStateCollectionProcess(calm, () => served.resolve(chain.ran())));
  const before = await served.promise;
  chain.stop();
  // One turn is about 2 ms: two or three 1 ms callbacks, plus the one running.
  t.true(before <= 2 * Math.ceil(TURN_BUDGET_MS) + 4, `${before} busy invocations ran before the other collection's callback`);
  t.true(before < COUNT_ONLY_BOUND / 16);
});

test('a 10 ms timer fires within a few turns of a busy chain, not after 512 invocations', async (t) => {
  const busy = running(t, 'busy-timer');
  const chain = busyChain(busy);
  const fired = deferred<number>();
  let startedAt = -1;
  applyInWaitStateCollectionProcess(busy, () => {
    startedAt = chain.ran();
    setTimeout(() => fired.resolve(chain.ran()), 10);
  });
  const atFire = await fired.promise;
  chain.stop();
  const during = atFire - startedAt;
  // 10 ms is at most 10 callbacks of 1 ms each; then at most one turn more.
  t.true(during <= 10 + 2 * Math.ceil(TURN_BUDGET_MS) + 4, `${during} busy invocations ran before a 10 ms timer fired`);
  t.true(during < COUNT_ONLY_BOUND / 16);
});

test('two busy collections and a calm one: the calm one waits at most one turn of each', async (t) => {
  const first = running(t, 'busy-1');
  const second = running(t, 'busy-2');
  const calm = running(t, 'calm-2');
  const a = busyChain(first);
  const b = busyChain(second);
  const served = deferred<number>();
  applyInWaitStateCollectionProcess(first, () => {
    const base = a.ran() + b.ran();
    applyInWaitStateCollectionProcess(calm, () => served.resolve(a.ran() + b.ran() - base));
  });
  const before = await served.promise;
  a.stop();
  b.stop();
  t.true(before <= 2 * (2 * Math.ceil(TURN_BUDGET_MS) + 4), `${before} busy invocations ran before the calm collection's callback`);
  t.true(before < COUNT_ONLY_BOUND / 16);
});

test('a busy chain keeps its order and runs on while others take turns', async (t) => {
  const busy = running(t, 'ordered');
  const calm = running(t, 'calm-3');
  const seen: number[] = [];
  const done = deferred();
  for (let i = 0; i < 2000; i++) {
    applyInWaitStateCollectionProcess(busy, (n: number) => {
      seen.push(n);
      if (n % 500 === 0) busyWait(1);
      if (n === 1999) done.resolve();
    }, i);
  }
  let calmRuns = 0;
  const tick = (): void => {
    calmRuns++;
    if (seen.length < 2000) applyInWaitStateCollectionProcess(calm, tick);
  };
  applyInWaitStateCollectionProcess(calm, tick);
  await done.promise;
  t.deepEqual(seen, Array.from({ length: 2000 }, (_, i) => i));
  t.true(calmRuns >= 2, `the other collection ran ${calmRuns} times while 2000 callbacks were queued here`);
});

// ------------------------------------------------------ the turn budget, with a clock the test drives

/** A budget over a fake clock; `advance` moves time on by `ms` per invocation. */
function fakeTurn(): { budget: TurnBudget; now: { ms: number } } {
  const now = { ms: 1000 };
  const budget = new TurnBudget(() => now.ms);
  budget.begin();
  return { budget, now };
}

/** Invocations run until the budget says stop, each taking `costMs(i)`. */
function runUntilSpent(costMs: (i: number) => number): { ran: number; elapsed: number; readings: number } {
  const { budget, now } = fakeTurn();
  const start = now.ms;
  let ran = 0;
  for (;;) {
    now.ms += costMs(ran);
    ran++;
    if (budget.spent()) break;
  }
  return { ran, elapsed: now.ms - start, readings: budget.readings };
}

test('turn budget: slow invocations end the turn at the first one past the budget', (t) => {
  const r = runUntilSpent(() => 1);
  t.is(r.ran, Math.ceil(TURN_BUDGET_MS));
  t.is(r.elapsed, Math.ceil(TURN_BUDGET_MS));
  const long = runUntilSpent(() => 50);
  t.is(long.ran, 1, 'a turn always runs one, and one long one ends it');
});

test('turn budget: fast invocations end at the count, reading the clock rarely', (t) => {
  const r = runUntilSpent(() => 0.0001);
  t.is(r.ran, TURN_MAX_INVOCATIONS);
  // 1, 2, 4, ... 64, then every 64: about log2(64) + 512 / 64 readings.
  t.true(r.readings <= Math.log2(MAX_CLOCK_STRIDE) + TURN_MAX_INVOCATIONS / MAX_CLOCK_STRIDE + 1, `${r.readings} readings`);
});

test('turn budget: medium invocations overshoot the budget by at most one stride', (t) => {
  for (const cost of [0.001, 0.01, 0.02, 0.05, 0.1, 0.3]) {
    const r = runUntilSpent(() => cost);
    t.true(r.ran <= TURN_MAX_INVOCATIONS);
    if (r.ran < TURN_MAX_INVOCATIONS) t.true(r.elapsed <= 2 * TURN_BUDGET_MS + cost, `cost ${cost}: ${r.elapsed} ms`);
  }
});

test('turn budget: after fast invocations, slow ones bring the readings back to every invocation', (t) => {
  const r = runUntilSpent((i) => (i < 63 ? 0.0001 : 0.5));
  // 63 fast ones reach a stride of 32..64; then at most one stride of slow ones before the reading that ends the turn.
  t.true(r.ran <= 63 + MAX_CLOCK_STRIDE, `${r.ran} ran`);
  t.true(r.elapsed >= TURN_BUDGET_MS);
  const { budget, now } = fakeTurn();
  // A fresh turn starts reading after every invocation again.
  now.ms += 0.5;
  t.false(budget.spent());
  now.ms += 0.5;
  t.false(budget.spent());
  t.is(budget.readings, 2);
});
