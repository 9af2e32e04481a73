/**
 * Binding and listening synchronously through Node's server-handle factory
 * (`net._createServerHandle`, what `cluster` uses), and adopting descriptors.
 *
 * Why not `server.listen(port)`: a listening handle that Node binds itself
 * cannot be paused (libuv's `uv_read_stop` is a no-op on it), and commio
 * must stop accepting without closing the socket (maxConnections, descriptor
 * exhaustion). A handle opened on its descriptor (`uv_tcp_open`, the path
 * Node takes for `listen({ fd })`) can: `readStart()`/`readStop()` then start
 * and stop libuv's accept watcher while the kernel keeps queueing
 * connections in the backlog. So commio binds with the factory, re-opens the
 * handle on its own descriptor before listening (the same descriptor, no
 * duplicate), and gives the handle to a `net.Server` (`listen(handle)`).
 *
 * Binding this way is also synchronous, so one attempt over several
 * addresses either binds them all or fails at once.
 */
import cluster from 'node:cluster';
import type net from 'node:net';
import os from 'node:os';
import util from 'node:util';
import { OsError, UnsupportedError } from '../errors.js';
import { activeHandles, createServerHandle, serverHandleOf, type ServerHandle } from '../node-internals.js';
import type { ListenTarget } from './listen-targets.js';

export type { ServerHandle } from '../node-internals.js';

/** libuv's `UV_TCP_IPV6ONLY` bind flag (public ABI). */
const UV_TCP_IPV6ONLY = 1;

/** Node's default listen backlog. */
export const DEFAULT_BACKLOG = 511;

/**
 * True when sockets can be bound here (pausable); false on a Node.js
 * without the factory, and in cluster workers (where Node shares listening
 * sockets through the primary: commio then uses the public `listen`).
 */
export function nativeBindAvailable(): boolean {
  return createServerHandle !== null && !inClusterWorker();
}

/** True in a cluster worker (where Node's listening sockets are shared through the primary). */
export function inClusterWorker(): boolean {
  // Node deletes NODE_UNIQUE_ID from a worker's environment while it starts: ask cluster too.
  return process.env['NODE_UNIQUE_ID'] !== undefined || cluster.isWorker;
}

/** The OS error of a failed call, as Node reports it (`code`, `errno`, `syscall`, `address`, `port`). */
export function systemError(errno: number, syscall: string, address: string | null, port: number | null): OsError {
  const [code, text] = util.getSystemErrorMap().get(errno) ?? [`E${-errno}`, 'unknown error'];
  const where = address === null ? '' : port === null ? ` ${address}` : ` ${address}:${port}`;
  return new OsError(`${syscall} ${code}: ${text}${where}`, {
    code,
    errno,
    syscall,
    ...(address === null ? {} : { address }),
    ...(port === null ? {} : { port }),
  });
}

/** The handle's own descriptor re-opened on it, so that it can be paused; true if that worked. */
function makePausable(handle: ServerHandle): boolean {
  const fd = handle.fd;
  return typeof fd === 'number' && fd >= 0 && handle.open(fd) === 0;
}

/**
 * The factory leaves the wrap it made behind when opening the descriptor
 * fails (`EEXIST`: this process uses it already): close such wraps, which
 * never got a descriptor, so that nothing stays open.
 */
function closeLeftBehind(before: Set<unknown> | null): void {
  const now = activeHandles();
  if (before === null || now === null) return;
  for (const handle of now) {
    if (before.has(handle)) continue;
    const wrap = handle as { fd?: unknown; close?: unknown; constructor: { name: string } };
    if ((wrap.constructor.name === 'TCP' || wrap.constructor.name === 'Pipe') && wrap.fd === -1 && typeof wrap.close === 'function') {
      (wrap as { close(): void }).close();
    }
  }
}

/** A new handle bound to `target` at `port` and listening; throws the OS error. Needs `nativeBindAvailable()`. */
export function bindNative(target: ListenTarget, port: number, backlog: number, beforeListen?: (handle: ServerHandle) => void): ServerHandle {
  if (createServerHandle === null) throw new UnsupportedError('this Node.js has no net._createServerHandle: sockets cannot be bound pausable');
  const handle = createServerHandle(target.host, port, target.family, undefined, target.ipv6Only ? UV_TCP_IPV6ONLY : 0);
  if (typeof handle === 'number') throw systemError(handle, 'bind', target.host, port);
  makePausable(handle);
  beforeListen?.(handle);
  const error = handle.listen(backlog);
  if (error !== 0) {
    handle.close();
    throw systemError(error, 'listen', target.host, port);
  }
  return handle;
}

/**
 * A handle on the inherited descriptor `fd`, listening (again) with
 * `backlog`; throws the OS error (`EINVAL` when `fd` is no socket Node can
 * listen on, `EEXIST` when this process already uses it).
 */
export function openNative(fd: number, backlog: number): ServerHandle {
  if (createServerHandle === null) throw new UnsupportedError('this Node.js has no net._createServerHandle: sockets cannot be bound pausable');
  const handles = activeHandles();
  const before = handles === null ? null : new Set(handles);
  const handle = createServerHandle(null, null, null, fd);
  if (typeof handle === 'number') {
    closeLeftBehind(before);
    throw systemError(handle, 'listen', `fd ${fd}`, null);
  }
  if (handle.constructor.name !== 'TCP') {
    handle.close();
    throw new OsError(`descriptor ${fd} is not a TCP socket`, { code: 'ENOTSOCK', syscall: 'listen', address: `fd ${fd}` });
  }
  const error = handle.listen(backlog);
  if (error !== 0) {
    handle.close();
    throw systemError(error, 'listen', `fd ${fd}`, null);
  }
  return handle;
}

const UV_EALREADY = -os.constants.errno.EALREADY;

/**
 * Makes libuv accept on `handle` (again); false when the handle cannot be
 * paused and resumed (Node bound it itself: `ENOTCONN`).
 */
export function startAccepting(handle: ServerHandle): boolean {
  // A cluster worker's round-robin server has a stand-in handle that cannot read at all.
  if (typeof handle.readStart !== 'function') return false;
  const result = handle.readStart();
  return result === 0 || result === UV_EALREADY;
}

/** Stops libuv accepting on `handle`; the kernel keeps queueing connections. */
export function stopAccepting(handle: ServerHandle): void {
  handle.readStop();
}

/** The handle under `server`, or `null` (closed, or not listening). */
export function serverHandle(server: net.Server): ServerHandle | null {
  return serverHandleOf(server);
}
