/**
 * The options of acceptTcpConnectionsCreatingAsyncIoStates: their types,
 * defaults and checks. Everything here is checked synchronously, before
 * anything is opened; a bad value throws `ERR_COMMIO_INVALID_ARGUMENT`
 * naming its path (`options.initTimeout`, `service.fd`, ...).
 */
import net from 'node:net';
import { UnsupportedError } from '../errors.js';
import {
  checkBoolean,
  checkInteger,
  checkKeyword,
  checkSeconds,
  invalid,
  keys,
  optionalFunction,
  type CheckedOptions,
} from '../options/validate.js';
import { resolveStateSettings } from '../options/state-options.js';
import { resolveService } from '../options/service.js';
import type { AcceptTlsOptions } from './accept-tls-options.js';
import type { AcceptSettings, ListenSource } from './accept-settings.js';
import type { Ipv6Choice } from './listen-targets.js';
import { resolveProxySettings, type ProxyProtocolOptions } from '../proxy/proxy-options.js';
import type { AcceptingHandle } from './accepting-handle.js';
import { checkTransport, type TransportChoice } from '../transports/native-status.js';

export type { Ipv6Choice } from './listen-targets.js';
export type { AcceptSettings, ListenSource } from './accept-settings.js';

/** Options of acceptTcpConnectionsCreatingAsyncIoStates. */
export interface AcceptOptions extends AcceptTlsOptions {
  /**
   * Called through the collection with each listening server (once per
   * socket, in address order) after binding and before the promise resolves
   * and any connection is handed over. If it throws, the promise rejects with
   * that error and nothing stays open.
   */
  initFunction?: ((server: net.Server) => void) | null;
  /** Seconds to keep retrying while the port is in use (`0`: one try, `null`: 60). @default 60 */
  initTimeout?: number | null;
  /** Kernel queue length of connections not yet accepted; `null` for Node's default (511). */
  backlog?: number | null;
  /**
   * Where to listen: an IP literal, a host name (every address it resolves
   * to in the `ipv6` family), `'localhost'` (127.0.0.1 and ::1 where
   * available), `'*'`/`null` for all interfaces, or a list of these (one
   * socket each, all on one port). @default null
   */
  address?: string | string[] | null;
  /** TCP_NODELAY on accepted sockets. @default true */
  nodelay?: boolean;
  /**
   * While this many connections of the handle are open (states, or raw
   * sockets with `createState: false`), stop accepting: new connections wait
   * in the kernel backlog; accepting resumes as they close. `null`: no limit.
   * @default null
   */
  maxConnections?: number | null;
  /** SO_KEEPALIVE on accepted sockets. @default false */
  keepalive?: boolean;
  /** IP versions to listen on. @default 'any' */
  ipv6?: Ipv6Choice;
  /**
   * SO_REUSEPORT: several listening sockets (of this process or of others)
   * share the port and the kernel spreads the connections over them. On the
   * Node transport it needs Node.js >= 22.12 (rejected with
   * ERR_COMMIO_UNSUPPORTED before); the native transport sets it itself, on
   * any Node.js, and always in a cluster worker (see `transport`).
   * @default false
   */
  reuseport?: boolean;
  /** Make a state per connection (true) or hand over the paused raw socket, which the caller then owns (false). @default true */
  createState?: boolean;
  /** Name of the listening socket (shown in logs; the handle's name when `handleName` is absent). @default 'Listening' */
  name?: unknown;
  /** `queueOutput` of every accepted state. @default false */
  queueOutput?: boolean;
  /** `maxQueuedOutput` of every accepted state (bytes). @default 16 MiB */
  maxQueuedOutput?: number;
  /** `maxBufferedInput` of every accepted state (bytes). @default 16 MiB */
  maxBufferedInput?: number;
  /** `readTimeout` of every accepted state (seconds). @default null */
  readTimeout?: number | null;
  /** `writeTimeout` of every accepted state (seconds). @default null */
  writeTimeout?: number | null;
  /** The handle's name (`handle.name`). @default the `name` option */
  handleName?: unknown;
  /** The handle's `userInfo`. @default null */
  userInfo?: unknown;
  /** Aborting it while the accept is being set up (lookup, bind retries, init) rejects with its reason; it has no effect afterwards. */
  signal?: AbortSignal;
  /**
   * PROXY protocol (v1 and v2) in front of every connection: each must come
   * from a `trusted` address and start with a complete header within
   * `timeout` seconds (default 5); the header is removed before the
   * connection function (and TLS) sees the connection, and the state's
   * `peerAddress` is the client's address from it (`state.proxyHeader` holds
   * the whole header). Anything else is destroyed and reported to
   * `proxyErrorCallback`. `null`: off. Not with `createState: false`.
   * @default null
   */
  proxyProtocol?: ProxyProtocolOptions | null;
  /**
   * Called through the collection with each connection the PROXY protocol
   * check refused (already destroyed; `ERR_COMMIO_PROXY_PROTOCOL`, its
   * `reason` says why); the server goes on. Absent: the collection's handler
   * gets the error.
   */
  proxyErrorCallback?: ((error: Error, handle: AcceptingHandle) => void) | null;
  /**
   * Called once through the collection when `drainAcceptingHandle` (or
   * `drainWaitStateCollection`) starts draining the handle, after it stopped
   * accepting: the place to tell the handle's states to finish.
   */
  drainCallback?: ((handle: AcceptingHandle) => void) | null;
  /**
   * What moves the bytes of accepted connections: `'node'` (`net.Socket`s)
   * or `'native'` (the optional `@commio/native` addon; plain TCP on a port
   * or `{ fd }` only, with or without `proxyProtocol` and `reuseport`: with
   * `sslCtx`, `createState: false`, `initFunction` or an adopted
   * `net.Server` it throws `ERR_COMMIO_UNSUPPORTED`). In a cluster worker
   * (`startWorkerProcesses`) a native listener is the worker's own socket
   * with SO_REUSEPORT (cluster's shared socket is Node's), so a port must be
   * given: port 0 is refused there. When the addon is unavailable the Node
   * transport is used (see `nativeTransportStatus`).
   * @default 'node'
   */
  transport?: TransportChoice;
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
  'proxyProtocol',
  'proxyErrorCallback',
  'drainCallback',
  'transport',
);

