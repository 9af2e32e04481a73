import test from 'ava';
import {
  acceptTcpConnectionsCreatingAsyncIoStates,
  asyncIoStateReadWithChecking,
  asyncIoStateWriteBuffer,
  asyncIoStateDiscard,
  asyncIoSslFailureIndicatorFromFailureArgs,
  closeAcceptingHandle,
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

