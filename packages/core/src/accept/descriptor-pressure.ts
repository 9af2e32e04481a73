/**
 * Out of file descriptors: noticing it from what accept hands over, and
 * holding every listening socket of the process until descriptors free up.
 *
 * Why: since libuv 1.45 (Node.js 20), a failed accept is never reported to
 * Node.js. At `EMFILE`/`ENFILE` libuv sheds load instead: it frees its
 * reserve descriptor, accepts the waiting connections and closes them at
 * once, so clients are dropped; and if the reserve cannot be taken back it
 * retries every turn of the loop, spinning, still silently. So commio stops
 * accepting before that happens: after an accept that leaves no descriptor
 * free (see `tableFullAfter`), every pausable listener of the process stops
 * accepting (connections wait in the backlog; descriptors are one table for
 * the whole process), and a probe, 100 ms later and then doubling to 1 s,
 * tries to open a descriptor; once one can be had, they all accept again.
 *
 * The soft limit is read from `/proc/self/limits` (Linux), at most once a
 * second; elsewhere this check is off and libuv's shedding applies. Not
 * covered: descriptors taken by something other than accept (a file opened
 * while the table is nearly full, another thread) can still leave the next
 * accept to libuv's shedding.
 */
import { closeSync, openSync, readFileSync } from 'node:fs';
import { logger } from '../debug.js';
import { nextBackoffMs } from './accept-backoff.js';

const log = logger('accept');

/** How long a read soft limit is trusted, in ms (it can be changed from outside, e.g. by `prlimit`). */
const LIMIT_TTL_MS = 1000;

let softLimit = 0;
let readAt = -Infinity;

/** The soft limit from `/proc/self/limits`; `null` when it cannot be read now (reading needs a descriptor too). */
function readSoftLimit(): number | null {
  let text: string;
  try {
    text = readFileSync('/proc/self/limits', 'latin1');
  } catch {
    return null;
  }
  const line = text.split('\n').find((l) => l.startsWith('Max open files'));
  const soft = line === undefined ? NaN : Number(line.slice('Max open files'.length).trim().split(/\s+/)[0]);
  return Number.isInteger(soft) && soft > 0 ? soft : 0;
}

/**
 * The soft descriptor limit (RLIMIT_NOFILE), or 0 when unknown. Re-read at
 * most once a second; when it cannot be read (no descriptor free), the last
 * value stands.
 */
export function descriptorLimit(now = Date.now()): number {
  if (now - readAt > LIMIT_TTL_MS) {
    softLimit = readSoftLimit() ?? softLimit;
    readAt = now;
  }
  return softLimit;
}

/** After running out, accepts are checked for this long (ms) whatever their descriptor. */
const RECENT_EXHAUSTION_MS = 10_000;
let exhaustedAt = -Infinity;

/**
 * True when no descriptor is left after accept gave `fd`. Cheap unless the
 * process is near its limit: `fd` was the lowest free descriptor, so every
 * one below it is in use; when that is half the table or more (or the table
 * was full in the last 10 s, when freed descriptors below are being reused),
 * a probe tells for sure.
 */
export function tableFullAfter(fd: number): boolean {
  // Fast path for nearly every accept: far below the limit last read and no
  // exhaustion seen lately, no clock read and no re-read of the limit.
  if (fd < softLimit >> 2 && exhaustedAt === -Infinity) return false;
  if (fd < 0) return false;
  const limit = descriptorLimit();
  if (limit === 0) return false;
  if (fd >= limit - 1) return true;
  if (fd < limit / 2 && Date.now() - exhaustedAt > RECENT_EXHAUSTION_MS) {
    exhaustedAt = -Infinity; // long enough ago: the fast path above may serve again
    return false;
  }
  return !descriptorAvailable();
}

/** True when a descriptor can be opened now (opens one and closes it again). */
export function descriptorAvailable(): boolean {
  try {
    closeSync(openSync('/dev/null', 'r'));
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code !== 'EMFILE' && code !== 'ENFILE';
  }
}

/** A listening socket that stops accepting while descriptors are exhausted. */
export interface DescriptorWatcher {
  /** Stop accepting: no descriptor left. */
  descriptorsExhausted(): void;
  /** Descriptors can be had again: accept again. */
  descriptorsAvailable(): void;
}

const watchers = new Set<DescriptorWatcher>();
let exhausted = false;
let probeMs = 0;
let probeTimer: NodeJS.Timeout | null = null;

/** Registers a pausable listening socket (until `unwatchDescriptors`). */
export function watchDescriptors(watcher: DescriptorWatcher): void {
  watchers.add(watcher);
  // Learn the limit now, while a descriptor is free to read it.
  descriptorLimit();
  if (exhausted) watcher.descriptorsExhausted();
}

/** Forgets a listening socket (it closed). */
export function unwatchDescriptors(watcher: DescriptorWatcher): void {
  watchers.delete(watcher);
  if (watchers.size === 0 && probeTimer !== null) {
    clearTimeout(probeTimer);
    probeTimer = null;
    exhausted = false;
    probeMs = 0;
  }
}

/** True while the listeners are held for want of descriptors. */
export function descriptorsExhausted(): boolean {
  return exhausted;
}

/** An accept took the last descriptor (`where` says on which socket): hold every listener and start probing. */
export function noDescriptorLeft(where: string): void {
  if (exhausted) return;
  exhausted = true;
  exhaustedAt = Date.now();
  probeMs = nextBackoffMs(probeMs);
  log('%s: no descriptor left: not accepting (any socket) for %d ms', where, probeMs);
  for (const watcher of watchers) watcher.descriptorsExhausted();
  probeTimer = setTimeout(probe, probeMs);
}

/** A connection was accepted with descriptors to spare: the next exhaustion starts at the first delay again. */
export function descriptorsFine(): void {
  if (!exhausted) probeMs = 0;
}

function probe(): void {
  probeTimer = null;
  if (!descriptorAvailable()) {
    probeMs = nextBackoffMs(probeMs);
    log('still no descriptor: not accepting for %d ms', probeMs);
    probeTimer = setTimeout(probe, probeMs);
    return;
  }
  exhausted = false;
  log('a descriptor is free: accepting again');
  for (const watcher of watchers) watcher.descriptorsAvailable();
}
