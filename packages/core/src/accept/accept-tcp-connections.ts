/**
 * acceptTcpConnectionsCreatingAsyncIoStates: listen on a service, and hand
 * every accepted connection (as a new state, or the raw socket) to the
 * connection function, through the collection.
 */
import net from 'node:net';
import { logger } from '../debug.js';
import { UnsupportedError } from '../errors.js';
import { checkCollection, type WaitStateCollection } from '../collection/wait-state-collection.js';
import {
  checkBoolean,
  checkFunction,
  checkInteger,
  checkKeyword,
  checkOptions,
  checkSeconds,
  invalid,
  keys,
  optionalFunction,
  type CheckedOptions,
} from '../options/validate.js';
import { resolveStateSettings } from '../options/state-options.js';
import { resolveService } from '../options/service.js';
import type { AsyncIoState, StateSettings } from '../state/async-io-state.js';
import { adoptTcpSocket } from '../state/create-state.js';
import { AcceptingHandle } from './accepting-handle.js';
import { listenWithRetry, type ListenTarget } from './listen-with-retry.js';

const log = logger('accept');

/** Which IP versions a listening socket takes: `false` IPv4, `true` IPv6 only, `'both'` dual stack, `'any'` the system's choice. */
export type Ipv6Choice = 'any' | 'both' | boolean;

/** Called with the handle and each accepted connection (a state, or with `createState: false` the paused raw socket). */
export type ConnectionFunction = (handle: AcceptingHandle, state: AsyncIoState | net.Socket) => void;

/** Options of acceptTcpConnectionsCreatingAsyncIoStates. */
export interface AcceptOptions {
  /** Called with the listening server once bound, before any connection is handed over. */
  initFunction?: ((server: net.Server) => void) | null;
  /** Seconds to keep retrying while the port is in use (`0`: one try, `null`: 60). @default 60 */
  initTimeout?: number | null;
  /** Kernel queue length of connections not yet accepted; `null` for the system default. */
  backlog?: number | null;
  /** Where to listen: an IP literal, a host name, `'*'`/`null` for all interfaces, or a list (one socket each). @default null */
  address?: string | string[] | null;
  /** TCP_NODELAY on accepted sockets. @default true */
  nodelay?: boolean;
  /** While this many states of the handle are open, stop accepting (the kernel backlog holds new ones). @default null */
  maxConnections?: number | null;
  /** SO_KEEPALIVE on accepted sockets. @default false */
  keepalive?: boolean;
  /** IP versions to listen on. @default 'any' */
  ipv6?: Ipv6Choice;
  /** SO_REUSEPORT (needs Node.js >= 22.12; rejected with ERR_COMMIO_UNSUPPORTED before). @default false */
  reuseport?: boolean;
  /** Make a state per connection (true) or hand over the paused raw socket (false). @default true */
  createState?: boolean;
  /** Name of the listening socket, shown in logs (LispWorks' listening state). @default 'Listening' */
  name?: unknown;
  /** `queueOutput` of every accepted state. @default false */
  queueOutput?: boolean;
  /** `maxQueuedOutput` of every accepted state. @default 16 MiB */
  maxQueuedOutput?: number;
  /** `maxBufferedInput` of every accepted state. @default 16 MiB */
  maxBufferedInput?: number;
  /** `readTimeout` of every accepted state (seconds). @default null */
  readTimeout?: number | null;
  /** `writeTimeout` of every accepted state (seconds). @default null */
  writeTimeout?: number | null;
  /** The handle's name (`handle.name`). */
  handleName?: unknown;
  /** The handle's `userInfo`. */
  userInfo?: unknown;
  /** Aborting it stops the bind retries and rejects with its reason. */
  signal?: AbortSignal;
}

/** @internal Every option key the accept function knows (TLS keys included). */
export const ACCEPT_KEYS = keys(
  'initFunction',
  'initTimeout',
  'backlog',
  'address',
  'nodelay',
  'maxConnections',
  'keepalive',
  'ipv6',
  'reuseport',
  'createState',
  'name',
  'queueOutput',
  'maxQueuedOutput',
  'maxBufferedInput',
  'readTimeout',
  'writeTimeout',
  'handleName',
  'userInfo',
  'signal',
  'sslCtx',
  'sslSide',
  'ctxConfigureCallback',
  'sslConfigureCallback',
  'handshakeTimeout',
  'sslErrorCallback',
);

const IPV6_CHOICES: readonly Ipv6Choice[] = ['any', 'both', true, false];

/** The checked, defaulted accept options. */
interface AcceptSettings {
  port: number;
  initFunction: ((server: net.Server) => void) | null;
  initTimeout: number;
  backlog: number | undefined;
  address: string | null;
  nodelay: boolean;
  keepalive: boolean;
  ipv6: Ipv6Choice;
  createState: boolean;
  listenName: unknown;
  handleName: unknown;
  userInfo: unknown;
  signal: AbortSignal | undefined;
  state: StateSettings;
}

/** True when this Node.js supports `reusePort` on listen (22.12+, 23.1+). */
export function reusePortSupported(): boolean {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  return major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
}

