/**
 * Getting listening `net.Server`s: binding a set of targets (one attempt,
 * all or nothing), adopting an inherited descriptor, or adopting a
 * `net.Server` that listens already.
 *
 * A set of targets shares one port: with port 0 the first socket picks it
 * and the others bind to it (if one of them finds it taken, the whole set is
 * released and bound again on a new port, a few times).
 */
import net from 'node:net';
import { errorCode } from '../errors.js';
import { logger } from '../debug.js';
import { isUnavailable, type ListenTarget } from './listen-targets.js';
import { noDelayOnListener } from '../node-internals.js';
import { bindNative, DEFAULT_BACKLOG, nativeBindAvailable, openNative, serverHandle, startAccepting, type ServerHandle } from './native-listen.js';

const log = logger('accept');

/** How the servers are made. */
export interface ServerConfig {
  readonly nodelay: boolean;
  readonly keepalive: boolean;
  readonly backlog: number | undefined;
  readonly reuseport: boolean;
}

/** A listening server, ready to be wrapped in a Listener. */
export interface BoundServer {
  readonly server: net.Server;
  /** Its handle can stop and resume accepting (see native-listen.ts). */
  readonly pausable: boolean;
  /** Where it listens, for logs. */
  readonly where: string;
  /** Accepted sockets take TCP_NODELAY over from it (Node does not set it on each): the listener marks them. */
  readonly noDelayInherited: boolean;
}

/** Times the set is bound again on a new port when port 0 was asked and a later address found the picked port taken. */
const PORT_ZERO_REPICKS = 8;

/** A server making accepted sockets paused, half-open; Node sets TCP_NODELAY on each unless they take it over from the listener (`noDelayInherited`). */
function newServer(config: ServerConfig, noDelayInherited = false): net.Server {
  return net.createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: config.nodelay && !noDelayInherited, keepAlive: config.keepalive });
}

/** Gives a listening native handle to a new server; the handle is left accepting (reading) when it can pause. */
function serve(handle: ServerHandle, config: ServerConfig, where: string, noDelayInherited = false): BoundServer {
  const server = newServer(config, noDelayInherited);
  server.listen(handle, config.backlog ?? DEFAULT_BACKLOG);
  const pausable = canAccept(server);
  return { server, pausable, where: whereBound(server, where), noDelayInherited };
}

/** Starts accepting on `server`'s handle; true when that handle can pause. */
function canAccept(server: net.Server): boolean {
  const handle = serverHandle(server);
  return handle !== null && startAccepting(handle);
}

function whereOf(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Where `server` listens (`host:port`, the real port), else `fallback`; an adopted descriptor keeps its `fd N` too. */
function whereBound(server: net.Server, fallback: string): string {
  const bound = server.address();
  if (typeof bound !== 'object' || bound === null) return fallback;
  const where = whereOf(bound.address, bound.port);
  return fallback.startsWith('fd ') ? `${fallback} (${where})` : where;
}

/** Public `listen`, for when the native factory cannot be used: resolves once listening, rejects with the OS error. */
function listenPublic(config: ServerConfig, options: net.ListenOptions, where: string): Promise<BoundServer> {
  const server = newServer(config);
  return new Promise<BoundServer>((resolve, reject) => {
    const onError = (error: Error): void => {
      server.removeListener('listening', onListening);
      server.close();
      reject(error);
    };
    const onListening = (): void => {
      server.removeListener('error', onError);
      resolve({ server, pausable: canAccept(server), where: whereBound(server, where), noDelayInherited: false });
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(options);
  });
}

async function bindOne(target: ListenTarget, port: number, config: ServerConfig): Promise<BoundServer> {
  const where = whereOf(target.host, port);
  if (nativeBindAvailable() && !config.reuseport) {
    // Set before it listens, so that no connection can predate it (an adopted socket may have some queued: Node sets those).
    let inherited = false;
    const handle = bindNative(target, port, config.backlog ?? DEFAULT_BACKLOG, (h) => {
      inherited = config.nodelay && noDelayOnListener(h);
    });
    return serve(handle, config, where, inherited);
  }
  const options: net.ListenOptions = { host: target.host, port, ipv6Only: target.ipv6Only };
  if (config.backlog !== undefined) options.backlog = config.backlog;
  if (config.reuseport) options.reusePort = true;
  return listenPublic(config, options, where);
}

/** Binds `target`, or its fallback when its family is missing here. */
async function bindWithFallback(target: ListenTarget, port: number, config: ServerConfig): Promise<BoundServer> {
  try {
    return await bindOne(target, port, config);
  } catch (error) {
    if (target.fallback === null || !isUnavailable(errorCode(error))) throw error;
    log('%s unavailable (%s): listening on %s instead', target.host, errorCode(error), target.fallback.host);
    return bindOne(target.fallback, port, config);
  }
}

function portOf(server: net.Server): number {
  const bound = server.address();
  return typeof bound === 'object' && bound !== null ? bound.port : 0;
}

async function bindSetOnce(targets: readonly ListenTarget[], port: number, config: ServerConfig): Promise<BoundServer[]> {
  const bound: BoundServer[] = [];
  const groupsBound = new Set<number>();
  const skipped = new Map<number, unknown>();
  let chosenPort = port;
  try {
    for (const target of targets) {
      try {
        const server = await bindWithFallback(target, chosenPort, config);
        bound.push(server);
        groupsBound.add(target.group);
        if (chosenPort === 0) chosenPort = portOf(server.server);
      } catch (error) {
        if (!target.lenient || !isUnavailable(errorCode(error))) throw error;
        log('%s not available here (%s): skipped', target.host, errorCode(error));
        skipped.set(target.group, error);
      }
    }
    for (const [group, error] of skipped) if (!groupsBound.has(group)) throw error;
    return bound;
  } catch (error) {
    for (const b of bound) b.server.close();
    throw error;
  }
}

/**
 * One bind attempt over every target, all on one port (`port`, or with 0 the
 * one the first socket gets). Rejects with the OS error, leaving nothing
 * open.
 */
export async function bindServers(targets: readonly ListenTarget[], port: number, config: ServerConfig): Promise<BoundServer[]> {
  for (let repick = 0; ; repick++) {
    try {
      return await bindSetOnce(targets, port, config);
    } catch (error) {
      if (port !== 0 || targets.length < 2 || errorCode(error) !== 'EADDRINUSE' || repick >= PORT_ZERO_REPICKS) throw error;
      log('the port picked for %d addresses is taken on one of them: picking another', targets.length);
    }
  }
}

/** Adopts the inherited listening descriptor `fd` (`listen` is called again with the backlog). Rejects with the OS error. */
export async function adoptDescriptor(fd: number, config: ServerConfig): Promise<BoundServer> {
  const where = `fd ${fd}`;
  if (nativeBindAvailable()) return serve(openNative(fd, config.backlog ?? DEFAULT_BACKLOG), config, where);
  const options: net.ListenOptions & { fd: number } = { fd };
  if (config.backlog !== undefined) options.backlog = config.backlog;
  return listenPublic(config, options, where);
}

/**
 * Takes over a `net.Server` that listens already: its connections are from
 * now on created paused, half-open allowed, with `nodelay`/`keepalive` as
 * configured. It is pausable only if it was itself opened on a descriptor.
 */
export function adoptServer(server: net.Server, config: ServerConfig): BoundServer {
  Object.assign(server, { pauseOnConnect: true, allowHalfOpen: true, noDelay: config.nodelay, keepAlive: config.keepalive });
  return { server, pausable: canAccept(server), where: whereBound(server, 'an adopted server'), noDelayInherited: false };
}
