/** The options of startWorkerProcesses, checked before any process starts. */
import fs from 'node:fs';
import { checkInteger, checkOptions, checkSeconds, invalid, keys } from '../options/validate.js';

/** Options of startWorkerProcesses. */
export interface WorkerProcessesOptions {
  /** How many worker processes run at once (1 to 1024). */
  count: number;
  /** The script every worker runs (a path); it sets up its accept exactly as a lone server would. */
  main: string;
  /** Arguments given to `main` (its `process.argv` after the script). @default [] */
  args?: string[];
  /** Extra environment variables of the workers (added to the primary's). @default {} */
  env?: Record<string, string>;
  /** Seconds before a worker that died is started again; doubles while it keeps dying (lived under 10 s), up to 30 s or this value if larger. @default 1 */
  restartDelay?: number;
  /** Seconds each worker's drain may take when the group stops; a worker still running 2 s after that is killed. @default 10 */
  drainTimeout?: number;
}

/** The checked options. */
export interface WorkerSettings {
  readonly count: number;
  readonly main: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** Seconds. */
  readonly restartDelay: number;
  /** Seconds. */
  readonly drainTimeout: number;
}

const WORKER_KEYS = keys('count', 'main', 'args', 'env', 'restartDelay', 'drainTimeout');

function seconds(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const checked = checkSeconds(value, name);
  if (checked === null) invalid(name, 'a number of seconds', value);
  return checked;
}

/** Checks the options; throws `ERR_COMMIO_INVALID_ARGUMENT` naming the first bad one. */
export function resolveWorkerSettings(options: unknown): WorkerSettings {
  if (options === undefined) invalid('options', 'an object with at least count and main', options);
  const o = checkOptions(options, WORKER_KEYS);
  const count = checkInteger(o['count'], 'options.count', 1, 1024);
  if (count === undefined) invalid('options.count', 'a number of processes (1 to 1024)', undefined);
  const main = o['main'];
  if (typeof main !== 'string' || main.length === 0) invalid('options.main', 'the path of the script each worker runs', main);
  if (!fs.existsSync(main)) invalid('options.main', 'an existing file', main);
  const args: unknown = o['args'] ?? [];
  if (!Array.isArray(args) || !args.every((a) => typeof a === 'string')) invalid('options.args', 'a list of strings', args);
  const env: unknown = o['env'] ?? {};
  if (typeof env !== 'object' || env === null || Array.isArray(env) || !Object.values(env).every((v) => typeof v === 'string')) {
    invalid('options.env', 'an object of string values', env);
  }
  return {
    count,
    main,
    args: [...args],
    env: { ...(env as Record<string, string>) },
    restartDelay: seconds(o['restartDelay'], 'options.restartDelay', 1),
    drainTimeout: seconds(o['drainTimeout'], 'options.drainTimeout', 10),
  };
}
