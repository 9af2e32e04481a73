/**
 * Accepting on the native transport (`transport: 'native'`): the listening
 * sockets are the addon's (native-listener.ts), each accepted connection
 * becomes a state on the native stream driver and then takes the same way
 * as on the Node path (hand-over.ts: counted against `maxConnections`,
 * delivered through the collection).
 */
import { fstatSync } from 'node:fs';
import { constants } from 'node:os';
import { errorCode } from '../errors.js';
import { activeHandles } from '../node-internals.js';
import { systemError } from './native-listen.js';
import { logger } from '../debug.js';
import type { AcceptSettings } from './accept-settings.js';
import type { AcceptingHandle } from './accepting-handle.js';
import { deliverConnection, headerPhaseOver, headerPhaseStarted } from './hand-over.js';
import { readNativeProxyHeader, type NativeHeaderRead } from './native-proxy.js';
import type { ProxySettings } from '../proxy/proxy-options.js';
import { isUnavailable, LookupFailure, planTargets, planWithoutLookup, type ListenTarget } from './listen-targets.js';
import { retryWhileInUse } from './listen-with-retry.js';
import { NativeListener } from './native-listener.js';
import { BindFailedError } from '../errors.js';
import { stateOnTransport } from '../state/create-state.js';
import type { NativeDriver } from '../transports/native-driver.js';

const log = logger('accept');

function listenOn(driver: NativeDriver, target: ListenTarget, port: number, settings: AcceptSettings<AcceptingHandle>, reusePort: boolean): NativeListener {
  const options = { nodelay: settings.nodelay, keepalive: settings.keepalive, backlog: settings.backlog, ipv6Only: target.ipv6Only, reusePort };
  try {
    return new NativeListener(driver, target.host, port, -1, options);
  } catch (error) {
    if (target.fallback === null || !isUnavailable(errorCode(error))) throw error;
    return new NativeListener(driver, target.fallback.host, port, -1, { ...options, ipv6Only: target.fallback.ipv6Only });
  }
}

/** One attempt over every target on one port (with 0: the first socket's); closes what it opened when one fails. */
function listenOnAll(driver: NativeDriver, targets: readonly ListenTarget[], port: number, settings: AcceptSettings<AcceptingHandle>, reusePort: boolean): NativeListener[] {
  const opened: NativeListener[] = [];
  const groupsBound = new Set<number>();
  const skipped = new Map<number, unknown>();
  let chosenPort = port;
  try {
    for (const target of targets) {
      try {
        const listener = listenOn(driver, target, chosenPort, settings, reusePort);
        opened.push(listener);
        groupsBound.add(target.group);
        if (chosenPort === 0) chosenPort = listener.port;
      } catch (error) {
        if (!target.lenient || !isUnavailable(errorCode(error))) throw error;
        skipped.set(target.group, error);
      }
    }
    for (const [group, error] of skipped) if (!groupsBound.has(group)) throw error;
    return opened;
  } catch (error) {
    for (const listener of opened) listener.close();
    throw error;
  }
}

/** The descriptor of a Node handle (a net.Server or socket, or a bare wrap), if it has one. */
function descriptorOf(handle: unknown): unknown {
  const h = handle as { fd?: unknown; _handle?: { fd?: unknown } | null };
  return h.fd ?? h._handle?.fd;
}

/**
 * `{ fd }` refused as on the Node path: EINVAL for what is not a socket,
 * EEXIST for a descriptor this process already uses through Node (the
 * addon would otherwise watch it a second time).
 */
function checkAdoptable(fd: number): void {
  const where = `fd ${fd}`;
  let isSocket: boolean;
  try {
    isSocket = fstatSync(fd).isSocket();
  } catch (error) {
    const errno = (error as NodeJS.ErrnoException).errno ?? -constants.errno.EBADF;
    throw systemError(errno, 'listen', where, null);
  }
  if (!isSocket) throw systemError(-constants.errno.EINVAL, 'listen', where, null);
  if (activeHandles()?.some((handle) => descriptorOf(handle) === fd) === true) throw systemError(-constants.errno.EEXIST, 'listen', where, null);
}

/** @internal Opens the native listening sockets the settings ask for (with the Node path's bind retries; `reusePort`: SO_REUSEPORT on each); leaves nothing open on failure. */
export async function openNativeListeners(driver: NativeDriver, settings: AcceptSettings<AcceptingHandle>, reusePort: boolean, signal: AbortSignal): Promise<NativeListener[]> {
  const source = settings.source;
  if (source.kind === 'fd') {
    const options = { nodelay: settings.nodelay, keepalive: settings.keepalive, backlog: settings.backlog, ipv6Only: false, reusePort: false };
    return retryWhileInUse(
      () => {
        checkAdoptable(source.fd);
        return Promise.resolve([new NativeListener(driver, null, 0, source.fd, options)]);
      }, 0, signal, `fd ${source.fd}`);
  }
  const port = source.kind === 'port' ? source.port : 0;
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
  const where = `port ${port} on ${planned.map((t) => t.host).join(', ')} (native)`;
  return retryWhileInUse(() => Promise.resolve().then(() => listenOnAll(driver, planned, port, settings, reusePort)), settings.initTimeout, signal, where);
}

/** @internal A native connection was accepted: it becomes a state and is handed over like a Node one (after its PROXY header, when the handle wants one). */
export function acceptNativeConnection(handle: AcceptingHandle, driver: NativeDriver, id: number): void {
  const collection = handle.home;
  if (!collection.alive || handle.closed) {
    driver.loop.close(id);
    return;
  }
  const proxy = handle.settings.proxy;
  if (proxy !== null) {
    readHeaderFirst(handle, driver, id, proxy);
    return;
  }
  const state = stateOnTransport(collection, driver.transport, id, handle.settings.state);
  handle.connections.trackState(state);
  if (log.enabled) log('%s: native connection %d handed over', handle, id);
  deliverConnection(handle, state);
}

/** As on the Node path (hand-over.ts): the header first, counted and a member of the collection meanwhile; then the state, on the same attach. */
function readHeaderFirst(handle: AcceptingHandle, driver: NativeDriver, id: number, proxy: ProxySettings): void {
  const collection = handle.home;
  let read: NativeHeaderRead | null = null;
  read = readNativeProxyHeader(driver.transport, id, proxy, (header, error, rest) => {
    headerPhaseOver(handle, proxy, read, header !== null, error);
    if (header === null) return;
    if (read === null || !collection.alive) {
      driver.transport.destroy(id);
      return;
    }
    const state = stateOnTransport(collection, driver.transport, id, handle.settings.state, read);
    state.acceptedProxyHeader = header;
    // The bytes that came with the header are the state's first input.
    if (rest !== null) state.received(rest);
    handle.connections.trackState(state, true);
    if (log.enabled) log('%s: native connection %d handed over after its PROXY header', handle, id);
    deliverConnection(handle, state);
  });
  headerPhaseStarted(handle, read);
}