const IPV6_CHOICES: readonly Ipv6Choice[] = ['any', 'both', true, false];
const FD_SERVICE_KEYS = keys('fd', 'name');
const MAX_FD = 0x7fffffff;

/** True when this Node.js supports `reusePort` on listen (22.12+, 23.1+). */
export function reusePortSupported(): boolean {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  return major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
}

function resolveSource(service: unknown): ListenSource {
  if (service === null) return { kind: 'port', port: 0 };
  if (typeof service === 'number' || typeof service === 'string') return { kind: 'port', port: resolveService(service, 'service') };
  if (service instanceof net.Server) {
    // An http or tls server handles its connections itself: only a plain one can be handed over.
    if (Object.getPrototypeOf(service) !== net.Server.prototype) invalid('service', 'a plain net.Server (not an http, https or tls server)', service);
    if (!service.listening) invalid('service', 'a listening net.Server (wait for its listening event first)', service);
    const bound = service.address();
    if (typeof bound !== 'object' || bound === null) invalid('service', 'a net.Server listening on TCP (not on a pipe)', service);
    return { kind: 'server', server: service };
  }
  if (typeof service === 'object' && !Array.isArray(service)) {
    for (const key of Object.keys(service)) {
      if (!FD_SERVICE_KEYS.has(key)) invalid(`service.${key}`, 'absent: an adopted socket is given as { fd }', (service as Record<string, unknown>)[key]);
    }
    const fd = checkInteger((service as { fd?: unknown }).fd, 'service.fd', 0, MAX_FD);
    if (fd === undefined) invalid('service.fd', 'a file descriptor number', undefined);
    return { kind: 'fd', fd };
  }
  return invalid('service', "a port number, a decimal string, a service name, null, { fd } or a listening net.Server", service);
}

function resolveAddresses(value: unknown, ipv6: Ipv6Choice): (string | null)[] {
  if (value === undefined || value === null) return [null];
  const list = Array.isArray(value) ? (value as unknown[]) : [value];
  if (list.length === 0) invalid('options.address', "an address, a host name, '*', null or a non-empty list of them", value);
  return list.map((entry, i) => {
    const name = Array.isArray(value) ? `options.address[${i}]` : 'options.address';
    if (typeof entry !== 'string' || entry.length === 0) return invalid(name, "an IP address, a host name or '*'", entry);
    if (entry === '*') return null;
    const version = net.isIP(entry);
    if (version === 4 && ipv6 === true) invalid(name, 'an IPv6 address when options.ipv6 is true (IPv6 only)', entry);
    if (version === 6 && ipv6 === false) invalid(name, 'an IPv4 address when options.ipv6 is false (IPv4 only)', entry);
    return entry;
  });
}

