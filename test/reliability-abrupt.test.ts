/**
 * Abrupt peers: connect-then-reset storms, half-closing peers, and peers that
 * vanish while the server writes to them or while they are sending. Every
 * state ends with the right status, none is left open, and no socket or
 * timer outlives the server (counted). The server runs on the transport under
 * test (COMMIO_TEST_TRANSPORT=native: the addon's sockets are counted too);
 * the attacking peers are Node sockets on both runs.
 */
import test from 'ava';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import {
  asyncIoStateReadBuffer,
  closeAcceptingHandle,
  closeAsyncIoState,
  createAndRunWaitStateCollection,
  waitStateCollectionStopLoop,
  type AsyncIoState,
} from '@commio/core';
import { checkNoLeaksAfterAll, openHandles, settledOpenHandles } from './helpers/leaks.js';
import { startEchoServer, tally, statusName, hungUp } from './helpers/attack-server.js';
import { connectRaw, peersWithinLimit, roundTrips, readExactly } from './helpers/attack-peers.js';
import { acceptOnTestTransport, deferred } from './helpers/fixtures.js';

checkNoLeaksAfterAll(test);

/** Connects and, once connected, sends RST at once; resolves when done. */
function connectAndReset(port: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.on('error', () => resolve());
    socket.once('connect', () => {
      socket.resetAndDestroy();
      resolve();
    });
  });
}

test.serial('1,000 connect-then-reset peers: every state ends with ECONNRESET, nothing leaks', async (t) => {
  const baseline = openHandles();
  const collection = createAndRunWaitStateCollection('reset-storm');
  // A read timeout arms a timer on every state: none may survive.
  const server = await startEchoServer(t, collection, { readTimeout: 30 });
  const n = peersWithinLimit(t, 1000, 1);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      next++;
      await connectAndReset(server.port);
    }
  };
  await Promise.all(Array.from({ length: 50 }, worker));
  // The kernel hands connections over in order: once this one is served,
  // every reset one was accepted before it (or dropped by the kernel).
  await roundTrips(server.port, 1);
  const accepted = server.accepted();
  await server.whenEnded(accepted);

  const counts = tally(server.endings);
  t.log(`${n} peers reset right after connecting; ${accepted - 1} reached the server, endings (read/write status): ${JSON.stringify(counts)}`);
  // A reset kills both directions: the write status says so too, already in the read's callback.
  for (const key of Object.keys(counts)) t.true(['ECONNRESET/ECONNRESET', 'eof/null'].includes(key), `unexpected ending ${key}`);
  t.true((counts['ECONNRESET/ECONNRESET'] ?? 0) >= accepted - 1 - 5, 'resets are reported as ECONNRESET');
  // The storm outruns accept: past the listen backlog the kernel drops some before the server sees them.
  t.true(accepted - 1 >= n / 2, 'the storm reached the server');
  t.is(server.open.size, 0);
  t.is(collection.memberCount, 1, 'only the accepting handle is left');
  waitStateCollectionStopLoop(collection);
  t.deepEqual(await settledOpenHandles(baseline), {}, 'no socket, server or timer left');
});

test.serial('half-closing peers get every byte back, then EOF; states end with eof', async (t) => {
  const collection = createAndRunWaitStateCollection('half-close');
  t.teardown(() => waitStateCollectionStopLoop(collection));
  const server = await startEchoServer(t, collection);
  const n = peersWithinLimit(t, 200);
  const results = await Promise.all(
    Array.from({ length: n }, async () => {
      const payload = randomBytes(1 + Math.floor(Math.random() * 200_000));
      const socket = await connectRaw(server.port);
      t.teardown(() => socket.destroy());
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      const ended = deferred();
      socket.once('end', () => ended.resolve());
      socket.end(payload); // FIN after the payload; keep reading
      await ended.promise;
      return Buffer.concat(chunks).equals(payload);
    }),
  );
  t.true(results.every(Boolean), 'every peer got its bytes back in order before EOF');
  await server.whenEnded(n);
  t.deepEqual(tally(server.endings), { 'eof/null': n });
  t.is(collection.memberCount, 1);
});

