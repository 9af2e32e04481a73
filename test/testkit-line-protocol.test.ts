/**
 * The line-protocol example (examples/line-protocol.ts) tested as the README
 * shows: on in-memory state pairs, under every split of its input, with its
 * idle timeout on the fake clock. No socket, no real waiting.
 */
import test from 'ava';
import { asyncIoStateReadWithChecking, asyncIoStateDiscard, asyncIoStateShutdown, asyncIoStateWriteBuffer, type AsyncIoState, type IoStatus } from '@commio/core';
import { installFakeClock, makeStatePair, type Chunking } from '@commio/testkit';
import { serveLines, MAX_LINE } from '../examples/line-protocol.ts';
import { checkNoLeaksAfterAll } from './helpers/leaks.ts';
import { deferred, withCollection } from './helpers/fixtures.ts';
import { runExample } from './helpers/example-process.ts';

checkNoLeaksAfterAll(test);

/** Everything `state` reads until its read status is set. */
function readAll(state: AsyncIoState): Promise<{ text: string; status: IoStatus }> {
  const done = deferred<{ text: string; status: IoStatus }>();
  const parts: string[] = [];
  asyncIoStateReadWithChecking(
    state,
    (s, view, end) => {
      parts.push(view.subarray(0, end).toString('latin1'));
      asyncIoStateDiscard(s, end);
      if (s.readStatus !== null) done.resolve({ text: parts.join(''), status: s.readStatus });
    },
    { elementType: 'unsigned-byte-8' },
  );
  return done.promise;
}

function send(state: AsyncIoState, text: string): void {
  asyncIoStateWriteBuffer(state, Buffer.from(text, 'latin1'), () => {});
}

/** Resolves once `state` is closed (checked turn by turn of Node's loop). */
async function closing(state: AsyncIoState): Promise<boolean> {
  for (let turns = 0; !state.closed && turns < 1000; turns++) await new Promise((resolve) => setImmediate(resolve));
  return state.closed;
}

const SESSION = 'PING\r\nECHO hello there\nSUM 1 2 3 4\nNOPE\nQUIT\nPING\n';
const REPLIES = 'PONG\nhello there\n10\nERR unknown command\nBYE\n';

const splits: [string, Chunking | undefined][] = [
  ['whole', undefined],
  ['byte by byte', [1]],
  ['2, 3, 5 bytes in turn', [2, 3, 5]],
  ...Array.from({ length: 20 }, (_, seed): [string, Chunking] => [`random sizes, seed ${seed}`, { seed, min: 1, max: 12 }]),
];

test('the same replies under every split of the input; QUIT closes the connection', async (t) => {
  const c = withCollection(t);
  for (const [name, chunking] of splits) {
    const [client, server] = makeStatePair(c, { queueOutput: true, ...(chunking === undefined ? {} : { chunking }) });
    serveLines(server);
    send(client, SESSION);
    asyncIoStateShutdown(client, 'output');
    const { text, status } = await readAll(client);
    t.is(text, REPLIES, name);
    t.is(status, 'eof', name);
    t.true(await closing(server), name);
  }
});

test('a line longer than MAX_LINE gets an error and the connection is closed', async (t) => {
  const c = withCollection(t);
  const [client, server] = makeStatePair(c, { queueOutput: true, chunking: { seed: 7, min: 100, max: 400 } });
  serveLines(server);
  send(client, 'x'.repeat(MAX_LINE + 1));
  const { text, status } = await readAll(client);
  t.is(text, 'ERR line too long\n');
  t.is(status, 'eof');
  asyncIoStateShutdown(client, 'output');
  t.true(await closing(server));
});

test('at the client EOF the server answers what it got, ends, and closes', async (t) => {
  const c = withCollection(t);
  const [client, server] = makeStatePair(c, { queueOutput: true });
  serveLines(server);
  send(client, 'PING\n');
  asyncIoStateShutdown(client, 'output');
  const { text, status } = await readAll(client);
  t.is(text, 'PONG\n');
  t.is(status, 'eof');
  t.true(await closing(server));
});

test.serial('a client silent for idleTimeout gets BYE idle and is closed: on the fake clock, no real wait', async (t) => {
  const clock = installFakeClock();
  t.teardown(() => clock.uninstall());
  const c = withCollection(t);
  const [client, server] = makeStatePair(c, { queueOutput: true });
  serveLines(server, 30);
  const replies = readAll(client);
  clock.advance(20);
  send(client, 'PING\nPI');
  // Wait for the partial line to be buffered: its bytes restart the idle timer.
  for (let turns = 0; server.bufferedDataLength !== 2 && turns < 1000; turns++) await new Promise((resolve) => setImmediate(resolve));
  t.is(server.bufferedDataLength, 2);
  clock.advance(29.9);
  t.false(server.closed, '49.9 s since the start, but 29.9 s since the last bytes');
  clock.advance(0.1);
  const { text, status } = await replies;
  t.is(text, 'PONG\nBYE idle\n');
  t.is(status, 'eof');
  t.true(await closing(server));
  t.is(clock.pendingTimers, 0);
});

test('examples/line-protocol-check.ts, the README test of the handler, passes as a program', async (t) => {
  const check = runExample(t, 'line-protocol-check.ts', []);
  const { code } = await check.exited;
  t.is(code, 0, check.stderr());
  t.regex(check.stdout(), /all checks passed/);
});
