/** UDP fixtures: independent `node:dgram` peers, and promises for the UDP operations' callbacks. */
import dgram from 'node:dgram';
import os from 'node:os';
import type { ExecutionContext } from 'ava';
import {
  asyncIoStateReceiveMessage,
  asyncIoStateSendMessage,
  asyncIoStateSendMessageToAddress,
  closeAsyncIoState,
  createAsyncIoStateAndUdpSocket,
  createAsyncIoStateAndConnectedUdpSocket,
  type AsyncIoState,
  type IoStatus,
  type WaitStateCollection,
  type UdpSocketOptions,
  type ConnectedUdpSocketOptions,
  type ReceiveMessageOptions,
  type SendMessageOptions,
} from '@commio/core';

/** One datagram a peer got. */
export interface Datagram {
  message: Buffer;
  from: dgram.RemoteInfo;
}

/** A plain dgram socket bound on loopback (port 0), closed when the test ends. */
export interface UdpPeer {
  socket: dgram.Socket;
  address: string;
  port: number;
  /** The next datagram (in arrival order). */
  next(): Promise<Datagram>;
  /** Sends `data` to `address`:`port`; resolves once handed to the kernel. */
  send(data: string | Uint8Array, port: number, address: string): Promise<void>;
}

/** A new peer; `type` 'udp6' binds ::1. */
export async function udpPeer(t: ExecutionContext, type: 'udp4' | 'udp6' = 'udp4', address = type === 'udp4' ? '127.0.0.1' : '::1'): Promise<UdpPeer> {
  const socket = dgram.createSocket(type);
  const arrived: Datagram[] = [];
  const waiting: ((datagram: Datagram) => void)[] = [];
  socket.on('message', (message, from) => {
    const waiter = waiting.shift();
    if (waiter !== undefined) waiter({ message, from });
    else arrived.push({ message, from });
  });
  socket.on('error', () => {});
  await new Promise<void>((resolve) => socket.bind(0, address, resolve));
  t.teardown(() => {
    try {
      socket.close();
    } catch {
      // closed by the test
    }
  });
  return {
    socket,
    address,
    port: socket.address().port,
    next: () => {
      const first = arrived.shift();
      if (first !== undefined) return Promise.resolve(first);
      return new Promise<Datagram>((resolve) => waiting.push(resolve));
    },
    send: (data, port, to) =>
      new Promise<void>((resolve, reject) => {
        socket.send(data, port, to, (error) => (error === null ? resolve() : reject(error)));
      }),
  };
}

/** True when this machine has IPv6 on its loopback (`::1`), known at once so tests can be declared or skipped. */
export function ipv6LoopbackPresent(): boolean {
  return Object.values(os.networkInterfaces()).some((list) => list?.some((info) => info.internal && info.address === '::1') === true);
}

/** An unconnected UDP state (127.0.0.1, port 0 unless the options say otherwise), closed when the test ends. */
export async function udpState(t: ExecutionContext, c: WaitStateCollection, options: UdpSocketOptions = {}): Promise<AsyncIoState> {
  const state = await createAsyncIoStateAndUdpSocket(c, { localAddress: '127.0.0.1', ...options });
  if (state === null) throw new Error('no state');
  t.teardown(() => closeAsyncIoState(state));
  return state;
}

/** A connected UDP state, closed when the test ends. */
export async function connectedUdpState(
  t: ExecutionContext,
  c: WaitStateCollection,
  host: string,
  port: number | string,
  options: ConnectedUdpSocketOptions = {},
): Promise<AsyncIoState> {
  const state = await createAsyncIoStateAndConnectedUdpSocket(c, host, port, options);
  if (state === null) throw new Error('no state');
  t.teardown(() => closeAsyncIoState(state));
  return state;
}

/** What a receive's callback got. */
export interface Received {
  count: number;
  bytes: Buffer;
  address: string | undefined;
  port: number | undefined;
  status: IoStatus;
  /** Which callback ran. */
  via: 'callback' | 'errorCallback';
  args: number;
}

/** Starts a receive into a fresh buffer of `size` bytes; resolves with what its callback got. */
export function receive(state: AsyncIoState, size = 2048, options: ReceiveMessageOptions<Buffer> = {}): Promise<Received> {
  return new Promise<Received>((resolve) => {
    const settle =
      (via: Received['via']) =>
      (...args: [AsyncIoState, Buffer, number, string?, number?]): void => {
        const [s, buffer, count, address, port] = args;
        const start = options.start ?? 0;
        resolve({ count, bytes: Buffer.from(buffer.subarray(start, start + count)), address, port, status: s.readStatus, via, args: args.length });
      };
    asyncIoStateReceiveMessage(state, Buffer.alloc(size), settle('callback'), { errorCallback: settle('errorCallback'), ...options });
  });
}

/** What a send's callback saw. */
export interface Sent {
  status: IoStatus;
  via: 'callback' | 'errorCallback';
}

function sendSettler(resolve: (sent: Sent) => void): [(s: AsyncIoState) => void, (s: AsyncIoState) => void] {
  return [(s) => resolve({ status: s.writeStatus, via: 'callback' }), (s) => resolve({ status: s.writeStatus, via: 'errorCallback' })];
}

/** asyncIoStateSendMessageToAddress as a promise of what its callback saw. */
export function sendTo(state: AsyncIoState, host: string, port: number | string, data: string | Uint8Array | Int8Array, options: SendMessageOptions = {}): Promise<Sent> {
  return new Promise<Sent>((resolve) => {
    const [callback, errorCallback] = sendSettler(resolve);
    asyncIoStateSendMessageToAddress(state, host, port, typeof data === 'string' ? Buffer.from(data) : data, callback, { errorCallback, ...options });
  });
}

/** asyncIoStateSendMessage as a promise of what its callback saw. */
export function send(state: AsyncIoState, data: string | Uint8Array | Int8Array, options: SendMessageOptions = {}): Promise<Sent> {
  return new Promise<Sent>((resolve) => {
    const [callback, errorCallback] = sendSettler(resolve);
    asyncIoStateSendMessage(state, typeof data === 'string' ? Buffer.from(data) : data, callback, { errorCallback, ...options });
  });
}

/** Waits (polling each turn of the loop, at most `withinMs`) until `condition` holds. */
export async function until(condition: () => boolean, what: string, withinMs = 5000): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise<void>((resolve) => setTimeout(resolve, 2));
  }
}

/**
 * A UDP port on 127.0.0.1 that refuses every datagram for the rest of the
 * test: the kernel answers "port unreachable" (`ECONNREFUSED` on a connected
 * socket). It is held by a socket connected to itself, so that no other
 * test can bind it meanwhile (a port bound and closed again can be handed
 * to a concurrent test's socket, which would then take the datagram
 * silently), while datagrams from any other socket find no socket to take
 * them.
 */
export async function refusingUdpPort(t: ExecutionContext): Promise<number> {
  const holder = dgram.createSocket('udp4');
  t.teardown(() => new Promise<void>((resolve) => holder.close(() => resolve())));
  await new Promise<void>((resolve) => holder.bind(0, '127.0.0.1', resolve));
  const { port } = holder.address();
  await new Promise<void>((resolve) => holder.connect(port, '127.0.0.1', resolve));
  return port;
}

/** A free UDP port on 127.0.0.1 right now (for peers that cannot report the port they bound). */
export async function freeUdpPort(): Promise<number> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(resolve));
  return port;
}
