/**
 * Binding a listening server, retrying while the port is in use: the
 * LispWorks bind-retry window (`initTimeout`, default 60 s). Retries come
 * quickly at first and then once a second; an abort signal stops them.
 */
import type net from 'node:net';
import { BindFailedError, BindTimeoutError, errorCode } from '../errors.js';
import { logger } from '../debug.js';

const log = logger('accept');

/** Where and how to listen. */
export interface ListenTarget {
  host: string | undefined;
  port: number;
  backlog: number | undefined;
  ipv6Only: boolean;
}

/** Delays between bind attempts, in ms; the last repeats (never more than 1 s). */
const RETRY_DELAYS_MS = [50, 100, 200, 400, 800, 1000];

function listenOnce(server: net.Server, target: ListenTarget): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => {
      server.removeListener('listening', onListening);
      reject(error);
    };
    const onListening = (): void => {
      server.removeListener('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    const options: net.ListenOptions = { port: target.port, ipv6Only: target.ipv6Only };
    if (target.host !== undefined) options.host = target.host;
    if (target.backlog !== undefined) options.backlog = target.backlog;
    server.listen(options);
  });
}

/**
 * Listens on `target`, retrying `EADDRINUSE` until `initTimeoutSeconds` have
 * passed (`0`: one try). Rejects with `ERR_COMMIO_BIND_TIMEOUT` (cause: the
 * `EADDRINUSE`), `ERR_COMMIO_BIND_FAILED` (other OS errors) or the signal's
 * reason. The server is not listening after a rejection.
 */
export async function listenWithRetry(
  server: net.Server,
  target: ListenTarget,
  initTimeoutSeconds: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  const deadline = Date.now() + initTimeoutSeconds * 1000;
  for (let attempt = 0; ; attempt++) {
    signal?.throwIfAborted();
    try {
      await listenOnce(server, target);
      return;
    } catch (error) {
      const code = errorCode(error);
      const where = `${target.host ?? '*'}:${target.port}`;
      if (code !== 'EADDRINUSE') {
        throw new BindFailedError(`cannot listen on ${where}: ${(error as Error).message}`, { cause: error });
      }
      const delay = RETRY_DELAYS_MS[Math.min(attempt, RETRY_DELAYS_MS.length - 1)] as number;
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        throw new BindTimeoutError(`port ${where} stayed in use for ${initTimeoutSeconds} s`, { cause: error });
      }
      log('%s in use, retrying in %d ms', where, Math.min(delay, remaining));
      await sleep(Math.min(delay, remaining), signal);
    }
  }
}

/** Waits `ms` (keeping Node alive: a bind retry is what the program waits for); rejects when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
