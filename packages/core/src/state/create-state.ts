/** createAsyncIoState: wrapping a socket the program already has. */
import net from 'node:net';
import { InvalidArgumentError, UnsupportedError } from '../errors.js';
import { logger } from '../debug.js';
import { checkCollection, type WaitStateCollection } from '../collection/wait-state-collection.js';
import { checkInteger, checkKeyword, checkOptions, invalid, keys, checkBoolean } from '../options/validate.js';
import { resolveStateSettings, STATE_OPTION_KEYS, type StateOptions } from '../options/state-options.js';
import { AsyncIoState, type StateSettings } from './async-io-state.js';
import type { StreamSink, StreamTransport } from '../transports/stream-transport.js';

const log = logger('state');

/** Options of createAsyncIoState. */
export interface CreateAsyncIoStateOptions extends StateOptions {
  /** The object is a UDP socket; `'connected'` a connected one. @default false */
  udp?: boolean | 'connected';
  /** For UDP: the socket is IPv6 (decides how host names are resolved when sending). */
  ipv6?: boolean;
  /** For UDP: datagrams held for the next receive before the oldest are dropped. @default 1024 */
  maxQueuedMessages?: number;
}

const CREATE_KEYS = keys(...STATE_OPTION_KEYS, 'udp', 'ipv6', 'maxQueuedMessages');
const STATE_KEYS = keys(...STATE_OPTION_KEYS);

/** The hook the UDP module installs to wrap `dgram.Socket`s. */
type UdpAdopter = (
  collection: WaitStateCollection,
  object: unknown,
  settings: StateSettings,
  connected: boolean,
  ipv6: boolean | undefined,
  maxQueuedMessages: number | undefined,
) => AsyncIoState;
let udpAdopter: UdpAdopter | null = null;

/** @internal Installed by the UDP module. */
export function registerUdpAdopter(adopter: UdpAdopter): void {
  udpAdopter = adopter;
}

/**
 * @internal Makes a state around a connected TCP socket (accept, connect,
 * createAsyncIoState): half-open allowed, paused until the first read.
 * `attach` false leaves the socket unattached, for a caller that starts TLS
 * on it at once (tls/start-tls.ts takes the socket from the attachment):
 * attaching listeners only to take them off again is work for nothing.
 */
export function adoptTcpSocket(collection: WaitStateCollection, socket: net.Socket, object: unknown, settings: StateSettings, attach = true): AsyncIoState {
  // LispWorks semantics: the peer's FIN ends our input only; we close when we choose.
  socket.allowHalfOpen = true;
  const state = new AsyncIoState(collection, object, settings);
  if (attach) state.attachTransport(socket);
  // Asking the peer's address is a syscall: only when logging is on.
  if (log.enabled) log('%s: made for %s:%s', state, socket.remoteAddress, socket.remotePort);
  return state;
}

/**
 * Wraps an existing socket in a new state of `collection`: a `net.Socket`
 * (or `tls.TLSSocket`), a `dgram.Socket` (with `udp`), or a file descriptor
 * number of a connected TCP socket. Do no I/O on the object directly until
 * the state is closed.
 */
export function createAsyncIoState(
  collection: WaitStateCollection,
  object: net.Socket | import('node:dgram').Socket | number,
  options?: CreateAsyncIoStateOptions,
): AsyncIoState {
  const c = checkCollection(collection);
  const o = checkOptions(options, CREATE_KEYS);
  const udp = checkKeyword<boolean | 'connected'>(o['udp'], 'options.udp', [true, false, 'connected'], false);
  const ipv6 = o['ipv6'] === undefined ? undefined : checkBoolean(o['ipv6'], 'options.ipv6', false);
  const maxQueuedMessages = checkInteger(o['maxQueuedMessages'], 'options.maxQueuedMessages', 1, 0x7fffffff);
  // Checked at run time: callers without types may pass anything.
  const candidate: unknown = object;
  const isDgram = typeof candidate === 'object' && candidate !== null && typeof (candidate as { send?: unknown }).send === 'function' && !(candidate instanceof net.Socket);
  if (isDgram || udp !== false) {
    if (!isDgram) invalid('object', 'a dgram.Socket when options.udp is given', object);
    const settings = resolveStateSettings(o, { queueOutput: true });
    c.assertAlive();
    if (udpAdopter === null) throw new UnsupportedError('UDP states are not available');
    return udpAdopter(c, object, settings, udp === 'connected', ipv6, maxQueuedMessages);
  }
  const settings = resolveStateSettings(o);
  if (typeof object === 'number') {
    checkInteger(object, 'object', 0, 0x7fffffff);
    c.assertAlive();
    let socket: net.Socket;
    try {
      socket = new net.Socket({ fd: object, readable: true, writable: true, allowHalfOpen: true });
    } catch (error) {
      // Not a descriptor Node.js can wrap as a stream socket (a file, a closed descriptor).
      const problem = error instanceof Error ? error.message : String(error);
      throw new InvalidArgumentError('object', `must be the descriptor of a connected socket (${problem})`);
    }
    return adoptTcpSocket(c, socket, object, settings);
  }
  if (!(object instanceof net.Socket)) invalid('object', 'a net.Socket, tls.TLSSocket, dgram.Socket or file descriptor', object);
  if (object.destroyed) invalid('object', 'an open socket', 'a destroyed socket');
  c.assertAlive();
  return adoptTcpSocket(c, object, object, settings);
}

/**
 * @internal Makes a stream state of `collection` on any transport (see
 * transports/stream-transport.ts): an in-memory pair in tests, a native
 * driver. The state attaches `handle` at once (reading off until a read
 * starts) and from then on owns it: the program must not use the handle
 * until the state is closed (with `keepAliveP`, `transport.release` hands
 * it back). `options` are the options every state creator takes; the
 * state's `object` is `handle`. Every guarantee of the API holds as long as
 * the transport keeps the rules of `StreamTransport`.
 */
export function createStateOnTransport<H>(collection: WaitStateCollection, transport: StreamTransport<H>, handle: H, options?: StateOptions): AsyncIoState {
  const c = checkCollection(collection);
  const settings = resolveStateSettings(checkOptions(options, STATE_KEYS));
  c.assertAlive();
  return stateOnTransport(c, transport, handle, settings);
}

/**
 * @internal `createStateOnTransport` with settings already checked (accept
 * and connect on the native transport). `attachedTo`: `handle` is attached
 * already, to a sink that forwards to the new state from now on (a PROXY
 * header read): the state takes it over without a second attach.
 */
export function stateOnTransport<H>(
  collection: WaitStateCollection,
  transport: StreamTransport<H>,
  handle: H,
  settings: StateSettings,
  attachedTo: { forwardTo(sink: StreamSink): void } | null = null,
): AsyncIoState {
  const state = new AsyncIoState(collection, handle, settings);
  if (attachedTo === null) state.attachTransport(handle, transport);
  else {
    state.takeAttachedTransport(handle, transport);
    attachedTo.forwardTo(state);
  }
  if (log.enabled) log('%s: made on a %s transport', state, transport.kind);
  return state;
}
