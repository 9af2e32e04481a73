/**
 * Hostile and well-behaved peers for the attack tests, and the measuring
 * tools (descriptor limit, latency percentiles, memory with a forced GC).
 */
import net from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import { execFileSync } from 'node:child_process';
import type { ExecutionContext } from 'ava';

/** The soft limit on open descriptors of this process (`ulimit -n`), or Infinity. */
export function descriptorLimit(): number {
  try {
    const text = execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
    return text === 'unlimited' ? Infinity : Number(text);
  } catch {
    return 1024;
  }
}

/**
 * How many attacking peers a test may open: `wanted`, or fewer when the
 * descriptor limit is low (each peer costs two descriptors here: its own
 * and the server's), saying so in the test's log.
 */
export function peersWithinLimit(t: ExecutionContext, wanted: number, perPeer = 2, reserve = 200): number {
  const limit = descriptorLimit();
  const fit = Math.floor((limit - reserve) / perPeer);
  if (fit >= wanted) return wanted;
  const n = Math.max(10, fit);
  t.log(`ulimit -n is ${limit}: scaled down from ${wanted} to ${n} peers (raise the limit to run the full attack)`);
  return n;
}

/** Opens a raw client; resolves once connected. Errors are swallowed (attackers die in many ways). */
export function connectRaw(port: number): Promise<net.Socket> {
  return new Promise<net.Socket>((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    const onError = (error: Error): void => reject(error);
    socket.once('error', onError);
    socket.once('connect', () => {
      socket.removeListener('error', onError);
      socket.on('error', () => {});
      resolve(socket);
    });
  });
}

/** Opens `n` raw clients, at most `parallel` connecting at a time; all destroyed when the test ends. */
export async function connectMany(t: Pick<ExecutionContext, 'teardown'>, port: number, n: number, parallel = 100): Promise<net.Socket[]> {
  const sockets: net.Socket[] = [];
  t.teardown(() => {
    for (const s of sockets) s.destroy();
  });
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      next++;
      sockets.push(await connectRaw(port));
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, n) }, worker));
  return sockets;
}

/**
 * A well-behaved client: `rounds` request/response round trips of `size`
 * bytes each against an echo server; resolves with each round trip's
 * latency in milliseconds. Rejects if the echo is wrong or the connection ends.
 * `connect` makes the client (plain by default; a TLS one for TLS servers).
 */
export async function roundTrips(port: number, rounds: number, size = 64, connect: (port: number) => Promise<net.Socket> = connectRaw): Promise<number[]> {
  const socket = await connect(port);
  const latencies: number[] = [];
  try {
    const message = Buffer.alloc(size);
    for (let i = 0; i < rounds; i++) {
      message.fill(i & 0xff);
      const started = performance.now();
      const echo = readExactly(socket, size);
      socket.write(message);
      const got = await echo;
      latencies.push(performance.now() - started);
      if (!got.equals(message)) throw new Error(`round trip ${i}: the echo differs`);
    }
  } finally {
    socket.destroy();
  }
  return latencies;
}

/** Reads exactly `n` bytes from a raw socket; rejects if it ends first. */
export function readExactly(socket: net.Socket, n: number): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let have = 0;
    const cleanup = (): void => {
      socket.removeListener('data', onData);
      socket.removeListener('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      have += chunk.length;
      if (have < n) return;
      cleanup();
      const all = Buffer.concat(chunks);
      if (all.length > n) socket.unshift(all.subarray(n));
      resolve(all.subarray(0, n));
    };
    const onClose = (): void => {
      cleanup();
      reject(new Error(`the connection closed after ${have} of ${n} bytes`));
    };
    socket.on('data', onData);
    socket.once('close', onClose);
  });
}

/** The `p`-th percentile (0..100) of `values`. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const at = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[at]!;
}

/** `p50/p99/max` of latencies, in ms with two decimals. */
export function latencySummary(values: readonly number[]): string {
  const f = (x: number): string => x.toFixed(2);
  return `p50 ${f(percentile(values, 50))} ms, p99 ${f(percentile(values, 99))} ms, max ${f(Math.max(...values))} ms (${values.length} round trips)`;
}

let gcFunction: (() => void) | null = null;

/** Runs a full garbage collection (enabling `gc` on first use). */
export function collectGarbage(): void {
  if (gcFunction === null) {
    v8.setFlagsFromString('--expose-gc');
    gcFunction = vm.runInNewContext('gc') as () => void;
  }
  gcFunction();
}

/** Memory after a full GC, in MiB. */
export interface MemorySample {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

const MIB = 1024 * 1024;

/** Samples memory, after a full GC unless `gc` is false. */
export function memory(gc = true): MemorySample {
  if (gc) collectGarbage();
  const m = process.memoryUsage();
  return { rss: m.rss / MIB, heapUsed: m.heapUsed / MIB, external: m.external / MIB, arrayBuffers: m.arrayBuffers / MIB };
}

/** A memory sample as text. */
export function describeMemory(m: MemorySample): string {
  return `rss ${m.rss.toFixed(1)} MiB, heap ${m.heapUsed.toFixed(1)} MiB, arrayBuffers ${m.arrayBuffers.toFixed(1)} MiB`;
}

/** Resolves on the next turn of the loop after `ms` (for pacing attackers, never for waiting on results). */
export function pause(ms: number): Promise<void> {
  return new Promise<void>((resolve) => setTimeout(resolve, ms));
}
