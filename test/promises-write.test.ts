/**
 * `@commio/core/promises`, the rest: write and shutdown, connect, attachSsl
 * (STARTTLS) and UDP, on real loopback sockets; each with its abort through
 * `signal`, its timeout and its failure.
 */
import test from 'ava';
import {
  closeAsyncIoState,
  createAsyncIoStateAndUdpSocket,
  HandshakeFailedError,
  InvalidArgumentError,
  OperationInProgressError,
  ReadTimeoutError,
  StateClosedError,
  WriteTimeoutError,
} from '@commio/core';
import { attachSsl, connect, readUntil, receiveMessage, sendMessage, sendMessageToAddress, shutdown, write } from '@commio/core/promises';
import { createSslClientContext, createSslServerContext } from '@commio/ssl';
import { checkNoLeaksAfterAll } from './helpers/leaks.js';
import { nodeOnly, onTestTransport, readBytes, refusingTcpPort, statePair, withCollection } from './helpers/fixtures.js';
import { plainServer, statePairOverTcp } from './helpers/commio-pair.js';
import { keyPair } from './helpers/tls-fixtures.js';
import { connectedUdpState, udpState } from './helpers/udp-peers.js';

checkNoLeaksAfterAll(test);

/** More than loopback's socket buffers hold, so a write to a peer that does not read stays pending. */
const LARGE = 64 * 1024 * 1024;

test('write resolves once handed to the kernel; shutdown output resolves after FIN, and the state still reads', async (t) => {
  const { state, peer } = await statePair(t);
  const received = readBytes(peer, Infinity);
  await write(state, Buffer.from('<hello world>'), { start: 1, end: 12 });
  await shutdown(state, 'output');
  t.is((await received).toString(), 'hello world', 'the peer saw the bytes, then EOF');
  peer.end('answer\n');
  t.is(Buffer.from((await readUntil(state, '\n')) ?? []).toString(), 'answer\n');
});

test('write misuse rejects with the typed error; without queueOutput a second write in flight is refused', async (t) => {
  const { state } = await statePair(t);
  await t.throwsAsync(write(state, 'text' as unknown as Uint8Array), { instanceOf: InvalidArgumentError });
  await t.throwsAsync(write(state, Buffer.alloc(4), { end: 9 }), { instanceOf: InvalidArgumentError, message: /options\.end/ });
  const first = write(state, Buffer.alloc(LARGE));
  await t.throwsAsync(write(state, Buffer.alloc(1)), { instanceOf: OperationInProgressError });
  closeAsyncIoState(state);
  // Closed under it: a closed state never calls back, so the promise layer rejects it.
  await t.throwsAsync(first, { instanceOf: StateClosedError });
  await t.throwsAsync(write(state, Buffer.alloc(1)), { instanceOf: StateClosedError });
  await t.throwsAsync(shutdown(state, 'output'), { instanceOf: StateClosedError });
});

test('a signal aborts every write in flight on the state, each rejecting with its reason', async (t) => {
  const { state } = await statePair(t, { queueOutput: true, maxQueuedOutput: 2 * LARGE });
  const controller = new AbortController();
  const reason = new Error('cancelled');
  const first = write(state, Buffer.alloc(LARGE), { signal: controller.signal });
  const second = write(state, Buffer.alloc(16));
  controller.abort(reason);
  t.is(await t.throwsAsync(first), reason);
  t.is(await t.throwsAsync(second), reason, 'the abort ended the queued write too, as asyncIoStateAbort does');
  await t.throwsAsync(write(state, Buffer.alloc(1), { signal: controller.signal }), { is: reason });
});

test('a write that cannot complete in time rejects with WriteTimeoutError; a reset peer fails the next write', async (t) => {
  const { state, peer } = await statePair(t, { queueOutput: true, maxQueuedOutput: 2 * LARGE });
  const error = await t.throwsAsync(write(state, Buffer.alloc(LARGE), { timeout: 0.1 }), { instanceOf: WriteTimeoutError });
  t.is(error.code, 'ERR_COMMIO_WRITE_TIMEOUT');
  t.true(error.bytesWritten >= 0 && error.bytesWritten < LARGE);
  state.writeTimeout = null;
  peer.resetAndDestroy();
  const failure = await t.throwsAsync(async () => {
    for (;;) await write(state, Buffer.alloc(65536));
  });
  t.regex(String((failure as NodeJS.ErrnoException).code), /^(ECONNRESET|EPIPE)$/);
});

test('shutdown input with a read active rejects unless abort: true; a signal stops the wait', async (t) => {
  const { state } = await statePair(t);
  const reading = readUntil(state, '\n');
  await t.throwsAsync(shutdown(state, 'input'), { instanceOf: OperationInProgressError });
  await shutdown(state, 'input', { abort: true });
  await t.throwsAsync(reading, { any: true, name: 'AbortError' });
  t.is(await readUntil(state, '\n'), null, 'reads see EOF');
  const controller = new AbortController();
  controller.abort(new Error('no wait'));
  await t.throwsAsync(shutdown(state, 'output', { signal: controller.signal }), { message: 'no wait' });
});

