/**
 * Integrity: many clients at once, each sending MiBs of random bytes in
 * random chunk sizes through a commio echo server (read-with-checking and
 * queued writes, reading held back while output is pending), plain and TLS.
 * Every byte comes back, in order: same length, same SHA-256. Plain TCP runs
 * on the transport under test (COMMIO_TEST_TRANSPORT).
 */
import test from 'ava';
import type net from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { createAndRunWaitStateCollection, waitStateCollectionStopLoop } from '@commio/core';
import { checkNoLeaksAfterAll } from './helpers/leaks.js';
import { startEchoServer, tally } from './helpers/attack-server.js';
import { connectRaw } from './helpers/attack-peers.js';
import { serverContext, connectTls } from './helpers/attack-tls.js';
import { testTransport } from './helpers/fixtures.js';

checkNoLeaksAfterAll(test);

const MIB = 1024 * 1024;

/** A small seeded generator (xorshift32), so a failing run can be replayed. */
function generator(seed: number): (below: number) => number {
  let x = seed >>> 0 || 1;
  return (below) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % below;
  };
}

/** Sends `total` random bytes in random chunk sizes (respecting backpressure), half-closes, and checks the echo. */
async function exchange(socket: net.Socket, total: number, random: (below: number) => number): Promise<{ sent: string; received: string; length: number }> {
  const sentHash = createHash('sha256');
  const receivedHash = createHash('sha256');
  let length = 0;
  socket.on('data', (chunk: Buffer) => {
    receivedHash.update(chunk);
    length += chunk.length;
  });
  const ended = new Promise<void>((resolve, reject) => {
    socket.once('end', () => resolve());
    socket.once('close', () => reject(new Error(`closed after ${length} of ${total} bytes`)));
  });
  let left = total;
  while (left > 0) {
    // Sizes from 1 byte to 64 KiB, small ones often.
    const size = Math.min(left, random(4) === 0 ? 1 + random(16) : 1 + random(65536));
    const chunk = randomBytes(size);
    sentHash.update(chunk);
    left -= size;
    if (!socket.write(chunk)) await new Promise<void>((resolve) => socket.once('drain', () => resolve()));
  }
  socket.end();
  await ended;
  socket.destroy();
  return { sent: sentHash.digest('hex'), received: receivedHash.digest('hex'), length };
}

// TLS is Node-transport only (the native one is plain TCP): the native rerun (COMMIO_TEST_TRANSPORT=native) takes the plain case.
const modes = testTransport === 'native' ? (['plain'] as const) : (['plain', 'TLS'] as const);

for (const mode of modes) {
  test.serial(`${mode}: every byte of many concurrent clients comes back in order`, async (t) => {
    const collection = createAndRunWaitStateCollection(`integrity-${mode}`);
    t.teardown(() => waitStateCollectionStopLoop(collection));
    const server = await startEchoServer(t, collection, mode === 'TLS' ? { sslCtx: serverContext() } : {});
    const clients = mode === 'TLS' ? 8 : 16;
    const each = (mode === 'TLS' ? 1 : 2) * MIB;
    const seed = Number(process.env['COMMIO_INTEGRITY_SEED'] ?? Date.now() % 2 ** 31);
    const random = generator(seed);
    const started = performance.now();
    const results = await Promise.all(
      Array.from({ length: clients }, async (_, i) => {
        const socket = mode === 'TLS' ? await connectTls(server.port, { allowHalfOpen: true }) : await connectRaw(server.port);
        t.teardown(() => socket.destroy());
        // Each client gets its own sizes, still reproducible from the seed.
        const own = generator(seed + i + 1 + random(1000));
        return exchange(socket, each, own);
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    for (const [i, r] of results.entries()) {
      t.is(r.length, each, `client ${i}: length`);
      t.is(r.received, r.sent, `client ${i}: SHA-256 of the echo`);
    }
    await server.whenEnded(clients);
    t.deepEqual(tally(server.endings), { 'eof/null': clients });
    const mib = (clients * each) / MIB;
    t.log(`${mode}: ${clients} clients x ${each / MIB} MiB in chunks of 1 B..64 KiB (seed ${seed}): ${mib} MiB echoed intact in ${seconds.toFixed(2)} s (${((2 * mib) / seconds).toFixed(0)} MiB/s through the server)`);
  });
}
