/**
 * The soak: `pnpm test:soak` (run by hand, not by CI). For SOAK_SECONDS
 * (default 600) a plain and a TLS commio echo server on loopback are churned
 * by a pool of peers: most connect, exchange random bytes, check the echo
 * and leave; some are slow (trickling, or silent until the server's
 * timeouts cut them), some abrupt (reset at a random moment), some
 * half-close. Every SOAK_SAMPLE_SECONDS (default 5) it samples RSS, heap,
 * external memory, open handles and live states.
 *
 * Passes when no echo was ever wrong, RSS after warm-up (the first 10% of
 * the run, at least 30 s) stays within 10% of its value at the end of
 * warm-up, and once the peers are gone and the servers closed no socket,
 * server or timer is left. Exits 1 otherwise.
 */
import type net from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { createAndRunWaitStateCollection, waitStateCollectionStopLoop, closeAcceptingHandle } from '@commio/core';
import { startEchoServer, type EchoServer } from '../helpers/attack-server.js';
import { connectRaw, memory, type MemorySample } from '../helpers/attack-peers.js';
import { connectTls, serverContext } from '../helpers/attack-tls.js';
import { openHandles, settledOpenHandles } from '../helpers/leaks.js';

const DURATION_S = Number(process.env['SOAK_SECONDS'] ?? 600);
const SAMPLE_S = Number(process.env['SOAK_SAMPLE_SECONDS'] ?? 5);
const PEERS = Number(process.env['SOAK_PEERS'] ?? 64);
const WARM_UP_S = Math.max(30, DURATION_S / 10);
const RSS_TOLERANCE = 0.1;

const teardowns: (() => void)[] = [];
const t = { teardown: (fn: () => void): void => void teardowns.push(fn) };

function random(below: number): number {
  return Math.floor(Math.random() * below);
}
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

type Kind = 'exchange' | 'trickle' | 'silent' | 'reset' | 'half-close';
const done: Record<string, number> = {};
const failures: string[] = [];

function count(kind: string): void {
  done[kind] = (done[kind] ?? 0) + 1;
}

/** Sends `total` random bytes in random chunks and checks the echo (then half-closes when `halfClose`). */
async function exchange(socket: net.Socket, total: number, halfClose: boolean): Promise<void> {
  const sent = createHash('sha256');
  const received = createHash('sha256');
  let got = 0;
  const complete = new Promise<void>((resolve, reject) => {
    socket.on('data', (chunk: Buffer) => {
      received.update(chunk);
      got += chunk.length;
      if (got === total && !halfClose) resolve();
    });
    socket.once('end', () => (got === total ? resolve() : reject(new Error(`EOF after ${got} of ${total} bytes`))));
    socket.once('close', () => reject(new Error(`closed after ${got} of ${total} bytes`)));
  });
  let left = total;
  while (left > 0) {
    const chunk = randomBytes(Math.min(left, 1 + random(16384)));
    sent.update(chunk);
    left -= chunk.length;
    if (!socket.write(chunk)) await new Promise<void>((resolve) => socket.once('drain', () => resolve()));
  }
  if (halfClose) socket.end();
  await complete;
  if (sent.digest('hex') !== received.digest('hex')) throw new Error('the echo differs from what was sent');
}

async function peer(plain: EchoServer, secure: EchoServer): Promise<void> {
  const tlsPeer = random(2) === 0;
  const port = tlsPeer ? secure.port : plain.port;
  const roll = random(100);
  const kind: Kind = roll < 60 ? 'exchange' : roll < 70 ? 'trickle' : roll < 75 ? 'silent' : roll < 90 ? 'reset' : 'half-close';
  const label = `${tlsPeer ? 'tls' : 'plain'} ${kind}`;
  let socket: net.Socket | null = null;
  try {
    socket = tlsPeer ? await connectTls(port, { allowHalfOpen: true }) : await connectRaw(port);
    switch (kind) {
      case 'exchange':
        await exchange(socket, 1 + random(256 * 1024), false);
        break;
      case 'half-close':
        await exchange(socket, 1 + random(64 * 1024), true);
        break;
      case 'trickle':
        // A byte every 300 ms for 3 s: slow, but never idle for the 2 s read timeout.
        for (let i = 0; i < 10 && !socket.destroyed; i++) {
          socket.write('x');
          await sleep(300);
        }
        break;
      case 'silent': {
        // Says nothing: the server's readTimeout (or handshake timeout) hangs up.
        const s = socket;
        await new Promise<void>((resolve) => {
          s.once('end', () => resolve());
          s.once('close', () => resolve());
          s.resume();
        });
        break;
      }
      case 'reset':
        if (random(2) === 0) socket.write(randomBytes(1 + random(100_000)));
        await sleep(random(50));
        socket.resetAndDestroy();
        break;
    }
    count(label);
  } catch (error) {
    // Resets and timeouts are what some peers ask for; a wrong echo never is.
    if (kind === 'exchange' || kind === 'half-close') failures.push(`${label}: ${(error as Error).message}`);
    else count(label);
  } finally {
    socket?.destroy();
  }
}

