/**
 * The Node.js internals commio reaches (packages/core/src/node-internals.ts)
 * are all there on this Node.js, and each works as commio uses it on real
 * sockets. This file fails loudly, naming the internal, on a Node.js where one
 * has gone: run it on every new Node.js line.
 */
import test from 'ava';
import net from 'node:net';
import tls from 'node:tls';
import { Readable } from 'node:stream';
import {
  activeHandles,
  createServerHandle,
  markNoDelay,
  noDelayOnListener,
  nodeInternals,
  peerChainError,
  readableEndedNow,
  releaseTlsControl,
  serverHandleOf,
  socketDescriptor,
  socketWriteQueueSize,
  startClientHandshake,
} from '../packages/core/src/node-internals.js';
import { checkNoLeaksAfterAll } from './helpers/leaks.js';
import { rawServer, rawClient } from './helpers/fixtures.js';
import { keyPair } from './helpers/tls-fixtures.js';

checkNoLeaksAfterAll(test);

const EXPECTED = [
  'net._createServerHandle',
  'server._handle',
  'process._getActiveHandles',
  'socket._handle.fd',
  'socket._handle.writeQueueSize',
  'socket[kSetNoDelay]',
  'server._handle.setNoDelay',
  'TLSSocket#_start',
  'TLSSocket#_releaseControl',
  'tlsSocket._handle.verifyError',
  'readable._readableState.ended',
];

function missingOnes(): string[] {
  return nodeInternals()
    .filter((i) => i.present === false)
    .map((i) => `${i.name} (without it: ${i.without})`);
}

test.serial('every internal is known, each says what commio does without it, and none checked at load is missing', (t) => {
  t.deepEqual(nodeInternals().map((i) => i.name).sort(), [...EXPECTED].sort());
  for (const i of nodeInternals()) t.true(i.without.length > 0, i.name);
  t.deepEqual(missingOnes(), [], `Node.js ${process.version} lacks internals commio uses`);
});

test.serial('the server-handle factory binds, re-opens on its descriptor, listens, pauses and resumes', (t) => {
  t.not(createServerHandle, null, `Node.js ${process.version} has no net._createServerHandle`);
  if (createServerHandle === null) return;
  const handle = createServerHandle('127.0.0.1', 0, 4);
  if (typeof handle === 'number') return t.fail(`the factory failed with ${handle}`);
  try {
    t.is(typeof handle.fd, 'number');
    t.true(handle.fd >= 0);
    t.is(handle.open(handle.fd), 0, 'open on its own descriptor (what makes it pausable)');
    t.is(handle.listen(16), 0);
    t.is(handle.readStop(), 0);
    t.is(handle.readStart(), 0);
    t.true(Array.isArray(activeHandles()));
  } finally {
    handle.close();
  }
});

test.serial('TCP_NODELAY on a listening handle before it listens, and the kSetNoDelay flag of a socket', (t) => {
  if (createServerHandle === null) return t.fail(`Node.js ${process.version} has no net._createServerHandle`);
  const handle = createServerHandle('127.0.0.1', 0, 4);
  if (typeof handle === 'number') return t.fail(`the factory failed with ${handle}`);
  try {
    t.is(noDelayOnListener(handle), process.platform === 'linux', 'set on Linux, where accepted sockets take it over');
  } finally {
    handle.close();
  }
  const socket = new net.Socket();
  markNoDelay(socket);
  const flag = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'kSetNoDelay');
  t.is(flag === undefined ? undefined : (socket as unknown as Record<symbol, unknown>)[flag], true);
  socket.destroy();
});

test.serial('server._handle, socket._handle.fd and writeQueueSize on live sockets', async (t) => {
  const { server, port, sockets } = await rawServer(t);
  const handle = serverHandleOf(server);
  t.not(handle, null);
  t.is(typeof handle?.readStop, 'function');
  const client = await rawClient(t, port);
  t.true(socketDescriptor(client) >= 0);
  t.is(socketWriteQueueSize(client), 0);
  await new Promise<void>((resolve) => (sockets.length > 0 ? resolve() : server.once('connection', () => resolve())));
  t.true(socketDescriptor(sockets[0] as net.Socket) >= 0);
  client.destroy();
  t.is(socketDescriptor(client), -1, 'a closed socket has no descriptor');
  t.is(socketWriteQueueSize(client), null);
});

test.serial('a client TLS socket commio makes: _start runs the handshake, verifyError checks the chain, _releaseControl hands errors over', async (t) => {
  const pair = keyPair();
  const server = tls.createServer({ key: pair.key, cert: pair.cert }, (socket) => socket.on('error', () => {}).end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const port = (server.address() as net.AddressInfo).port;
  for (const trusted of [true, false]) {
    const raw = await rawClient(t, port);
    const socket = new tls.TLSSocket(raw, { isServer: false, secureContext: tls.createSecureContext(trusted ? { ca: pair.cert } : {}) });
    socket.on('error', () => {});
    t.teardown(() => socket.destroy());
    (socket as tls.TLSSocket & { setServername(name: string): void }).setServername('localhost');
    const secure = new Promise<void>((resolve) => socket.once('secure', () => resolve()));
    t.true(startClientHandshake(socket), 'TLSSocket#_start');
    await secure;
    const problem = peerChainError(socket);
    if (trusted) t.is(problem, null, 'a trusted chain verifies');
    else t.like(problem, { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }, 'an untrusted one does not');
    releaseTlsControl(socket);
    socket.destroy();
  }
  t.deepEqual(missingOnes(), []);
});

test.serial('_readableState.ended turns true when EOF is pushed, before end is emitted', (t) => {
  const stream = new Readable({ read() {} });
  stream.push(null);
  t.false(stream.readableEnded, 'the public flag waits for the end event');
  t.true(readableEndedNow(stream));
});

test.serial('after the live checks, every internal is present on this Node.js', (t) => {
  const report = nodeInternals();
  const unknown = report.filter((i) => i.present === null).map((i) => i.name);
  t.deepEqual(unknown, [], 'every handle-level internal was seen on a live handle');
  t.deepEqual(missingOnes(), [], `Node.js ${process.version} lacks internals commio uses`);
});
