/**
 * The worker's side of startWorkerProcesses: a worker's main program calls
 * acceptTcpConnectionsCreatingAsyncIoStates exactly as it would alone; each
 * handle it makes is noted here. When the primary asks the worker to drain
 * (group.stop(), or SIGTERM to the primary), every collection with a noted
 * handle is drained (drainWaitStateCollection: handles stop accepting, their
 * `drainCallback`s run, states get the timeout to finish) and the worker
 * exits with status 0.
 *
 * Outside a worker process of a group (no `COMMIO_WORKER_GROUP` in the
 * environment of a cluster worker) nothing here does anything.
 */
import cluster from 'node:cluster';
import { logger } from '../debug.js';
import type { WaitStateCollection } from '../collection/wait-state-collection.js';
import type { AcceptingHandle } from '../accept/accepting-handle.js';
import { drainWaitStateCollection } from '../accept/drain-collection.js';

const log = logger('accept');

/** @internal Set in the environment of every worker a group starts. */
export const WORKER_GROUP_ENV = 'COMMIO_WORKER_GROUP';

/** @internal The message the primary sends to make a worker drain and exit. */
export interface DrainRequest {
  commio: 'drain';
  /** Seconds. */
  timeout: number;
}

/** @internal True for a drain request. */
export function isDrainRequest(message: unknown): message is DrainRequest {
  return typeof message === 'object' && message !== null && (message as { commio?: unknown }).commio === 'drain' && typeof (message as { timeout?: unknown }).timeout === 'number';
}

const handles = new Set<AcceptingHandle>();
let listening = false;
let draining = false;

function inWorkerGroup(): boolean {
  return cluster.isWorker && process.env[WORKER_GROUP_ENV] !== undefined;
}

async function drainAndExit(timeout: number): Promise<void> {
  const collections = new Set<WaitStateCollection>();
  for (const handle of handles) if (handle.home.alive) collections.add(handle.home);
  log('worker %d: draining %d collections (at most %d s)', process.pid, collections.size, timeout);
  await Promise.all([...collections].map((c) => drainWaitStateCollection(c, { timeout })));
  process.exit(0);
}

function onMessage(message: unknown): void {
  if (!isDrainRequest(message) || draining) return;
  draining = true;
  void drainAndExit(message.timeout);
}

/** @internal Notes a handle made in this process (a worker of a group drains it when asked). */
export function noteAcceptingHandle(handle: AcceptingHandle): void {
  if (!inWorkerGroup()) return;
  for (const h of handles) if (!h.home.alive) handles.delete(h);
  handles.add(handle);
  if (listening) return;
  listening = true;
  process.on('message', onMessage);
  // Listening must not keep the worker alive by itself: its sockets do that.
  (process.channel as { unref?: () => void } | undefined)?.unref?.();
}