function resolveAcceptSettings(service: unknown, o: CheckedOptions): AcceptSettings {
  const port = service === null ? 0 : resolveService(service, 'service');
  const initTimeout = o['initTimeout'] === undefined ? 60 : (checkSeconds(o['initTimeout'], 'options.initTimeout') ?? 60);
  const backlog = o['backlog'] === undefined || o['backlog'] === null ? undefined : checkInteger(o['backlog'], 'options.backlog', 1, 0x7fffffff);
  const address = o['address'];
  if (address !== undefined && address !== null && (typeof address !== 'string' || address.length === 0)) {
    invalid('options.address', "an IP address, a host name, '*' or null", address);
  }
  const signal = o['signal'];
  if (signal !== undefined && !(signal instanceof AbortSignal)) invalid('options.signal', 'an AbortSignal', signal);
  if (checkBoolean(o['reuseport'], 'options.reuseport', false) && !reusePortSupported()) {
    throw new UnsupportedError(`reuseport needs Node.js >= 22.12 (this is ${process.versions.node})`);
  }
  return {
    port,
    initFunction: optionalFunction<(server: net.Server) => void>(o['initFunction'], 'options.initFunction'),
    initTimeout,
    backlog,
    address: address === undefined || address === null || address === '*' ? null : address,
    nodelay: checkBoolean(o['nodelay'], 'options.nodelay', true),
    keepalive: checkBoolean(o['keepalive'], 'options.keepalive', false),
    ipv6: checkKeyword(o['ipv6'], 'options.ipv6', IPV6_CHOICES, 'any'),
    createState: checkBoolean(o['createState'], 'options.createState', true),
    listenName: 'name' in o ? o['name'] : 'Listening',
    handleName: 'handleName' in o ? o['handleName'] : ('name' in o ? o['name'] : 'Listening'),
    userInfo: 'userInfo' in o ? o['userInfo'] : null,
    signal,
    state: resolveStateSettings(o),
  };
}

function listenTarget(settings: AcceptSettings): ListenTarget {
  const { address, ipv6, port, backlog } = settings;
  if (address !== null) return { host: address, port, backlog, ipv6Only: ipv6 === true };
  switch (ipv6) {
    case false:
      return { host: '0.0.0.0', port, backlog, ipv6Only: false };
    case true:
      return { host: '::', port, backlog, ipv6Only: true };
    case 'both':
      return { host: '::', port, backlog, ipv6Only: false };
    default:
      return { host: undefined, port, backlog, ipv6Only: false };
  }
}

function deliverConnection(handle: AcceptingHandle, fn: ConnectionFunction, connection: AsyncIoState | net.Socket): void {
  // Runs even if the handle closed meanwhile: accepted connections live on independently.
  fn(handle, connection);
}

function runInit(fn: (server: net.Server) => void, server: net.Server, done: (error: unknown) => void): void {
  try {
    fn(server);
  } catch (error) {
    done(error);
    return;
  }
  done(null);
}

/**
 * Listens on `service` (a port, a decimal string, a service name, or
 * `null`/0 for any free port) and hands every accepted connection to
 * `connectionFunction(handle, state)` through the collection.
 *
 * Resolves once the socket is bound and listening and `initFunction` has run,
 * before any connection is handed over; `handle.localPort` then holds the
 * real port. While the port is in use, binding is retried until
 * `initTimeout` seconds have passed, then the promise rejects with
 * `ERR_COMMIO_BIND_TIMEOUT`; other bind errors reject at once with
 * `ERR_COMMIO_BIND_FAILED`. Nothing stays open after a rejection.
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
  c.assertAlive();

  const handle = new AcceptingHandle(c, settings.handleName, settings.userInfo);
  const server = net.createServer({
    allowHalfOpen: true,
    pauseOnConnect: true,
    noDelay: settings.nodelay,
    keepAlive: settings.keepalive,
  });
  handle.servers = [server];
  let ready = false;
  const early: net.Socket[] = [];

  const handOver = (socket: net.Socket): void => {
    if (handle.closed) {
      socket.destroy();
      return;
    }
    const connection = settings.createState ? adoptTcpSocket(c, socket, socket, settings.state) : socket;
    c.dispatch(handle, deliverConnection, handle, fn, connection, undefined);
  };
  const onConnection = (socket: net.Socket): void => {
    if (ready) handOver(socket);
    else early.push(socket);
  };
  const onServerError = (error: Error): void => {
    log('%s: accept error %s', handle, (error as NodeJS.ErrnoException).code ?? error.message);
  };
  server.on('connection', onConnection);
  handle.teardown = () => {
    server.removeListener('connection', onConnection);
    server.on('error', onServerError);
    server.close();
    for (const socket of early.splice(0)) socket.destroy();
  };

  try {
    await listenWithRetry(server, listenTarget(settings), settings.initTimeout, settings.signal);
    server.on('error', onServerError);
    const bound = server.address();
    handle.setLocalPort(typeof bound === 'object' && bound !== null ? bound.port : 0);
    c.addMember(handle);
    if (settings.initFunction !== null) {
      const init = settings.initFunction;
      await new Promise<void>((resolve, reject) => {
        c.post(handle, runInit, init, server, (error: unknown) => (error === null ? resolve() : reject(error as Error)), undefined);
      });
    }
  } catch (error) {
    handle.close();
    throw error;
  }
  log('%s: listening (%s)', handle, String(settings.listenName));
  // Connections that came while the promise was settling are handed over
  // after the caller's continuation has run.
  setImmediate(() => {
    ready = true;
    for (const socket of early.splice(0)) handOver(socket);
  });
  return handle;
}
