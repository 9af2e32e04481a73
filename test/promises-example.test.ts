/**
 * The README's "Promises and streams" example: it runs (as a consumer would,
 * through '@commio/core/promises'), and the README shows its code.
 */
import test from 'ava';
import { checkNoLeaksAfterAll } from './helpers/leaks.js';
import { checkReadmeShows, runExample } from './helpers/example-process.js';

checkNoLeaksAfterAll(test);

test('the promises and streams example runs, and is the code the README shows', async (t) => {
  const example = runExample(t, 'promises-and-streams.ts', []);
  t.deepEqual(await example.exited, { code: 0, signal: null });
  t.is(example.stdout(), 'HELLO\nWORLD\n');
  checkReadmeShows(t, 'Promises and streams', 'promises-and-streams.ts');
});
