/**
 * Tests the line-protocol handler of line-protocol.ts without a socket, with
 * `@commio/testkit`: a connected in-memory state pair, every split of the
 * input, and the idle timeout on a fake clock. Runs in a fraction of a
 * second, always the same way; prints `all checks passed` or fails.
 *
 *   node examples/dist/line-protocol-check.js
 */
import assert from 'node:assert/strict';
import {
  asyncIoStateDiscard,
  asyncIoStateReadWithChecking,
  asyncIoStateShutdown,
  asyncIoStateWriteBuffer,
  createAndRunWaitStateCollection,
  waitStateCollectionStopLoop,
  type AsyncIoState,
  type IoStatus,
} from '@commio/core';
import { installFakeClock, makeStatePair, type Chunking } from '@commio/testkit';
import { serveLines } from './line-protocol.js';

/** Everything `client` reads until its read status is set. */
function readAll(client: AsyncIoState): Promise<{ text: string; status: IoStatus }> {
  return new Promise((resolve) => {
    let text = '';
    asyncIoStateReadWithChecking(client, (s, view: Buffer, end) => {
      text += view.toString('latin1', 0, end);
      asyncIoStateDiscard(s, end);
      if (s.readStatus !== null) resolve({ text, status: s.readStatus });
    });
  });
}

function send(client: AsyncIoState, text: string): void {
  asyncIoStateWriteBuffer(client, Buffer.from(text, 'latin1'), () => {});
}

const collection = createAndRunWaitStateCollection('line-protocol-check');

// 1. The same replies whatever the split: whole, byte by byte, random sizes from 20 seeds.
const splits: (Chunking | undefined)[] = [undefined, [1], ...Array.from({ length: 20 }, (_, seed) => ({ seed, max: 12 }))];
for (const chunking of splits) {
  const [client, server] = makeStatePair(collection, { queueOutput: true, ...(chunking && { chunking }) });
  serveLines(server);
  send(client, 'PING\r\nECHO hello there\nSUM 1 2 3 4\nQUIT\n');
  asyncIoStateShutdown(client, 'output');
  const { text, status } = await readAll(client);
  assert.equal(text, 'PONG\nhello there\n10\nBYE\n', `chunking ${JSON.stringify(chunking)}`);
  assert.equal(status, 'eof');
}

// 2. A silent client is dropped after the idle timeout: 30 s of fake time, no real waiting.
const clock = installFakeClock();
try {
  const [client, server] = makeStatePair(collection, { queueOutput: true });
  serveLines(server, 30);
  const replies = readAll(client);
  clock.advance(29.9);
  assert.equal(server.closed, false);
  clock.advance(0.1);
  assert.deepEqual(await replies, { text: 'BYE idle\n', status: 'eof' });
} finally {
  clock.uninstall();
}

waitStateCollectionStopLoop(collection);
console.log('line protocol: all checks passed');
