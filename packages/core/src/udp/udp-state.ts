/**
 * Making a UDP state around a bound `dgram.Socket`, for the UDP creators
 * and for `createAsyncIoState(c, socket, { udp })` (the adopter registered
 * here), and finding the UDP part of a state for the UDP operations.
 */
import type dgram from 'node:dgram';
import { logger } from '../debug.js';
import { InvalidArgumentError, UnsupportedError } from '../errors.js';
import type { WaitStateCollection } from '../collection/wait-state-collection.js';
import { AsyncIoState, type StateSettings } from '../state/async-io-state.js';
import { registerUdpAdopter } from '../state/create-state.js';
import { UdpTransport, type UdpTransportSettings } from './udp-transport.js';

const log = logger('udp');

/** @internal A new state of `collection` around the bound (and, if `settings.connected`, connected) `socket`. */
export function makeUdpState(
  collection: WaitStateCollection,
  socket: dgram.Socket,
  settings: StateSettings,
  udp: UdpTransportSettings,
  maxQueuedMessages: number | undefined,
): AsyncIoState {
  const state = new AsyncIoState(collection, socket, settings);
  if (maxQueuedMessages !== undefined) state.maxQueuedMessages = maxQueuedMessages;
  state.kind = new UdpTransport(state, socket, udp);
  if (log.enabled) {
    const local = state.address;
    const peer = state.peerAddress;
    log('%s: made on %s:%d%s', state, local?.address, local?.port, peer === null ? '' : ` connected to ${peer.address}:${peer.port}`);
  }
  return state;
}

/** @internal The UDP part of `state`; throws `ERR_COMMIO_UNSUPPORTED` on a TCP state. */
export function udpOf(state: AsyncIoState, what: string): UdpTransport {
  const udp = state.kind;
  if (!(udp instanceof UdpTransport)) throw new UnsupportedError(`${String(state)} is not a UDP state: ${what} needs one`);
  return udp;
}

/** The socket's local family, or null when it is not bound (or closed). */
function boundFamily(socket: dgram.Socket): 4 | 6 | null {
  try {
    return socket.address().family === 'IPv6' ? 6 : 4;
  } catch {
    return null;
  }
}

function isConnected(socket: dgram.Socket): boolean {
  try {
    socket.remoteAddress();
    return true;
  } catch {
    return false;
  }
}

/**
 * Wraps a `dgram.Socket` the program already has. It must be bound (wait for
 * its 'listening' event). Whether it is connected is read from the socket
 * (which decides the send function that works); `udp: 'connected'` on an
 * unconnected socket, or an `ipv6` that disagrees with its family, is an
 * error.
 */
function adoptDgramSocket(
  collection: WaitStateCollection,
  object: unknown,
  settings: StateSettings,
  connected: boolean,
  ipv6: boolean | undefined,
  maxQueuedMessages: number | undefined,
): AsyncIoState {
  const socket = object as dgram.Socket;
  const family = boundFamily(socket);
  if (family === null) throw new InvalidArgumentError('object', "must be a bound, open dgram.Socket (wait for its 'listening' event)");
  const isPeerSet = isConnected(socket);
  if (connected && !isPeerSet) throw new InvalidArgumentError('options.udp', "is 'connected' but the socket is not connected");
  if (ipv6 !== undefined && ipv6 !== (family === 6)) {
    throw new InvalidArgumentError('options.ipv6', `is ${ipv6} but the socket is ${family === 6 ? 'IPv6' : 'IPv4'}`);
  }
  return makeUdpState(collection, socket, settings, { connected: isPeerSet, family, dualStack: false }, maxQueuedMessages);
}

registerUdpAdopter(adoptDgramSocket);