/**
 * Checks `service` and the (key-checked) options; throws
 * `ERR_COMMIO_INVALID_ARGUMENT` for the first bad one and
 * `ERR_COMMIO_UNSUPPORTED` for `reuseport` on a Node.js without it.
 */
export function resolveAcceptSettings(service: unknown, o: CheckedOptions): AcceptSettings<AcceptingHandle> {
  const source = resolveSource(service);
  const initTimeout = o['initTimeout'] === undefined ? 60 : (checkSeconds(o['initTimeout'], 'options.initTimeout') ?? 60);
  const backlog = o['backlog'] === undefined || o['backlog'] === null ? undefined : checkInteger(o['backlog'], 'options.backlog', 1, 0x7fffffff, 1);
  const ipv6 = checkKeyword(o['ipv6'], 'options.ipv6', IPV6_CHOICES, 'any');
  const addresses = resolveAddresses(o['address'], ipv6);
  const maxConnections =
    o['maxConnections'] === undefined || o['maxConnections'] === null ? null : checkInteger(o['maxConnections'], 'options.maxConnections', 1, 0x7fffffff, 1);
  const signal = o['signal'];
  if (signal !== undefined && !(signal instanceof AbortSignal)) invalid('options.signal', 'an AbortSignal', signal);
  const reuseport = checkBoolean(o['reuseport'], 'options.reuseport', false);
  const stateSettings = resolveStateSettings(o);
  const settings: AcceptSettings<AcceptingHandle> = {
    source,
    initFunction: optionalFunction<(server: net.Server) => void>(o['initFunction'], 'options.initFunction'),
    initTimeout,
    backlog,
    addresses,
    nodelay: checkBoolean(o['nodelay'], 'options.nodelay', true),
    keepalive: checkBoolean(o['keepalive'], 'options.keepalive', false),
    maxConnections,
    ipv6,
    reuseport,
    createState: checkBoolean(o['createState'], 'options.createState', true),
    listenName: 'name' in o ? o['name'] : 'Listening',
    handleName: 'handleName' in o ? o['handleName'] : 'name' in o ? o['name'] : 'Listening',
    userInfo: 'userInfo' in o ? o['userInfo'] : null,
    signal,
    // `name` and `userInfo` belong to the listening socket and the handle; accepted states start without them.
    state: { ...stateSettings, name: null, userInfo: null },
    options: o,
    proxy: resolveProxySettings(o),
    drainCallback: optionalFunction<(handle: AcceptingHandle) => void>(o['drainCallback'], 'options.drainCallback'),
    transport: checkTransport(o['transport'], 'options.transport', o['sslCtx'] !== undefined && o['sslCtx'] !== null),
  };
  if (source.kind !== 'port') checkAdoptionOptions(source, o);
  if (settings.transport === 'native') checkNativeOptions(settings);
  // Whether reuseport can be had depends on the transport in the end: checked in accept-tcp-connections.ts (checkReusePort).
  return settings;
}

/** What the native transport does not do (yet): refused before anything is opened. */
function checkNativeOptions(settings: AcceptSettings<AcceptingHandle>): void {
  const refuse = (what: string): never => {
    throw new UnsupportedError(`options.transport 'native' does not support ${what} (use the Node transport)`);
  };
  if (!settings.createState) refuse('createState: false (it hands over a net.Socket)');
  if (settings.initFunction !== null) refuse('initFunction (there is no net.Server)');
  if (settings.source.kind === 'server') refuse('adopting a net.Server (give its port or { fd })');
}

/** Options that choose how to bind cannot be honoured for a socket that is already bound. */
function checkAdoptionOptions(source: ListenSource, o: CheckedOptions): void {
  const what = source.kind === 'fd' ? 'an adopted descriptor' : 'an adopted net.Server';
  if (o['address'] !== undefined && o['address'] !== null) invalid('options.address', `absent with ${what} (it is already bound)`, o['address']);
  if (o['ipv6'] !== undefined && o['ipv6'] !== 'any') invalid('options.ipv6', `absent with ${what} (it is already bound)`, o['ipv6']);
  if (o['reuseport'] === true) invalid('options.reuseport', `absent with ${what} (it is already bound)`, true);
  if (source.kind === 'server' && o['backlog'] !== undefined && o['backlog'] !== null) {
    invalid('options.backlog', 'absent with an adopted net.Server (it already listens with its own backlog)', o['backlog']);
  }
}
