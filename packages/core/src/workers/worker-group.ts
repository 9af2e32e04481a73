/**
 * startWorkerProcesses: several processes serving one port, on `node:cluster`.
 *
 * Every worker runs `main`, which listens exactly as a lone server would;
 * cluster makes the listening socket one (by default the primary accepts
 * and passes connections round-robin to the workers). A worker that dies is
 * started again after `restartDelay`, doubling while it keeps dying.
 * `stop()` (and SIGTERM or SIGINT to the primary) asks every worker to drain
 * (worker-side.ts), waits for all to exit, and kills any still running 2 s
 * after `drainTimeout`.
 */
import cluster, { type Worker } from 'node:cluster';
import { logger } from '../debug.js';
import { UnsupportedError } from '../errors.js';
import { secondsToMs } from '../options/validate.js';
import { resolveWorkerSettings, type WorkerProcessesOptions, type WorkerSettings } from './worker-options.js';
import { WORKER_GROUP_ENV, type DrainRequest } from './worker-side.js';

const log = logger('accept');

/** A running group of worker processes. */
export interface WorkerGroup {
  /** The process ids of the workers running now. */
  readonly workers: number[];
  /** Drains every worker (each within `drainTimeout`) and resolves when all have exited; no worker is restarted after this. Idempotent. */
  stop(): Promise<void>;
}

/** A worker that lived less than this is "still dying": its next restart waits twice as long. */
const STABLE_MS = 10_000;
/** The longest restart delay (unless `restartDelay` itself is longer). */
const MAX_RESTART_MS = 30_000;
/** How long after `drainTimeout` a worker that has not exited is killed. */
const EXIT_GRACE_MS = 2_000;

/** One place in the group: the worker filling it, and how often it died quickly. */
interface Slot {
  worker: Worker | null;
  startedAt: number;
  quickDeaths: number;
  restartTimer: NodeJS.Timeout | null;
}

class ClusterWorkerGroup implements WorkerGroup {
  readonly #settings: WorkerSettings;
  readonly #slots: Slot[] = [];
  #stopping: Promise<void> | null = null;
  readonly #onSignal = (signal: NodeJS.Signals): void => this.#signalled(signal);

  constructor(settings: WorkerSettings) {
    this.#settings = settings;
    for (let i = 0; i < settings.count; i++) {
      const slot: Slot = { worker: null, startedAt: 0, quickDeaths: 0, restartTimer: null };
      this.#slots.push(slot);
      this.#start(slot);
    }
    process.on('SIGTERM', this.#onSignal);
    process.on('SIGINT', this.#onSignal);
  }

  get workers(): number[] {
    const pids: number[] = [];
    for (const slot of this.#slots) {
      const pid = slot.worker?.process.pid;
      if (pid !== undefined && slot.worker?.isDead() === false) pids.push(pid);
    }
    return pids;
  }

  #start(slot: Slot): void {
    const s = this.#settings;
    cluster.setupPrimary({ exec: s.main, args: [...s.args] });
    const worker = cluster.fork({ ...s.env, [WORKER_GROUP_ENV]: '1' });
    slot.worker = worker;
    slot.startedAt = Date.now();
    log('worker %d started', worker.process.pid);
    worker.once('exit', (code: number | null, signal: string | null) => this.#exited(slot, worker, code, signal));
    // A worker's IPC errors (it died while being written to) are reported by its exit.
    worker.on('error', () => {});
  }

  #exited(slot: Slot, worker: Worker, code: number | null, signal: string | null): void {
    if (slot.worker !== worker) return;
    slot.worker = null;
    if (this.#stopping !== null) return;
    const lived = Date.now() - slot.startedAt;
    slot.quickDeaths = lived < STABLE_MS ? slot.quickDeaths + 1 : 0;
    const base = secondsToMs(this.#settings.restartDelay);
    const delay = Math.min(base * 2 ** Math.max(0, slot.quickDeaths - 1), Math.max(base, MAX_RESTART_MS));
    log('worker %d exited (%s) after %d ms: restarting in %d ms', worker.process.pid, signal ?? code, lived, delay);
    slot.restartTimer = setTimeout(() => {
      slot.restartTimer = null;
      if (this.#stopping === null) this.#start(slot);
    }, delay);
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#stopAll();
    return this.#stopping;
  }

  async #stopAll(): Promise<void> {
    process.removeListener('SIGTERM', this.#onSignal);
    process.removeListener('SIGINT', this.#onSignal);
    const request: DrainRequest = { commio: 'drain', timeout: this.#settings.drainTimeout };
    const exits: Promise<void>[] = [];
    for (const slot of this.#slots) {
      if (slot.restartTimer !== null) clearTimeout(slot.restartTimer);
      slot.restartTimer = null;
      const worker = slot.worker;
      if (worker === null || worker.isDead()) continue;
      exits.push(
        new Promise<void>((resolve) => {
          const kill = setTimeout(() => worker.process.kill('SIGKILL'), secondsToMs(this.#settings.drainTimeout) + EXIT_GRACE_MS);
          worker.once('exit', () => {
            clearTimeout(kill);
            resolve();
          });
          if (worker.isConnected()) worker.send(request);
          else worker.process.kill('SIGTERM');
        }),
      );
    }
    log('stopping %d workers', exits.length);
    await Promise.all(exits);
  }

  #signalled(signal: NodeJS.Signals): void {
    log('primary got %s: stopping the workers', signal);
    void this.stop().then(() => {
      // Nobody else handles the signal: end the primary as the signal would have, but cleanly.
      if (process.listenerCount(signal) === 0) process.exit(0);
    });
  }
}

/**
 * Starts `count` worker processes running `main` (on `node:cluster`) that
 * serve the ports they listen on together: `main` calls
 * acceptTcpConnectionsCreatingAsyncIoStates exactly as it would alone (port
 * 0 gives every worker the same free port). A worker that dies is restarted
 * after `restartDelay` seconds (doubling while it keeps dying, at most 30 s).
 * `group.stop()`, and SIGTERM or SIGINT to this process, drains every worker
 * (their handles stop accepting, `drainCallback`s run, states get
 * `drainTimeout` seconds to finish, then the worker exits 0) and resolves
 * once all have exited; after a signal, the primary then exits 0 unless the
 * program listens to that signal itself. Call it in the primary process
 * (else `ERR_COMMIO_UNSUPPORTED`); bad options throw
 * `ERR_COMMIO_INVALID_ARGUMENT` before any process starts.
 */
export function startWorkerProcesses(options: WorkerProcessesOptions): WorkerGroup {
  const settings = resolveWorkerSettings(options);
  if (!cluster.isPrimary) throw new UnsupportedError('startWorkerProcesses must be called in the primary process, not in a worker');
  return new ClusterWorkerGroup(settings);
}
