/**
 * The README's "Promises and streams" example: it runs (as a consumer would,
 * through '@commio/core/promises'), and the README shows its code.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { runExample } from './helpers/example-process.js';

test('the promises and streams example runs, and is the code the README shows', async (t) => {
  const example = runExample(t, 'promises-and-streams.ts', []);
  t.deepEqual(await example.exited, { code: 0, signal: null });
  t.is(example.stdout(), 'HELLO\nWORLD\n');

  const source = readFileSync(new URL('../examples/promises-and-streams.ts', import.meta.url), 'utf8');
  const body = source.slice(source.indexOf('import {'));
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const block = /## Promises and streams[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme);
  t.truthy(block, 'README.md has a Promises and streams section with a ts block');
  t.is(block?.[1], body);
});
