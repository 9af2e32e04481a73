/**
 * Noticing that the process is out of file descriptors, from what accept
 * hands over.
 *
 * Why: since libuv 1.45 (Node.js 20), a failed accept is never reported to
 * Node.js. At `EMFILE`/`ENFILE` libuv sheds load instead: it frees its
 * reserve descriptor, accepts the waiting connections and closes them at
 * once, so clients are dropped; and if the reserve cannot be taken back it
 * retries every turn of the loop, spinning, still silently. So commio stops
 * accepting before that happens: the kernel gives the lowest free descriptor,
 * so an accepted socket whose descriptor is the last one the soft limit
 * allows (`fd >= limit - 1`) proves the table is full. The listener then
 * stops accepting (connections wait in the backlog) and probes, with
 * back-off, until a descriptor can be opened again.
 *
 * The soft limit is read from `/proc/self/limits` (Linux), at most once a
 * second; elsewhere this check is off and libuv's shedding applies.
 */
import { closeSync, openSync, readFileSync } from 'node:fs';

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

/** The descriptor under an accepted socket, or -1. */
export function socketDescriptor(socket: object): number {
  const fd = (socket as { _handle?: { fd?: unknown } | null })._handle?.fd;
  return typeof fd === 'number' ? fd : -1;
}

/** True when `fd`, just given by accept, was the last free descriptor under the soft limit. */
export function tableFullAfter(fd: number): boolean {
  if (fd < 0) return false;
  const limit = descriptorLimit();
  // A limit raised in the last second costs at most one back-off step: the probe then finds a descriptor.
  return limit !== 0 && fd >= limit - 1;
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