interface Sample {
  at: number;
  memory: MemorySample;
  handles: Record<string, number>;
  states: number;
  peers: number;
}

async function main(): Promise<void> {
  const baseline = openHandles();
  const collection = createAndRunWaitStateCollection('soak', { handler: (_o, error) => failures.push(`callback threw: ${String(error)}`) });
  const plain = await startEchoServer(t, collection, { readTimeout: 2, keepEndings: false });
  const secure = await startEchoServer(t, collection, { readTimeout: 2, keepEndings: false, sslCtx: serverContext(), handshakeTimeout: 2, sslErrorCallback: () => count('tls handshake failures') });
  const started = performance.now();
  const deadline = started + DURATION_S * 1000;
  let running = 0;
  const workers = Array.from({ length: PEERS }, async () => {
    while (performance.now() < deadline) {
      running++;
      await peer(plain, secure);
      running--;
    }
  });
  const samples: Sample[] = [];
  const sampler = setInterval(() => {
    const sample: Sample = {
      at: (performance.now() - started) / 1000,
      memory: memory(),
      handles: openHandles(),
      states: collection.memberCount - 2,
      peers: running,
    };
    samples.push(sample);
    const m = sample.memory;
    const total = Object.values(done).reduce((a, b) => a + b, 0);
    process.stdout.write(
      `${sample.at.toFixed(0).padStart(5)} s  rss ${m.rss.toFixed(1)} MiB  heap ${m.heapUsed.toFixed(1)} MiB  external ${m.external.toFixed(1)} MiB  ` +
        `sockets ${sample.handles['TCPSocketWrap'] ?? 0}  timers ${sample.handles['Timeout'] ?? 0}  states ${sample.states}  peers done ${total}  failures ${failures.length}\n`,
    );
  }, SAMPLE_S * 1000);
  await Promise.all(workers);
  clearInterval(sampler);

  // Everything closed: the servers, their states, the collection.
  closeAcceptingHandle(plain.handle);
  closeAcceptingHandle(secure.handle);
  for (const fn of teardowns) fn();
  waitStateCollectionStopLoop(collection);
  const leaked = await settledOpenHandles(baseline, 5000);
  const end = memory();

  const warm = samples.filter((s) => s.at >= WARM_UP_S);
  const reference = warm[0]?.memory.rss ?? NaN;
  const maxRss = Math.max(...warm.map((s) => s.memory.rss));
  const minRss = Math.min(...warm.map((s) => s.memory.rss));
  const last = warm[warm.length - 1]?.memory.rss ?? NaN;
  const drift = (maxRss - reference) / reference;
  const total = Object.values(done).reduce((a, b) => a + b, 0);
  const lines = [
    `soak: ${DURATION_S} s, ${PEERS} concurrent peers, ${total} peers done, ${(total / DURATION_S).toFixed(0)} per second`,
    `peers: ${JSON.stringify(done)}`,
    `rss after warm-up (${WARM_UP_S} s): first ${reference.toFixed(1)} MiB, min ${minRss.toFixed(1)}, max ${maxRss.toFixed(1)}, last ${last.toFixed(1)} MiB (max drift ${(drift * 100).toFixed(1)}%)`,
    `heap after warm-up: first ${warm[0]?.memory.heapUsed.toFixed(1)} MiB, last ${warm[warm.length - 1]?.memory.heapUsed.toFixed(1)} MiB; at the end with everything closed: rss ${end.rss.toFixed(1)} MiB, heap ${end.heapUsed.toFixed(1)} MiB`,
    `handles left after closing: ${JSON.stringify(leaked)}`,
    `failures: ${failures.length}${failures.length > 0 ? ` (first: ${failures.slice(0, 5).join('; ')})` : ''}`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
  const ok = failures.length === 0 && Object.keys(leaked).length === 0 && warm.length > 0 && drift <= RSS_TOLERANCE;
  process.stdout.write(ok ? 'soak: PASS\n' : 'soak: FAIL\n');
  process.exitCode = ok ? 0 : 1;
}

await main();
