/**
 * Faulty callbacks: connection, read, write, connect, abort, shutdown and
 * applyIn callbacks that throw, in each handler mode. The loop and every
 * connection carry on; the handler sees each throw once, with its owner.
 * Server and clients run on the transport under test (COMMIO_TEST_TRANSPORT).
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { AsyncIoState, AcceptingHandle } from '@commio/core';
import { checkNoLeaksAfterAll } from './helpers/leaks.js';
import { runFaultyScenario, Planted, type FaultyOutcome } from './helpers/attack-faulty.js';

checkNoLeaksAfterAll(test);

const run = promisify(execFile);

function assertCarriedOn(t: import('ava').ExecutionContext, outcome: FaultyOutcome): number {
  t.is(outcome.roundTrips, outcome.expected, 'every exchange completed');
  t.is(outcome.openAfter, 0, 'every state closed');
  const total = Object.values(outcome.thrown).reduce((a, b) => a + b, 0);
  for (const where of ['connection function', 'read callback', 'write callback', 'connect callback', 'client read callback', 'abort callback', 'shutdown callback', 'applyIn function']) {
    t.true((outcome.thrown[where] ?? 0) > 0, `a ${where} threw`);
  }
  return total;
}

test.serial("handler function: called once per throw with the state, handle or null; the loop goes on", async (t) => {
  const seen: { owner: string; where: string; backtrace: boolean }[] = [];
  const outcome = await runFaultyScenario((object, error, backtrace) => {
    const owner = object instanceof AsyncIoState ? 'state' : object instanceof AcceptingHandle ? 'handle' : String(object);
    seen.push({ owner, where: error instanceof Planted ? error.where : String(error), backtrace: typeof backtrace === 'string' });
  });
  const total = assertCarriedOn(t, outcome);
  t.is(seen.length, total, 'each throw reached the handler once');
  t.true(seen.every((s) => s.backtrace));
  for (const s of seen) {
    if (s.where === 'applyIn function') t.is(s.owner, 'null');
    else if (s.where === 'connection function') t.is(s.owner, 'handle');
    else t.is(s.owner, 'state', `${s.where} is attributed to its state`);
  }
  t.log(`throws handled: ${JSON.stringify(outcome.thrown)}`);
});

test.serial("handler true (default): each throw is printed to stderr, the loop goes on", async (t) => {
  const printed: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array): boolean => {
    printed.push(String(chunk));
    return true;
  });
  let outcome: FaultyOutcome;
  try {
    outcome = await runFaultyScenario(true);
  } finally {
    process.stderr.write = write;
  }
  const total = assertCarriedOn(t, outcome);
  const reports = printed.filter((text) => text.startsWith('commio: error in collection faulty'));
  t.is(reports.length, total);
  t.true(reports.every((text) => text.includes('planted in')));
});

test.serial("handler 'abort': throws are dropped silently, the loop goes on", async (t) => {
  const outcome = await runFaultyScenario('abort');
  assertCarriedOn(t, outcome);
});

test.serial('handler null: each throw becomes an uncaught exception, the loop goes on (child process)', async (t) => {
  const child = fileURLToPath(new URL('./helpers/attack-faulty-child.ts', import.meta.url));
  const { stdout } = await run(process.execPath, ['--import=tsx', '--conditions=commio-source', child], { timeout: 30_000 });
  const outcome = JSON.parse(stdout.trim()) as FaultyOutcome & { uncaught: Record<string, number>; foreign: string | null };
  assertCarriedOn(t, outcome);
  t.is(outcome.foreign, null, 'no other exception escaped');
  t.deepEqual(outcome.uncaught, outcome.thrown, 'every throw was re-thrown uncaught, once');
});