test.serial('peers that vanish while the server writes: write side fails, states end, nothing leaks', async (t) => {
  const baseline = openHandles();
  const collection = createAndRunWaitStateCollection('vanish-mid-write');
  // 4 MiB for every peer, far more than the socket buffers hold.
  const greeting = Buffer.alloc(4 * 1024 * 1024, 7);
  const server = await startEchoServer(t, collection, { greeting });
  const n = peersWithinLimit(t, 100);
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const socket = await connectRaw(server.port);
      await readExactly(socket, 1000); // the write is under way
      if (i % 2 === 0) socket.resetAndDestroy();
      else socket.destroy();
    }),
  );
  await server.whenEnded(n);
  const counts = tally(server.endings);
  t.log(`${n} peers vanished after reading 1000 of 4 MiB (half RST, half FIN): endings ${JSON.stringify(counts)}`);
  for (const e of server.endings) {
    const read = statusName(e.readStatus);
    const write = statusName(e.writeStatus);
    // Either direction may learn first; at least one must carry the failure.
    t.true(['ECONNRESET', 'EPIPE', 'eof', 'null'].includes(read), `read status ${read}`);
    t.true(['ECONNRESET', 'EPIPE', 'null'].includes(write), `write status ${write}`);
    t.true(read !== 'null' || write !== 'null', 'the state knew the peer was gone');
    if (read === 'ECONNRESET') t.not(write, 'null', 'a reset is seen by the write direction too');
  }
  t.is(collection.memberCount, 1);
  waitStateCollectionStopLoop(collection);
  t.deepEqual(await settledOpenHandles(baseline), {});
});

test.serial('peers that vanish mid-request: the read completes with what arrived and the status', async (t) => {
  const collection = createAndRunWaitStateCollection('vanish-mid-read');
  t.teardown(() => waitStateCollectionStopLoop(collection));
  const n = peersWithinLimit(t, 200);
  const outcomes: { count: number; status: string }[] = [];
  const all = deferred();
  const states: AsyncIoState[] = [];
  const handle = await acceptOnTestTransport(
    collection,
    0,
    (_h, connection) => {
      const s = connection as AsyncIoState;
      states.push(s);
      // A request is 1000 bytes; peers send 500 and vanish.
      asyncIoStateReadBuffer(s, Buffer.alloc(1000), (state, _buffer, count) => {
        outcomes.push({ count, status: statusName(state.readStatus) });
        closeAsyncIoState(state);
        if (outcomes.length === n) all.resolve();
      });
    },
    { address: '127.0.0.1', initTimeout: 0, readTimeout: 30 },
  );
  t.teardown(() => {
    closeAcceptingHandle(handle);
    for (const s of states) closeAsyncIoState(s);
  });
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const socket = await connectRaw(handle.localPort);
      socket.write(Buffer.alloc(500, 1), () => {
        if (i % 2 === 0) socket.resetAndDestroy();
        else socket.end();
      });
      await hungUp(socket);
      socket.destroy();
    }),
  );
  await all.promise;
  const fin = outcomes.filter((o) => o.status === 'eof');
  const rst = outcomes.filter((o) => o.status !== 'eof');
  // FIN: every byte sent arrives before EOF. RST: the kernel may drop what was unread.
  t.true(fin.every((o) => o.count === 500), 'after FIN the read has the 500 bytes sent');
  t.true(rst.every((o) => o.status === 'ECONNRESET' && o.count <= 500), `after RST: ${JSON.stringify(rst.slice(0, 3))}`);
  t.true(fin.length >= n / 2 - 0, `${fin.length} FIN endings`);
  t.is(collection.memberCount, 1);
});
