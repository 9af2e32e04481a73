/**
 * acceptTcpConnectionsCreatingAsyncIoStates: listen on a service, and hand
 * every accepted connection (as a new state, or the raw socket) to the
 * connection function, through the collection.
 *
 * Setup, in order: check every argument (nothing opened yet); resolve the
 * addresses; bind them all (retrying while the port is in use) or adopt the
 * given socket; run `initFunction` through the collection; resolve. The
 * listening sockets do not accept until the promise has resolved and the
 * caller's continuation has run: connections meanwhile wait in the kernel
 * backlog. A failure at any step closes everything opened so far.
 */
import type net from 'node:net';
import { logger, printable } from '../debug.js';
import { BindFailedError, toError, UnsupportedError } from '../errors.js';
import { bindAcceptTls, prepareAcceptTls } from './accept-tls.js';
import { checkCollection, type WaitStateCollection } from '../collection/wait-state-collection.js';
import { checkFunction, checkOptions } from '../options/validate.js';
import { ACCEPT_KEYS, resolveAcceptSettings, reusePortSupported, type AcceptOptions, type AcceptSettings } from './accept-options.js';
import { AcceptingHandle, type ConnectionFunction } from './accepting-handle.js';
import { acceptConnection } from './hand-over.js';
import { adoptDescriptor, adoptServer, bindServers, type BoundServer, type ServerConfig } from './bind-servers.js';
import { Listener } from './listener.js';
import { LookupFailure, planTargets, planWithoutLookup, type ListenTarget } from './listen-targets.js';
import { retryWhileInUse } from './listen-with-retry.js';
import { inClusterWorker, serverHandle, startAccepting } from './native-listen.js';
import { noteAcceptingHandle } from '../workers/worker-side.js';
import { nativeDriver } from '../transports/native-driver.js';
import { nativeTransportStatus } from '../transports/native-status.js';
import { acceptNativeConnection, openNativeListeners } from './native-accept.js';
import type { AcceptListener } from './accept-listener.js';

const log = logger('accept');

function describeTargets(targets: readonly ListenTarget[], port: number): string {
  return `port ${port} on ${targets.map((t) => t.host).join(', ')}`;
}

/** Binds (with retries) or adopts, as the service says. Leaves nothing open on failure. */
async function openServers(settings: AcceptSettings, signal: AbortSignal): Promise<BoundServer[]> {
  const config: ServerConfig = { nodelay: settings.nodelay, keepalive: settings.keepalive, backlog: settings.backlog, reuseport: settings.reuseport };
  const source = settings.source;
  if (source.kind === 'server') return [adoptServer(source.server, config)];
  if (source.kind === 'fd') return retryWhileInUse(() => adoptDescriptor(source.fd, config).then((s) => [s]), 0, signal, `fd ${source.fd}`);
  // Literal addresses need no lookup: the first bind attempt then happens before this call returns.
  let targets = planWithoutLookup(settings.addresses, settings.ipv6);
  if (targets === null) {
    try {
      targets = await planTargets(settings.addresses, settings.ipv6);
    } catch (error) {
      signal.throwIfAborted();
      if (!(error instanceof LookupFailure)) throw error;
      throw new BindFailedError(`cannot listen on ${error.host}: ${error.message}`, { cause: error.cause });
    }
  }
  const planned = targets;
  return retryWhileInUse(() => bindServers(planned, source.port, config), settings.initTimeout, signal, describeTargets(planned, source.port));
}

function runInit(handle: AcceptingHandle, init: (server: net.Server) => void, servers: readonly net.Server[], done: (error: unknown) => void): void {
  if (handle.closed) return;
  for (const server of servers) {
    try {
      init(server);
    } catch (error) {
      done(error);
      return;
    }
  }
  done(null);
}

/** Runs `initFunction` with each server through the collection; rejects with its throw, or when setup is aborted. */
function runInitFunction(collection: WaitStateCollection, handle: AcceptingHandle, init: (server: net.Server) => void, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    const done = (error: unknown): void => {
      signal.removeEventListener('abort', onAbort);
      if (error === null) resolve();
      else reject(toError(error));
    };
    collection.post(handle, runInit, handle, init, handle.sockets, done);
  });
}

/** Aborts the setup signal of `handle` when the caller's signal aborts; returns the undo. */
function forwardAbort(handle: AcceptingHandle, signal: AbortSignal | undefined): () => void {
  if (signal === undefined) return () => {};
  const onAbort = (): void => {
    handle.close(signal.reason as Error);
  };
  signal.addEventListener('abort', onAbort, { once: true });
  return () => signal.removeEventListener('abort', onAbort);
}

