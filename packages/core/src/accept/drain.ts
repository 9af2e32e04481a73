/**
 * Graceful drain of an accepting handle: stop accepting at once (the port
 * is released), tell the program (`drainCallback`), wait for the handle's
 * connections to close, and after `timeout` seconds close what is left.
 */
import type net from 'node:net';
import { logger } from '../debug.js';
import { checkOptions, checkSeconds, invalid, keys, secondsToMs } from '../options/validate.js';
import type { AsyncIoState } from '../state/async-io-state.js';
import { AcceptingHandle } from './accepting-handle.js';

const log = logger('accept');

/** Options of `drainAcceptingHandle` and `drainWaitStateCollection`. */
export interface DrainOptions {
  /** Seconds to wait for connections to close by themselves before the rest is closed. */
  timeout: number;
}

/** What a drain did: connections that closed by themselves within the timeout, and those closed at its end. */
export interface DrainResult {
  /** Connections that closed by themselves before the timeout. */
  finished: number;
  /** Connections still open at the timeout, closed by the drain. */
  forced: number;
}

const DRAIN_KEYS = keys('timeout');

/** @internal Checks drain options; returns the timeout in seconds. */
export function checkDrainOptions(options: unknown): number {
  const o = checkOptions(options, DRAIN_KEYS);
  const timeout = checkSeconds(o['timeout'], 'options.timeout');
  if (timeout === null) invalid('options.timeout', 'a number of seconds', o['timeout']);
  return timeout;
}

/** @internal Closes a state or a raw socket that did not finish in time. */
export function forceClose(connection: AsyncIoState | net.Socket): void {
  if ('collection' in connection) {
    connection.closeAborted = true;
    connection.close(false);
  }
  else connection.destroy();
}

function runDrainCallback(handle: AcceptingHandle, callback: (handle: AcceptingHandle) => void): void {
  callback(handle);
}

const drains = new WeakMap<AcceptingHandle, Promise<DrainResult>>();

/**
 * @internal The drain of a checked handle with a timeout in milliseconds
 * (one drain per handle: a second call gets the first one's promise).
 */
export function drainHandle(handle: AcceptingHandle, timeoutMs: number): Promise<DrainResult> {
  const running = drains.get(handle);
  if (running !== undefined) return running;
  const drain = new Promise<DrainResult>((resolve) => {
    handle.close();
    const connections = handle.connections;
    // Connections still sending their PROXY header never became the program's: nothing to finish.
    connections.abandonHeaders();
    const callback = handle.settings.drainCallback;
    const collection = handle.home;
    if (callback !== null && collection.alive) collection.dispatch(handle, runDrainCallback, handle, callback);
    let finished = 0;
    let timer: NodeJS.Timeout | null = null;
    const done = (forced: number): void => {
      connections.watcher = null;
      if (timer !== null) clearTimeout(timer);
      timer = null;
      log('%s: drained (%d finished, %d closed at the timeout)', handle, finished, forced);
      resolve({ finished, forced });
    };
    if (connections.count === 0) {
      done(0);
      return;
    }
    log('%s: draining %d connections (at most %d ms)', handle, connections.count, timeoutMs);
    connections.watcher = {
      connectionClosed(): void {
        finished++;
        if (connections.count === 0) done(0);
      },
    };
    timer = setTimeout(() => {
      timer = null;
      connections.watcher = null;
      const left = [...connections.states(), ...connections.sockets()];
      for (const connection of left) forceClose(connection);
      done(left.length);
    }, timeoutMs);
  });
  drains.set(handle, drain);
  return drain;
}

/**
 * Drains `handle`: stops accepting at once (the listening sockets are
 * closed, so the port is free and new connections are refused when this
 * returns), destroys connections still sending their PROXY header, calls the
 * accept option `drainCallback(handle)` once through the collection (to tell
 * the states to finish), then waits until every connection the handle made
 * (states, or raw sockets with `createState: false`) has closed, or
 * `timeout` seconds have passed; then closes (destroys) what is left.
 * Resolves with how many closed by themselves (`finished`) and how many were
 * closed at the timeout (`forced`). Draining a handle twice gives the first
 * drain's promise. Rejects with `ERR_COMMIO_INVALID_ARGUMENT` for a bad
 * argument, before anything changes.
 */
export async function drainAcceptingHandle(handle: AcceptingHandle, options: DrainOptions): Promise<DrainResult> {
  if (!(handle instanceof AcceptingHandle)) invalid('handle', 'an AcceptingHandle', handle);
  const timeout = checkDrainOptions(options);
  return drainHandle(handle, secondsToMs(timeout));
}
