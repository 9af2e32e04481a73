import test from 'ava';
import {
  acceptTcpConnectionsCreatingAsyncIoStates,
  asyncIoStateReadWithChecking,
  asyncIoStateWriteBuffer,
  asyncIoStateDiscard,
  asyncIoSslFailureIndicatorFromFailureArgs,
  closeAcceptingHandle,
  closeAsyncIoState,
  type AsyncIoState,
  type AcceptingHandle,
} from '@commio/core';
import { checkNoLeaksAfterAll } from './helpers/leaks.js';
import { withCollection, deferred } from './helpers/fixtures.js';
import { keyPair, tlsClient, silentClient, closed } from './helpers/tls-fixtures.js';

checkNoLeaksAfterAll(test);

/** A TLS echo server made with accept + sslCtx: true + ctxConfigureCallback. */
async function echoServer(t: import('ava').ExecutionContext, extra: Record<string, unknown> = {}): Promise<{ handle: AcceptingHandle; states: AsyncIoState[]; errors: Error[] }> {
  const c = withCollection(t);
  const states: AsyncIoState[] = [];
  const errors: Error[] = [];
  const { key, cert } = keyPair();
  const handle = await acceptTcpConnectionsCreatingAsyncIoStates(
    c,
    0,
    (_h, s) => {
      const state = s as AsyncIoState;
      states.push(state);
      const echo = (st: AsyncIoState, buffer: Uint8Array, end: number): void => {
        if (end > 0) {
          const copy = Buffer.from(buffer.subarray(0, end));
          asyncIoStateDiscard(st, end);
          asyncIoStateWriteBuffer(st, copy, () => {});
        }
      };
      asyncIoStateReadWithChecking(state, echo as never);
    },
    {
      address: '127.0.0.1',
      sslCtx: true,
      ctxConfigureCallback: (o) => {
        o.key = key;
        o.cert = cert;
      },
      sslErrorCallback: (error) => errors.push(error),
      ...extra,
    },
  );
  t.teardown(() => closeAcceptingHandle(handle));
  return { handle, states, errors };
}

test('accept with sslCtx: handshake with a node:tls client and echo', async (t) => {
  const { handle, states } = await echoServer(t);
  const client = await tlsClient(t, handle.localPort);
  t.is(client.getProtocol(), 'TLSv1.3');
  const got = deferred<string>();
  client.once('data', (d) => got.resolve(String(d)));
  client.write('hello over tls');
  t.is(await got.promise, 'hello over tls');
  t.is(states.length, 1);
  const state = states[0] as AsyncIoState;
  t.is(state.sslSide, 'server');
  t.truthy(state.ssl);
  t.truthy(state.ctx);
  t.is(state.peerAddress?.address, '127.0.0.1');
});

test('a silent peer is closed at handshakeTimeout with indicator timeout', async (t) => {
  const { handle, states, errors } = await echoServer(t, { handshakeTimeout: 0.15 });
  const started = Date.now();
  const peer = await silentClient(t, handle.localPort);
  await closed(peer);
  t.true(Date.now() - started >= 100);
  await new Promise((r) => setImmediate(r));
  t.is(errors.length, 1);
  t.is((errors[0] as Error & { code: string }).code, 'ERR_COMMIO_HANDSHAKE_TIMEOUT');
  t.is(asyncIoSslFailureIndicatorFromFailureArgs(errors[0]), 'timeout');
  t.is(states.length, 0);
});

test('a peer that sends garbage gets sslErrorCallback and the server serves the next client', async (t) => {
  const { handle, errors } = await echoServer(t);
  const bad = await silentClient(t, handle.localPort);
  bad.write('GET / HTTP/1.0\r\n\r\n');
  await closed(bad);
  t.is(errors.length, 1);
  const indicator = asyncIoSslFailureIndicatorFromFailureArgs(errors[0]);
  t.true(indicator instanceof Error);
  t.is((indicator as Error & { code: string }).code, 'ERR_SSL_HTTP_REQUEST');
  const client = await tlsClient(t, handle.localPort);
  const got = deferred<string>();
  client.once('data', (d) => got.resolve(String(d)));
  client.write('next');
  t.is(await got.promise, 'next');
});

