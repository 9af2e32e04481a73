/**
 * Slow readers: peers that never read while the server keeps writing to
 * them with queued output. The pending output of each stays under its
 * `maxQueuedOutput`, the write side fails with ERR_COMMIO_OUTPUT_OVERFLOW,
 * memory stays bounded, and other clients of the same collection are served.
 * The servers run on the transport under test (COMMIO_TEST_TRANSPORT).
 */
import test from 'ava';
import type net from 'node:net';
import {
  asyncIoStateWriteBuffer,
  closeAcceptingHandle,
  closeAsyncIoState,
  createAndRunWaitStateCollection,
  waitStateCollectionStopLoop,
  type AsyncIoState,
} from '@commio/core';
import { checkNoLeaksAfterAll } from './helpers/leaks.js';
import { startEchoServer } from './helpers/attack-server.js';
import { connectMany, peersWithinLimit, roundTrips, latencySummary, memory, describeMemory } from './helpers/attack-peers.js';
import { acceptOnTestTransport, deferred } from './helpers/fixtures.js';

checkNoLeaksAfterAll(test);

const MIB = 1024 * 1024;
const CHUNK = 64 * 1024;

test.serial('writers to peers that never read hit ERR_COMMIO_OUTPUT_OVERFLOW; memory bounded; neighbours served', async (t) => {
  const collection = createAndRunWaitStateCollection('slow-readers');
  t.teardown(() => waitStateCollectionStopLoop(collection));
  const cap = 1 * MIB;
  const slow = peersWithinLimit(t, 50);
  const good = 5;

  // A "broadcast" server: pushes fresh 64 KiB messages to every peer on a
  // timer, never waiting for write completions (the pattern that blows up
  // memory without a cap).
  const states: AsyncIoState[] = [];
  const overflowed = new Map<AsyncIoState, { pending: number; code: unknown }>();
  const allOverflowed = deferred();
  let pumpRounds = 0;
  const onWritten = (s: AsyncIoState, _buffer: Uint8Array, count: number): void => {
    const status = s.writeStatus;
    if (!(status instanceof Error) || overflowed.has(s)) return;
    t.is(count, 0);
    overflowed.set(s, { pending: s.queuedOutputLength, code: (status as NodeJS.ErrnoException).code });
    if (overflowed.size === slow) allOverflowed.resolve();
  };
  const handle = await acceptOnTestTransport(
    collection,
    0,
    (_h, connection) => {
      states.push(connection as AsyncIoState);
    },
    { address: '127.0.0.1', initTimeout: 0, queueOutput: true, maxQueuedOutput: cap },
  );
  t.teardown(() => {
    closeAcceptingHandle(handle);
    for (const s of states) closeAsyncIoState(s);
  });
  const echo = await startEchoServer(t, collection);
  await roundTrips(echo.port, 50); // warm-up
  const baseline = await roundTrips(echo.port, 200);

  const before = memory();
  // Good readers read everything they get; slow ones never read.
  const goodPeers = await connectMany(t, handle.localPort, good);
  const received = new Map<net.Socket, number>();
  for (const p of goodPeers) {
    received.set(p, 0);
    p.on('data', (chunk: Buffer) => received.set(p, (received.get(p) ?? 0) + chunk.length));
  }
  const slowPeers = await connectMany(t, handle.localPort, slow);
  for (const p of slowPeers) p.pause();

  const pump = setInterval(() => {
    // Paced by the good readers: a round starts only once each of them has
    // received every round but the last, so a peer that reads never has more
    // than two rounds (512 KiB, half its cap) queued, however busy the
    // machine; the slow readers still get 256 KiB more every round.
    let slowestGood = Infinity;
    for (const p of goodPeers) slowestGood = Math.min(slowestGood, received.get(p) ?? 0);
    if (slowestGood < (pumpRounds - 1) * 4 * CHUNK) return;
    pumpRounds++;
    for (const s of states) {
      for (let k = 0; k < 4 && s.writeStatus === null; k++) {
        asyncIoStateWriteBuffer(s, Buffer.alloc(CHUNK, pumpRounds & 0xff), onWritten);
      }
      if (s.queuedOutputLength > cap) t.fail(`pending output ${s.queuedOutputLength} is past the cap ${cap}`);
    }
  }, 10);
  t.teardown(() => clearInterval(pump));
  // The neighbours are measured while the slow readers are being filled up.
  const attacked = await roundTrips(echo.port, 200);
  await allOverflowed.promise;
  const peak = memory();
  // Writing on after the overflow fails at once: nothing more is held.
  const heldAtOverflow = states.reduce((sum, s) => sum + s.queuedOutputLength, 0);
  // The pump goes on (its writes fail at once now) while the neighbour is measured again.
  const overflowedLatency = await roundTrips(echo.port, 200);
  clearInterval(pump);
  const heldLater = states.reduce((sum, s) => sum + s.queuedOutputLength, 0);
  const afterPump = memory();

  t.is(overflowed.size, slow);
  for (const { pending, code } of overflowed.values()) {
    t.is(code, 'ERR_COMMIO_OUTPUT_OVERFLOW');
    t.true(pending <= cap);
  }
  t.true(heldLater <= heldAtOverflow + good * cap, 'no more output is held for the overflowed peers');
  for (const p of goodPeers) t.true((received.get(p) ?? 0) > 0, 'a good reader kept receiving');
  for (const s of states) if (!overflowed.has(s)) t.is(s.writeStatus, null, 'a peer that reads never overflows');
  // Bounded: what the process holds for the slow readers is at most their caps (plus one message each).
  const bound = slow * (cap + CHUNK) / MIB + 32;
  const growth = peak.arrayBuffers - before.arrayBuffers;
  t.true(growth <= bound, `buffers grew ${growth.toFixed(1)} MiB, more than ${bound.toFixed(1)} MiB`);

  for (const s of states) closeAsyncIoState(s);
  const closedCount = states.length;
  // Let the destroyed sockets release their write requests, then forget the states.
  await new Promise<void>((resolve) => setTimeout(resolve, 50));
  const afterClose = memory();
  states.length = 0;
  overflowed.clear();
  const after = memory();
  t.true(after.arrayBuffers - before.arrayBuffers < 8, `after closing, buffers still hold ${(after.arrayBuffers - before.arrayBuffers).toFixed(1)} MiB`);
  t.log(`${slow} peers that never read, ${good} that read; maxQueuedOutput ${cap / MIB} MiB; 4 x 64 KiB pushed to each every 10 ms (paced by the readers) for ${pumpRounds} rounds`);
  t.log(`before: ${describeMemory(before)}`);
  t.log(`all overflowed: ${describeMemory(peak)} (held output ${(heldAtOverflow / MIB).toFixed(1)} MiB; bound ${bound.toFixed(0)} MiB)`);
  t.log(`writing on after the overflow: ${describeMemory(afterPump)} (held output ${(heldLater / MIB).toFixed(1)} MiB)`);
  t.log(`${closedCount} states closed, still referenced: ${describeMemory(afterClose)}`);
  t.log(`states dropped: ${describeMemory(after)}`);
  t.log(`neighbour before: ${latencySummary(baseline)}`);
  t.log(`neighbour while the slow readers fill up: ${latencySummary(attacked)}`);
  t.log(`neighbour once they all overflowed: ${latencySummary(overflowedLatency)}`);
});