test('connect resolves with a connected state; a refused port rejects with ECONNREFUSED; a signal closes the attempt', async (t) => {
  const c = withCollection(t);
  const server = await plainServer(t, c);
  const state = await connect(c, '127.0.0.1', server.port, onTestTransport({ name: 'promise client' }));
  t.teardown(() => closeAsyncIoState(state));
  const peer = await server.next();
  await write(peer, Buffer.from('hi\n'));
  t.is(Buffer.from((await readUntil(state, '\n')) ?? []).toString(), 'hi\n');

  const closedPort = await refusingTcpPort(t);
  const refused = await t.throwsAsync(connect(c, '127.0.0.1', closedPort, onTestTransport()));
  t.is((refused as NodeJS.ErrnoException).code, 'ECONNREFUSED');
  await t.throwsAsync(connect(c, '127.0.0.1', server.port, { connectTimout: 1 } as never), { instanceOf: InvalidArgumentError });

  const controller = new AbortController();
  const attempt = connect(c, '127.0.0.1', server.port, onTestTransport({ signal: controller.signal }));
  controller.abort(new Error('gave up'));
  await t.throwsAsync(attempt, { message: 'gave up' });
});

nodeOnly(test, 'TLS runs on the Node transport')('attachSsl runs STARTTLS on both ends; a certificate that does not verify rejects; a signal closes the state', async (t) => {
  // TLS runs on the Node transport.
  const { client, srv } = await statePairOverTcp(t, 'node');
  const pair = keyPair();
  await Promise.all([
    attachSsl(srv, { sslCtx: createSslServerContext({ key: pair.key, cert: pair.cert }) }),
    attachSsl(client, { sslSide: 'client', sslCtx: createSslClientContext({ ca: pair.cert }), tlsextHostName: 'localhost' }),
  ]);
  await write(client, Buffer.from('secret\n'));
  t.is(Buffer.from((await readUntil(srv, '\n')) ?? []).toString(), 'secret\n');

  const second = await statePairOverTcp(t, 'node');
  const other = keyPair('elsewhere');
  const [, failure] = await Promise.allSettled([
    attachSsl(second.srv, { sslCtx: createSslServerContext({ key: pair.key, cert: pair.cert }) }),
    attachSsl(second.client, { sslSide: 'client', sslCtx: createSslClientContext({ ca: other.cert }), tlsextHostName: 'localhost' }),
  ]);
  t.is(failure.status, 'rejected');
  t.true(failure.status === 'rejected' && failure.reason instanceof HandshakeFailedError);

  const third = await statePairOverTcp(t, 'node');
  const controller = new AbortController();
  const attaching = attachSsl(third.srv, { sslCtx: createSslServerContext({ key: pair.key, cert: pair.cert }), signal: controller.signal });
  controller.abort(new Error('no TLS today'));
  await t.throwsAsync(attaching, { message: 'no TLS today' });
  t.true(third.srv.closed);
});

nodeOnly(test, 'UDP is not a stream transport')('UDP: a datagram round trip with the sender address; a receive timeout; aborted receive and send', async (t) => {
  const c = withCollection(t);
  const server = await udpState(t, c);
  const port = server.address?.port ?? 0;
  const client = await connectedUdpState(t, c, '127.0.0.1', port);
  await sendMessage(client, Buffer.from('xpingx'), { start: 1, end: 5 });
  const buffer = Buffer.alloc(64);
  const got = await receiveMessage(server, buffer);
  t.is(buffer.toString('latin1', 0, got.count), 'ping');
  t.is(got.address, '127.0.0.1');
  t.is(got.port, client.address?.port ?? -1);
  await sendMessageToAddress(server, got.address, got.port, Buffer.from('pong'));
  const reply = await receiveMessage(client, buffer);
  t.is(buffer.toString('latin1', 0, reply.count), 'pong');

  await t.throwsAsync(receiveMessage(server, buffer, { timeout: 0.05 }), { instanceOf: ReadTimeoutError });
  server.readTimeout = null;
  const controller = new AbortController();
  const receiving = receiveMessage(server, buffer, { signal: controller.signal });
  controller.abort(new Error('stop listening'));
  await t.throwsAsync(receiving, { message: 'stop listening' });

  const sender = await createAsyncIoStateAndUdpSocket(c, { localAddress: '127.0.0.1' });
  if (sender === null) throw new Error('no state');
  t.teardown(() => closeAsyncIoState(sender));
  const sendAbort = new AbortController();
  const sending = sendMessageToAddress(sender, '127.0.0.1', port, Buffer.from('late'), { signal: sendAbort.signal });
  sendAbort.abort(new Error('unsent'));
  await t.throwsAsync(sending, { message: 'unsent' });
  const connectedAbort = new AbortController();
  const sendingConnected = sendMessage(client, Buffer.from('late too'), { signal: connectedAbort.signal });
  connectedAbort.abort(new Error('unsent too'));
  await t.throwsAsync(sendingConnected, { message: 'unsent too' });
  await t.throwsAsync(sendMessage(sender, Buffer.from('x')), { code: 'ERR_COMMIO_UNSUPPORTED' } as never, 'an unconnected state needs an address');
  await t.throwsAsync(write(server, Buffer.from('x')), { code: 'ERR_COMMIO_UNSUPPORTED' } as never);
});
