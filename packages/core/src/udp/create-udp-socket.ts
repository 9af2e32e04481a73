/**
 * createAsyncIoStateAndUdpSocket and createAsyncIoStateAndConnectedUdpSocket:
 * a new UDP socket wrapped in a state. Binding (and connecting, which may
 * need a host name lookup) is asynchronous on Node.js, so both return a
 * promise of the state, resolved once the socket is bound (and connected).
 */
import dgram from 'node:dgram';
import dns from 'node:dns';
import net from 'node:net';
import { logger } from '../debug.js';
import { BindFailedError, CommioError, toError } from '../errors.js';
import { checkCollection, type WaitStateCollection } from '../collection/wait-state-collection.js';
import { checkBoolean, checkInteger, checkKeyword, checkOptions, checkString, invalid, keys, type CheckedOptions } from '../options/validate.js';
import { resolveStateSettings, STATE_OPTION_KEYS, type StateOptions } from '../options/state-options.js';
import { resolveService } from '../options/service.js';
import type { AsyncIoState, StateSettings } from '../state/async-io-state.js';
import { inSocketFamily } from './udp-family.js';
import { makeUdpState } from './udp-state.js';

const log = logger('udp');

/** Options of createAsyncIoStateAndUdpSocket. */
export interface UdpSocketOptions extends StateOptions {
  /** `false`: resolve `null` instead of rejecting when the socket cannot be made or bound. @default true */
  errorp?: boolean;
  /**
   * The socket's family: `false` IPv4, `true` IPv6 only, `'both'` IPv6 that
   * also takes IPv4, `'any'` IPv4 unless `localAddress` is IPv6. @default 'any'
   */
  ipv6?: 'any' | 'both' | boolean;
  /** Local address to bind (an IP literal or host name); `null`/`'*'`: all interfaces. @default null */
  localAddress?: string | null;
  /** Local port (number, decimal string or service name) to bind; `null`/`0`: one the system picks. @default null */
  localPort?: number | string | null;
  /** Datagrams held for the next receive before the oldest are dropped. @default 1024 */
  maxQueuedMessages?: number;
}

/** Options of createAsyncIoStateAndConnectedUdpSocket (as for the unconnected one, without `ipv6: 'both'`). */
export interface ConnectedUdpSocketOptions extends Omit<UdpSocketOptions, 'ipv6'> {
  /** The socket's family: `false` IPv4, `true` IPv6, `'any'` the family `hostspec` resolves to. @default 'any' */
  ipv6?: 'any' | boolean;
}

const UDP_KEYS = keys(...STATE_OPTION_KEYS, 'errorp', 'ipv6', 'localAddress', 'localPort', 'maxQueuedMessages');
const IPV6_UNCONNECTED: readonly ('any' | 'both' | boolean)[] = ['any', 'both', true, false];
const IPV6_CONNECTED: readonly ('any' | boolean)[] = ['any', true, false];

/** The checked, defaulted options of both creators. */
interface UdpPlan {
  settings: StateSettings;
  errorp: boolean;
  ipv6: 'any' | 'both' | boolean;
  localAddress: string | undefined;
  localPort: number;
  maxQueuedMessages: number | undefined;
}

function readPlan(o: CheckedOptions, ipv6Choices: readonly ('any' | 'both' | boolean)[]): UdpPlan {
  const localAddress = o['localAddress'];
  if (localAddress !== undefined && localAddress !== null && (typeof localAddress !== 'string' || localAddress.length === 0)) {
    invalid('options.localAddress', "an IP address, a host name, '*' or null", localAddress);
  }
  const localPort = o['localPort'];
  return {
    settings: resolveStateSettings(o, { queueOutput: true }),
    errorp: checkBoolean(o['errorp'], 'options.errorp', true),
    ipv6: checkKeyword(o['ipv6'], 'options.ipv6', ipv6Choices, 'any'),
    localAddress: localAddress === undefined || localAddress === null || localAddress === '*' ? undefined : localAddress,
    localPort: localPort === undefined || localPort === null ? 0 : resolveService(localPort, 'options.localPort'),
    maxQueuedMessages: checkInteger(o['maxQueuedMessages'], 'options.maxQueuedMessages', 1, 0x7fffffff),
  };
}

function lookup(host: string, family: 0 | 4 | 6): Promise<{ address: string; family: number }> {
  return dns.promises.lookup(host, { family });
}

function bindSocket(socket: dgram.Socket, port: number, address: string | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => {
      socket.removeListener('listening', onListening);
      reject(toError(error));
    };
    const onListening = (): void => {
      socket.removeListener('error', onError);
      resolve();
    };
    socket.once('error', onError);
    socket.once('listening', onListening);
    const options: dgram.BindOptions = { port };
    if (address !== undefined) options.address = address;
    try {
      socket.bind(options);
    } catch (error) {
      socket.removeListener('error', onError);
      socket.removeListener('listening', onListening);
      reject(toError(error));
    }
  });
}

function connectSocket(socket: dgram.Socket, port: number, address: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    // Node.js calls back with the error on failure, with nothing once connected.
    const done = (error?: Error | null): void => {
      if (error instanceof Error) reject(toError(error));
      else resolve();
    };
    try {
      socket.connect(port, address, done);
    } catch (error) {
      reject(toError(error));
    }
  });
}