test('a TLS 1.1-only client is refused', async (t) => {
  const { handle, errors } = await echoServer(t);
  const error = await t.throwsAsync(tlsClient(t, handle.localPort, { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0' }));
  t.regex(String((error as Error & { code?: string }).code), /PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL|NO_PROTOCOLS/);
  await new Promise((r) => setTimeout(r, 20));
  t.is(errors.length, 1);
  t.regex(String(((asyncIoSslFailureIndicatorFromFailureArgs(errors[0]) as Error & { code?: string }).code)), /UNSUPPORTED_PROTOCOL/);
});

test('a peer that closes during the handshake gives indicator closed', async (t) => {
  const { handle, errors } = await echoServer(t);
  const peer = await silentClient(t, handle.localPort);
  peer.end();
  await closed(peer);
  for (let i = 0; i < 50 && errors.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
  t.is(asyncIoSslFailureIndicatorFromFailureArgs(errors[0]), 'closed');
});


test('sslConfigureCallback sees each TLS socket before its handshake; a throw there fails the connection', async (t) => {
  const seen: string[] = [];
  const { handle, errors } = await echoServer(t, {
    sslConfigureCallback: (socket: import('node:tls').TLSSocket) => {
      seen.push(socket.getFinished() === undefined ? 'before handshake' : 'after');
      if (seen.length === 2) throw new Error('configure refused');
    },
  });
  const client = await tlsClient(t, handle.localPort);
  const echoed = deferred<string>();
  client.once('data', (d) => echoed.resolve(String(d)));
  client.write('x');
  t.is(await echoed.promise, 'x');
  t.deepEqual(seen, ['before handshake']);
  client.destroy();
  await t.throwsAsync(tlsClient(t, handle.localPort));
  for (let i = 0; i < 100 && errors.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
  t.is((errors[0] as Error & { code: string }).code, 'ERR_COMMIO_HANDSHAKE_FAILED');
  t.is(((errors[0] as Error).cause as Error).message, 'configure refused');
});

test('without sslErrorCallback a failed handshake goes to the collection handler, with the handle', async (t) => {
  const reported = deferred<[unknown, unknown]>();
  const c = withCollection(t, t.title, (object, error) => reported.resolve([object, error]));
  const { key, cert } = keyPair();
  const handle = await acceptTcpConnectionsCreatingAsyncIoStates(c, 0, () => {}, {
    address: '127.0.0.1',
    sslCtx: true,
    ctxConfigureCallback: (o) => {
      o.key = key;
      o.cert = cert;
    },
  });
  t.teardown(() => closeAcceptingHandle(handle));
  const bad = await silentClient(t, handle.localPort);
  bad.write('garbage garbage garbage\r\n');
  const [object, error] = await reported.promise;
  t.is(object, handle);
  t.is(asyncIoSslFailureIndicatorFromFailureArgs(error) instanceof Error, true);
});

test("createState false is ignored with sslCtx (a state is made); sslSide 'both' hands the state over before any handshake", async (t) => {
  const c = withCollection(t);
  const { key, cert } = keyPair();
  const got = deferred<unknown>();
  const handle = await acceptTcpConnectionsCreatingAsyncIoStates(c, 0, (_h, s) => got.resolve(s), {
    address: '127.0.0.1',
    createState: false,
    sslSide: 'both',
    sslCtx: true,
    ctxConfigureCallback: (o) => {
      o.key = key;
      o.cert = cert;
    },
  });
  t.teardown(() => closeAcceptingHandle(handle));
  await silentClient(t, handle.localPort);
  const state = (await got.promise) as AsyncIoState;
  t.is(state.sslSide, 'both');
  t.is(state.ssl, null);
});

test('closing a TLS state with keepAliveP hands back the connection with TLS still up', async (t) => {
  const { handle, states } = await echoServer(t);
  const client = await tlsClient(t, handle.localPort);
  const first = deferred<string>();
  client.once('data', (d) => first.resolve(String(d)));
  client.write('one');
  t.is(await first.promise, 'one');
  const state = states[0] as AsyncIoState;
  const tlsSocket = state.ssl as import('node:tls').TLSSocket;
  closeAsyncIoState(state, { keepAliveP: true });
  t.true(state.closed);
  t.is(state.ssl, tlsSocket);
  t.false(tlsSocket.destroyed);
  const second = deferred<string>();
  client.once('data', (d) => second.resolve(String(d)));
  tlsSocket.write('still encrypted');
  t.is(await second.promise, 'still encrypted');
  tlsSocket.destroy();
});