/**
 * Listens on `service` and hands every accepted connection to
 * `connectionFunction(handle, state)` through the collection.
 *
 * `service`: a port number, a decimal string, a service name (`'http'`),
 * `null`/0 for any free port; or, to adopt a socket that already listens, an
 * inherited descriptor `{ fd }` (see `systemdListenFds`) or a plain listening
 * `net.Server`. Closing the handle closes an adopted socket too.
 *
 * Resolves once every socket is bound and listening and `initFunction` has
 * run, before any connection is handed over; `handle.localPort` then holds
 * the real port. While the port is in use, binding is retried (at least once
 * a second) until `initTimeout` seconds have passed, then the promise
 * rejects with `ERR_COMMIO_BIND_TIMEOUT` (cause: the `EADDRINUSE`); other
 * bind errors, and host names that do not resolve, reject at once with
 * `ERR_COMMIO_BIND_FAILED` (cause: the OS error). Aborting `signal`, or
 * closing the collection, during setup rejects (with the signal's reason,
 * or `ERR_COMMIO_COLLECTION_CLOSED`). Nothing stays open after a rejection.
 * Bad arguments reject with `ERR_COMMIO_INVALID_ARGUMENT` before anything
 * is opened; a stopped collection with `ERR_COMMIO_COLLECTION_CLOSED`.
 */
export async function acceptTcpConnectionsCreatingAsyncIoStates(
  collection: WaitStateCollection,
  service: number | string | null | { fd: number } | net.Server,
  connectionFunction: ConnectionFunction,
  options?: AcceptOptions,
): Promise<AcceptingHandle> {
  const c = checkCollection(collection);
  const fn = checkFunction<ConnectionFunction>(connectionFunction, 'connectionFunction');
  const o = checkOptions(options, ACCEPT_KEYS);
  const settings = resolveAcceptSettings(service, o);
  // `transport: 'native'` without the addon: the Node path (nativeTransportStatus() says why).
  const driver = settings.transport === 'native' ? nativeDriver() : null;
  const reusePort = checkReusePort(settings, driver !== null);
  // TLS seam (1/2): the TLS options are checked here; connections get TLS in hand-over.ts.
  const acceptTls = prepareAcceptTls(o);
  c.assertAlive();
  settings.signal?.throwIfAborted();
  if (settings.maxConnections !== null && settings.source.kind === 'server' && !adoptedServerPausable(settings.source.server)) {
    throw new UnsupportedError('maxConnections needs a socket commio can pause: Node.js cannot pause a net.Server it bound itself (give the port, or { fd }, instead)');
  }

  const handle = new AcceptingHandle(c, settings, fn, acceptConnection);
  bindAcceptTls(handle, acceptTls);
  c.addMember(handle);
  const signal = handle.setupSignal;
  const unforward = forwardAbort(handle, settings.signal);
  try {
    let listeners: AcceptListener[];
    if (driver !== null) {
      const opened = await openNativeListeners(driver, settings, reusePort, signal);
      for (const listener of opened) listener.handOverTo((id) => acceptNativeConnection(handle, driver, id), handle);
      listeners = opened;
    } else {
      const bound = await openServers(settings, signal);
      listeners = bound.map((b) => new Listener(b, handle));
    }
    handle.adopt(listeners);
    signal.throwIfAborted();
    if (settings.maxConnections !== null && listeners.some((l) => !l.pausable)) {
      throw new UnsupportedError('maxConnections needs a listening socket commio can pause, which this Node.js does not offer here');
    }
    if (settings.initFunction !== null) await runInitFunction(c, handle, settings.initFunction, signal);
    signal.throwIfAborted();
  } catch (error) {
    handle.close();
    throw error;
  } finally {
    unforward();
  }
  // Only when logging is on, and through printable: `name` may be any value, even one String() refuses.
  if (log.enabled) {
    log('%s: listening (%s) on %s%s', handle, printable(settings.listenName), handle.sockets.map((s) => JSON.stringify(s.address())).join(' '), driver !== null ? ' (native)' : '');
  }
  // Accept only after the caller's continuation has run.
  setImmediate(() => handle.start());
  // In a worker of startWorkerProcesses: drained when the primary stops the group.
  noteAcceptingHandle(handle);
  return handle;
}

/**
 * Whether the listening sockets get SO_REUSEPORT: as asked, and always for a
 * native listener in a cluster worker (each worker listens on its own socket:
 * cluster shares only Node's). Throws ERR_COMMIO_UNSUPPORTED, before anything
 * is opened, for what cannot be done: reuseport on a Node transport (the
 * native one unavailable) of a Node.js without it, port 0 for a native
 * listener in a worker (each worker would get a port of its own).
 */
function checkReusePort(settings: AcceptSettings<AcceptingHandle>, native: boolean): boolean {
  if (!native) {
    if (settings.reuseport && !reusePortSupported()) {
      const fallback = settings.transport === 'native' ? ` or the native transport, which is unavailable: ${nativeTransportStatus().reason ?? 'unknown'}` : '';
      throw new UnsupportedError(`reuseport needs Node.js >= 22.12 (this is ${process.versions.node})${fallback}`);
    }
    return settings.reuseport;
  }
  if (!inClusterWorker()) return settings.reuseport;
  if (settings.source.kind === 'port' && settings.source.port === 0) {
    throw new UnsupportedError('port 0 on the native transport in a worker process: each worker listens on its own socket (SO_REUSEPORT) and would get a port of its own; give a port');
  }
  return true;
}

/** True when a `net.Server` given to adopt can be paused (it was opened on a descriptor, not bound by Node). */
function adoptedServerPausable(server: net.Server): boolean {
  const handle = serverHandle(server);
  return handle !== null && startAccepting(handle);
}