function closeQuietly(socket: dgram.Socket): void {
  socket.on('error', () => {});
  try {
    socket.close();
  } catch {
    // Never opened far enough to close.
  }
}

/** Rejects with ERR_COMMIO_BIND_FAILED (the OS error as cause), or resolves null with errorp false. */
function failed(error: unknown, plan: UdpPlan, what: string): null {
  const failure = error instanceof CommioError ? error : new BindFailedError(`${what}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  log('%s failed: %s', what, failure.message);
  if (plan.errorp) throw failure;
  return null;
}

/** Makes a socket of `family`, binds it (and connects it to `connectTo`), and wraps it in a state; closes it on any failure. */
async function open(
  collection: WaitStateCollection,
  plan: UdpPlan,
  family: 4 | 6,
  bindAddress: string | undefined,
  connectTo: { address: string; port: number } | null,
): Promise<AsyncIoState> {
  const socket = dgram.createSocket({ type: family === 6 ? 'udp6' : 'udp4', ipv6Only: plan.ipv6 === true });
  try {
    await bindSocket(socket, plan.localPort, bindAddress);
    if (connectTo !== null) await connectSocket(socket, connectTo.port, connectTo.address);
    return makeUdpState(
      collection,
      socket,
      plan.settings,
      { connected: connectTo !== null, family, dualStack: plan.ipv6 === 'both' },
      plan.maxQueuedMessages,
    );
  } catch (error) {
    closeQuietly(socket);
    throw error;
  }
}

/**
 * A new unconnected UDP socket in a state of `collection`, bound to
 * `localAddress`:`localPort` (by default all interfaces and a port the system
 * picks; `state.address` tells which). Receive with asyncIoStateReceiveMessage,
 * send with asyncIoStateSendMessageToAddress. Output queues by default
 * (`queueOutput: true`). Resolves once bound; when the socket cannot be made or
 * bound, rejects with `ERR_COMMIO_BIND_FAILED` (the OS error as `cause`), or
 * resolves `null` with `errorp: false`. Bad arguments reject with
 * `ERR_COMMIO_INVALID_ARGUMENT` before anything is opened.
 */
export async function createAsyncIoStateAndUdpSocket(collection: WaitStateCollection, options?: UdpSocketOptions): Promise<AsyncIoState | null> {
  const c = checkCollection(collection);
  const plan = readPlan(checkOptions(options, UDP_KEYS), IPV6_UNCONNECTED);
  c.assertAlive();
  const where = `${plan.localAddress ?? '*'}:${plan.localPort}`;
  try {
    let family: 4 | 6 = plan.ipv6 === false || plan.ipv6 === 'any' ? 4 : 6;
    let bindAddress = plan.localAddress;
    if (plan.ipv6 === 'any' && bindAddress !== undefined) {
      // The system's choice: the family of the local address.
      const version = net.isIP(bindAddress);
      const found = version === 0 ? await lookup(bindAddress, 0) : { address: bindAddress, family: version };
      family = found.family === 6 ? 6 : 4;
      bindAddress = found.address;
    }
    return await open(c, plan, family, bindAddress, null);
  } catch (error) {
    return failed(error, plan, `cannot make a UDP socket on ${where}`);
  }
}

/**
 * A new UDP socket connected to `hostspec`:`service` in a state of
 * `collection`: sends (asyncIoStateSendMessage) go to that peer, and only its
 * datagrams are received. `hostspec` is an IP literal or a host name, looked
 * up in the family `ipv6` asks for (with `'any'`, the first address found
 * decides the socket's family). Binds `localAddress`/`localPort` when given.
 * Resolves once bound and connected; when the socket cannot be made, bound or
 * connected (a name that does not resolve, say), rejects with
 * `ERR_COMMIO_BIND_FAILED` (the OS error as `cause`), or resolves `null` with
 * `errorp: false`.
 */
export async function createAsyncIoStateAndConnectedUdpSocket(
  collection: WaitStateCollection,
  hostspec: string,
  service: number | string,
  options?: ConnectedUdpSocketOptions,
): Promise<AsyncIoState | null> {
  const c = checkCollection(collection);
  const host = checkString(hostspec, 'hostspec');
  const port = resolveService(service, 'service');
  if (port === 0) invalid('service', 'a port from 1 to 65535 to send to', service);
  const plan = readPlan(checkOptions(options, UDP_KEYS), IPV6_CONNECTED);
  c.assertAlive();
  try {
    const peer = await lookup(host, plan.ipv6 === true ? 6 : plan.ipv6 === false ? 4 : 0);
    const family: 4 | 6 = plan.ipv6 === true || (plan.ipv6 === 'any' && peer.family === 6) ? 6 : 4;
    const address = inSocketFamily(peer.address, peer.family, { family, dualStack: false });
    return await open(c, plan, family, plan.localAddress, { address, port });
  } catch (error) {
    return failed(error, plan, `cannot make a UDP socket connected to ${host}:${port}`);
  }
}
