/** Small fixtures shared by the tests: collections that always close, raw peers, promises for callbacks. */
import net from 'node:net';
import type { ExecutionContext, ImplementationFn } from 'ava';
import { nativeLoop } from '@commio/native';
import {
  acceptTcpConnectionsCreatingAsyncIoStates,
  createAndRunWaitStateCollection,
  createAsyncIoState,
  createAsyncIoStateAndConnectedTcpSocket,
  nativeTransportStatus,
  waitStateCollectionStopLoop,
  type AcceptOptions,
  type AcceptingHandle,
  type AsyncIoState,
  type ConnectionFunction,
  type CreateAsyncIoStateOptions,
  type WaitStateCollection,
  type Handler,
} from '@commio/core';

/** A running collection stopped (closing all its states and handles) when the test ends. */
export function withCollection(t: ExecutionContext, name = t.title, handler: Handler = true): WaitStateCollection {
  const collection = createAndRunWaitStateCollection(name, { handler });
  t.teardown(() => waitStateCollectionStopLoop(collection));
  return collection;
}

/** A plain `net` server on 127.0.0.1 port 0, closed (with its sockets) when the test ends. */
export async function rawServer(t: ExecutionContext, onSocket: (socket: net.Socket) => void = () => {}): Promise<{ server: net.Server; port: number; sockets: net.Socket[] }> {
  const sockets: net.Socket[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.push(socket);
    socket.on('error', () => {});
    onSocket(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  const address = server.address() as net.AddressInfo;
  return { server, port: address.port, sockets };
}

/** A plain `net` client connected to 127.0.0.1:port, destroyed when the test ends. */
export async function rawClient(t: ExecutionContext, port: number, host = '127.0.0.1'): Promise<net.Socket> {
  const socket = net.connect({ port, host, allowHalfOpen: true });
  socket.on('error', () => {});
  t.teardown(() => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return socket;
}

/**
 * A TCP port on 127.0.0.1 that refuses connections (`ECONNREFUSED`) for the
 * rest of the test. It is the local port of a connected client socket:
 * nothing listens there, so a connection attempt gets a reset, and while
 * that socket is open no other socket can bind the port. (A port listened
 * on and closed again can go to a concurrent test's server, which would
 * then accept the connection.)
 */
export async function refusingTcpPort(t: ExecutionContext): Promise<number> {
  const { port } = await rawServer(t);
  const holder = await rawClient(t, port);
  return holder.localPort as number;
}

/** Reads from a raw socket until `n` bytes arrived (or EOF); resolves with them. */
export function readBytes(socket: net.Socket, n: number): Promise<Buffer> {
  return new Promise<Buffer>((resolve) => {
    const chunks: Buffer[] = [];
    let have = 0;
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      have += chunk.length;
      if (have >= n) done();
    };
    const done = (): void => {
      socket.removeListener('data', onData);
      socket.removeListener('end', done);
      socket.removeListener('close', done);
      resolve(Buffer.concat(chunks));
    };
    socket.on('data', onData);
    socket.once('end', done);
    socket.once('close', done);
  });
}

/** A promise plus the function that resolves it: for turning callbacks into awaits. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * The transport the plain-TCP helpers put their commio states on:
 * `COMMIO_TEST_TRANSPORT=native` reruns a test file on the native transport
 * (scripts/test-suite.sh does, for the main plain-TCP files).
 */
export const testTransport: 'node' | 'native' = process.env['COMMIO_TEST_TRANSPORT'] === 'native' ? 'native' : 'node';

/** The transport the tests' states really run on: `testTransport`, but 'node' when the addon is unavailable (commio falls back). */
export function effectiveTestTransport(): 'node' | 'native' {
  return testTransport === 'native' && nativeTransportStatus().available ? 'native' : 'node';
}

/**
 * `acceptTcpConnectionsCreatingAsyncIoStates` on the transport under test
 * (`testTransport`), unless `options.transport` says otherwise.
 */
export function acceptOnTestTransport(
  collection: WaitStateCollection,
  service: Parameters<typeof acceptTcpConnectionsCreatingAsyncIoStates>[1],
  connectionFunction: ConnectionFunction,
  options: AcceptOptions = {},
): Promise<AcceptingHandle> {
  return acceptTcpConnectionsCreatingAsyncIoStates(collection, service, connectionFunction, { transport: testTransport, ...options });
}

/**
 * `test` for a test that needs the Node transport by nature (it inspects a
 * `net.Socket`, adopts one, or is TLS): registered only on the Node
 * transport run. `reason` says why, in the source where the test is.
 */
export function nodeOnly(test: (title: string, run: ImplementationFn<[]>) => void, reason: string): (title: string, run: ImplementationFn<[]>) => void {
  return (title, run) => {
    if (testTransport === 'node') test(title, run);
    else if (process.env['COMMIO_TEST_VERBOSE'] === '1') console.warn(`node transport only: ${title}: ${reason}`);
  };
}

/** `options` with `transport: testTransport`: for the accepts and connects of the plain-TCP tests. */
export function onTestTransport<T extends object>(options?: T): T & { transport: 'node' | 'native' } {
  return { ...(options as T), transport: testTransport };
}

/** The pair `statePair` gives: the state, the raw peer, and checks on what is under the state. */
export interface StatePair {
  readonly state: AsyncIoState;
  /** The raw server-side socket. */
  readonly peer: net.Socket;
  /** The raw client socket under the state (native transport: only once a keep-alive close handed one back). */
  readonly socket: net.Socket;
  readonly c: WaitStateCollection;
  /** True once the connection under the state is closed (Node: the socket is destroyed; native: the addon closed it). */
  readonly transportClosed: () => boolean;
}

/**
 * A state made with `createAsyncIoState` on a raw client socket, and the raw
 * server-side socket as its peer; in `collection`, or in a fresh one stopped
 * when the test ends. With `COMMIO_TEST_TRANSPORT=native` the state
 * connects on the native transport instead (`socket` then throws).
 */
export async function statePair(
  t: ExecutionContext,
  options?: CreateAsyncIoStateOptions,
  collection?: WaitStateCollection,
): Promise<StatePair> {
  const c = collection ?? withCollection(t);
  const accepted = deferred<net.Socket>();
  const { port } = await rawServer(t, (socket) => accepted.resolve(socket));
  if (testTransport === 'native') return nativeStatePair(t, c, port, accepted.promise, options);
  const socket = await rawClient(t, port);
  const state = createAsyncIoState(c, socket, options);
  return { state, peer: await accepted.promise, socket, c, transportClosed: () => socket.destroyed };
}

/** `statePair` on the native transport: the state connects itself; it has no net.Socket under it. */
async function nativeStatePair(
  t: ExecutionContext,
  c: WaitStateCollection,
  port: number,
  accepted: Promise<net.Socket>,
  options: CreateAsyncIoStateOptions | undefined,
): Promise<StatePair> {
  const connected = deferred<AsyncIoState>();
  createAsyncIoStateAndConnectedTcpSocket(c, '127.0.0.1', port, (s, failure) => (failure === null ? connected.resolve(s) : connected.reject(failure)), {
    ...options,
    transport: 'native',
  });
  const state = await connected.promise;
  const id = state.object as number;
  // A keep-alive close hands back a net.Socket (state.object then): the test ends with it closed.
  t.teardown(() => {
    if (state.object instanceof net.Socket) state.object.destroy();
  });
  const peer = await accepted;
  return {
    state,
    peer,
    c,
    get socket(): net.Socket {
      if (state.object instanceof net.Socket) return state.object;
      throw new Error('a state on the native transport has no net.Socket under it (until a keep-alive close hands one back)');
    },
    transportClosed: () => nativeLoop()?.owner(id) === undefined,
  };
}
