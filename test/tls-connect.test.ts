import test from 'ava';
import {
  createAsyncIoStateAndConnectedTcpSocket,
  asyncIoStateWriteBuffer,
  asyncIoStateReadBuffer,
  asyncIoSslFailureIndicatorFromFailureArgs,
  closeAsyncIoState,
  type AsyncIoState,
  type ConnectOptions,
} from '@commio/core';
import { createSslClientContext } from '@commio/ssl';
import { checkNoLeaksAfterAll } from './helpers/leaks.js';
import { withCollection, deferred, rawServer, refusingTcpPort } from './helpers/fixtures.js';
import { keyPair, tlsEchoServer, until } from './helpers/tls-fixtures.js';

checkNoLeaksAfterAll(test);

function connect(t: import('ava').ExecutionContext, host: string, port: number, options: ConnectOptions): Promise<{ state: AsyncIoState; failure: Error | null }> {
  const c = withCollection(t);
  const done = deferred<{ state: AsyncIoState; failure: Error | null }>();
  const state = createAsyncIoStateAndConnectedTcpSocket(c, host, port, (s, failure) => done.resolve({ state: s, failure }), options);
  t.teardown(() => closeAsyncIoState(state));
  return done.promise;
}

function echo(state: AsyncIoState, text: string): Promise<string> {
  const reply = deferred<string>();
  const out = Buffer.from(text);
  asyncIoStateWriteBuffer(state, out, () => {
    const into = Buffer.alloc(out.length);
    asyncIoStateReadBuffer(state, into, (_s, b, n) => reply.resolve(Buffer.from(b).toString('utf8', 0, n)));
  });
  return reply.promise;
}

test('connect with sslCtx: handshake, verification against the CA, echo', async (t) => {
  const { port } = await tlsEchoServer(t);
  const ctx = createSslClientContext({ ca: keyPair().cert });
  const { state, failure } = await connect(t, '127.0.0.1', port, { sslCtx: ctx, tlsextHostName: 'localhost' });
  t.is(failure, null);
  t.is(state.sslSide, 'client');
  t.is(state.ssl?.getProtocol(), 'TLSv1.3');
  t.true(state.ssl?.authorized);
  t.is(await echo(state, 'ping over tls'), 'ping over tls');
});

test('client verification failure reaches the callback with the TLS error as cause', async (t) => {
  const { port } = await tlsEchoServer(t);
  // sslCtx true: the system's roots, which do not know our self-signed certificate.
  const { state, failure } = await connect(t, '127.0.0.1', port, { sslCtx: true });
  t.is((failure as Error & { code: string }).code, 'ERR_COMMIO_HANDSHAKE_FAILED');
  const cause = (failure as Error).cause as Error & { code: string };
  t.is(cause.code, 'DEPTH_ZERO_SELF_SIGNED_CERT');
  t.is(asyncIoSslFailureIndicatorFromFailureArgs(failure), cause);
  t.true(state.closed);
});

test('a certificate for another host name is refused', async (t) => {
  const { port } = await tlsEchoServer(t);
  const ctx = createSslClientContext({ ca: keyPair().cert });
  const { failure } = await connect(t, '127.0.0.1', port, { sslCtx: ctx, tlsextHostName: 'other.example' });
  t.is(((failure as Error).cause as Error & { code: string }).code, 'ERR_TLS_CERT_ALTNAME_INVALID');
});

test('verification opt-outs: verify false, and rejectUnauthorized false through ctxConfigureCallback', async (t) => {
  const { port } = await tlsEchoServer(t);
  const a = await connect(t, '127.0.0.1', port, { sslCtx: createSslClientContext({ verify: false }) });
  t.is(a.failure, null);
  t.false(a.state.ssl?.authorized);
  const b = await connect(t, '127.0.0.1', port, {
    sslCtx: true,
    ctxConfigureCallback: (o) => {
      o.rejectUnauthorized = false;
    },
  });
  t.is(b.failure, null);
  t.is(await echo(b.state, 'x'), 'x');
});

test('tlsExtHostName: a string and true send SNI; absent and IP literals send none', async (t) => {
  const { port, servernames } = await tlsEchoServer(t);
  const ctx = createSslClientContext({ ca: keyPair().cert });
  t.is((await connect(t, '127.0.0.1', port, { sslCtx: ctx, tlsextHostName: 'localhost' })).failure, null);
  t.is((await connect(t, 'localhost', port, { sslCtx: ctx, tlsextHostName: true, ipv6: false })).failure, null);
  t.is((await connect(t, '127.0.0.1', port, { sslCtx: ctx, tlsextHostName: true })).failure, null);
  t.is((await connect(t, '127.0.0.1', port, { sslCtx: ctx })).failure, null);
  await until(() => servernames.length === 4);
  t.deepEqual(servernames, ['localhost', 'localhost', false, false]);
});

test('a server that never answers the handshake: timeout with indicator timeout; refused: indicator null', async (t) => {
  const { port } = await rawServer(t);
  const { state, failure } = await connect(t, '127.0.0.1', port, { sslCtx: true, handshakeTimeout: 0.1 });
  t.is((failure as Error & { code: string }).code, 'ERR_COMMIO_HANDSHAKE_TIMEOUT');
  t.is(asyncIoSslFailureIndicatorFromFailureArgs(failure), 'timeout');
  t.true(state.closed);
  const refused = await connect(t, '127.0.0.1', await refusingTcpPort(t), { sslCtx: true });
  t.is((refused.failure as Error & { code: string }).code, 'ECONNREFUSED');
  t.is(asyncIoSslFailureIndicatorFromFailureArgs(refused.failure), null);
});

test('operations wait for the handshake: a read before the callback throws', async (t) => {
  const { port } = await tlsEchoServer(t);
  const c = withCollection(t);
  const done = deferred<Error | null>();
  const state = createAsyncIoStateAndConnectedTcpSocket(c, '127.0.0.1', port, (_s, f) => done.resolve(f), {
    sslCtx: createSslClientContext({ ca: keyPair().cert, servername: 'localhost' }),
  });
  t.teardown(() => closeAsyncIoState(state));
  t.throws(() => asyncIoStateReadBuffer(state, Buffer.alloc(1), () => {}), { code: 'ERR_COMMIO_OPERATION_IN_PROGRESS' });
  t.is(await done.promise, null);
  t.is(await echo(state, 'after'), 'after');
});
