/**
 * Slowloris: peers that connect and send nothing, or trickle a byte now and
 * then. readTimeout closes them on time, and hundreds of them at once do not
 * keep a well-behaved client beside them from being served. The server runs
 * on the transport under test (COMMIO_TEST_TRANSPORT).
 */
import test from 'ava';
import type net from 'node:net';
import { asyncIoStateAbortAndClose, createAndRunWaitStateCollection, waitStateCollectionStopLoop } from '@commio/core';
import { checkNoLeaksAfterAll } from './helpers/leaks.js';
import { startEchoServer, tally, hungUp } from './helpers/attack-server.js';
import { connectMany, peersWithinLimit, roundTrips, latencySummary, percentile } from './helpers/attack-peers.js';

checkNoLeaksAfterAll(test);

const READ_TIMEOUT = 0.3;

/** Sends one byte on each socket every `everyMs` until they close; stops when the test ends. */
function trickle(t: { teardown: (fn: () => void) => void }, sockets: net.Socket[], everyMs: number): void {
  const live = new Set(sockets);
  for (const s of sockets) {
    s.write('x');
    s.once('close', () => live.delete(s));
  }
  const timer = setInterval(() => {
    for (const s of live) s.write('x');
    if (live.size === 0) clearInterval(timer);
  }, everyMs);
  t.teardown(() => clearInterval(timer));
}

test.serial('500 silent and trickling peers are all closed by readTimeout, none early', async (t) => {
  const collection = createAndRunWaitStateCollection('slowloris');
  t.teardown(() => waitStateCollectionStopLoop(collection));
  const server = await startEchoServer(t, collection, { readTimeout: READ_TIMEOUT });
  const n = peersWithinLimit(t, 500);
  const started = performance.now();
  const silent = await connectMany(t, server.port, Math.floor(n / 2));
  const tricklers = await connectMany(t, server.port, n - silent.length);
  // One byte every two read timeouts: "one byte a second" at test speed.
  trickle(t, tricklers, READ_TIMEOUT * 2000);
  await server.whenEnded(n);
  const elapsed = (performance.now() - started) / 1000;
  await Promise.all([...silent, ...tricklers].map(hungUp));

  t.deepEqual(tally(server.endings), { [`timeout/null`]: n });
  const lifetimes = server.endings.map((e) => e.lifetimeMs);
  const shortest = Math.min(...lifetimes);
  // A timer never fires before its time; allow for the loop's cached clock.
  t.true(shortest >= READ_TIMEOUT * 1000 - 10, `a peer was closed after ${shortest} ms, before readTimeout`);
  // Generous bound for a busy machine: all gone within a few seconds of readTimeout.
  t.true(elapsed < 15, `closing ${n} peers took ${elapsed} s`);
  t.is(server.open.size, 0);
  t.is(collection.memberCount, 1, 'only the accepting handle is left');
  t.log(
    `${n} peers (${silent.length} silent, ${tricklers.length} trickling 1 byte / ${READ_TIMEOUT * 2} s), readTimeout ${READ_TIMEOUT} s:`,
    `all closed with 'timeout'; lifetime p50 ${percentile(lifetimes, 50).toFixed(0)} ms, max ${Math.max(...lifetimes).toFixed(0)} ms; all gone after ${elapsed.toFixed(2)} s`,
  );
});

test.serial('a well-behaved client is served while 500 slowloris peers hold connections', async (t) => {
  const collection = createAndRunWaitStateCollection('slowloris-neighbour');
  t.teardown(() => waitStateCollectionStopLoop(collection));
  // No readTimeout here: the attackers stay for the whole measurement.
  const server = await startEchoServer(t, collection);
  const rounds = 300;
  await roundTrips(server.port, 50); // warm-up
  const baseline = await roundTrips(server.port, rounds);

  const n = peersWithinLimit(t, 500);
  const silent = await connectMany(t, server.port, Math.floor(n / 2));
  const tricklers = await connectMany(t, server.port, n - silent.length);
  await server.whenAccepted(n + 2); // the attackers, after the warm-up and baseline clients
  trickle(t, tricklers, 20);
  const attacked = await roundTrips(server.port, rounds);

  t.is(attacked.length, rounds, 'every round trip completed');
  t.true(server.open.size >= n, 'the attackers were connected throughout');
  t.log(`baseline: ${latencySummary(baseline)}`);
  t.log(`with ${n} peers (${silent.length} silent, ${tricklers.length} sending 1 byte / 20 ms): ${latencySummary(attacked)}`);
});

test.serial('readTimeout is an idle timeout: a faster trickle is not idle, a deadline ends it', async (t) => {
  const collection = createAndRunWaitStateCollection('slowloris-deadline');
  t.teardown(() => waitStateCollectionStopLoop(collection));
  // The program's own budget for a whole exchange, on top of the idle timeout.
  const deadlineMs = 800;
  const timers: NodeJS.Timeout[] = [];
  t.teardown(() => timers.forEach(clearTimeout));
  const server = await startEchoServer(t, collection, {
    readTimeout: READ_TIMEOUT,
    onAccept: (s) => timers.push(setTimeout(() => asyncIoStateAbortAndClose(s), deadlineMs)),
  });
  const n = 40;
  const sockets = await connectMany(t, server.port, n);
  await server.whenAccepted(n);
  trickle(t, sockets, (READ_TIMEOUT * 1000) / 4);
  await Promise.all(sockets.map(hungUp));
  // Closed by the deadline, not by readTimeout: the server never recorded an ending.
  t.is(server.endings.length, 0);
  t.is(server.open.size, n);
  for (const s of server.open) {
    t.true(s.closed);
    t.is(s.readStatus, null);
  }
  server.open.clear();
});
