import test from 'ava';
import net from 'node:net';
import tls from 'node:tls';
import {
  acceptTcpConnectionsCreatingAsyncIoStates,
  createAsyncIoStateAndConnectedTcpSocket,
  createAsyncIoState,
  asyncIoStateAttachSsl,
  asyncIoStateDetachSsl,
  asyncIoStateHandshake,
  asyncIoStateSslSetAcceptState,
  asyncIoSslFailureIndicatorFromFailureArgs,
  closeAsyncIoState,
  HandshakeFailedError,
  HandshakeTimeoutError,
} from '@commio/core';
import { createSslClientContext, createSslServerContext } from '@commio/ssl';
import { checkNoLeaksAfterAll } from './helpers/leaks.js';
import { withCollection } from './helpers/fixtures.js';
import { keyPair } from './helpers/tls-fixtures.js';

checkNoLeaksAfterAll(test);

const serverCtx = createSslServerContext({ key: keyPair().key, cert: keyPair().cert });
const clientCtx = createSslClientContext();

/** [options, expected code, what the message must name] */
const BAD: [Record<string, unknown>, string, RegExp][] = [
  [{ sslCtx: 'v2' }, 'ERR_COMMIO_UNSUPPORTED', /SSL 2\.0/],
  [{ sslCtx: 'v3' }, 'ERR_COMMIO_UNSUPPORTED', /SSL 3\.0/],
  [{ sslCtx: 'tls-v1' }, 'ERR_COMMIO_UNSUPPORTED', /TLS 1\.0/],
  [{ sslCtx: 'tls-v1-1' }, 'ERR_COMMIO_UNSUPPORTED', /TLS 1\.1/],
  [{ sslCtx: 'tls-v9' }, 'ERR_COMMIO_INVALID_ARGUMENT', /options\.sslCtx/],
  [{ sslCtx: 42 }, 'ERR_COMMIO_INVALID_ARGUMENT', /options\.sslCtx/],
  [{ sslCtx: {} }, 'ERR_COMMIO_INVALID_ARGUMENT', /options\.sslCtx/],
  [{ sslCtx: true, handshakeTimeout: -1 }, 'ERR_COMMIO_INVALID_ARGUMENT', /options\.handshakeTimeout/],
  [{ sslCtx: true, handshakeTimeout: '10' }, 'ERR_COMMIO_INVALID_ARGUMENT', /options\.handshakeTimeout/],
  [{ sslCtx: true, ctxConfigureCallback: 'x' }, 'ERR_COMMIO_INVALID_ARGUMENT', /options\.ctxConfigureCallback/],
  [{ sslCtx: true, sslConfigureCallback: 1 }, 'ERR_COMMIO_INVALID_ARGUMENT', /options\.sslConfigureCallback/],
  [{ sslCtx: true, ctxConfigureCallback: (o: tls.SecureContextOptions) => (o.minVersion = 'TLSv1') }, 'ERR_COMMIO_UNSUPPORTED', /TLS 1\.0/],
  [
    {
      sslCtx: true,
      ctxConfigureCallback: (o: tls.SecureContextOptions) => {
        o.key = keyPair().key;
        o.cert = keyPair().cert;
        o.ciphers = 'NOPE';
      },
    },
    'ERR_COMMIO_INVALID_ARGUMENT',
    /options\.sslCtx/,
  ],
];

test('accept: every bad TLS option rejects with its code before anything opens', async (t) => {
  const c = withCollection(t);
  const cases: [Record<string, unknown>, string, RegExp][] = [
    ...BAD,
    [{ sslCtx: true }, 'ERR_COMMIO_INVALID_ARGUMENT', /key and certificate/],
    [{ sslCtx: serverCtx, sslSide: 'middle' }, 'ERR_COMMIO_INVALID_ARGUMENT', /options\.sslSide/],
    [{ sslCtx: clientCtx }, 'ERR_COMMIO_INVALID_ARGUMENT', /client context/],
    [{ sslCtx: serverCtx, sslErrorCallback: 'log' }, 'ERR_COMMIO_INVALID_ARGUMENT', /options\.sslErrorCallback/],
  ];
  for (const [options, code, message] of cases) {
    const error = await t.throwsAsync(acceptTcpConnectionsCreatingAsyncIoStates(c, 0, () => {}, { address: '127.0.0.1', ...options }), { code }, JSON.stringify(Object.keys(options)));
    t.regex(error.message, message);
  }
  t.is(c.memberCount, 0);
});

test('connect: every bad TLS option throws with its code before anything opens', (t) => {
  const c = withCollection(t);
  const cases: [Record<string, unknown>, string, RegExp][] = [
    ...BAD,
    [{ sslCtx: serverCtx }, 'ERR_COMMIO_INVALID_ARGUMENT', /server context/],
    [{ sslCtx: true, tlsextHostName: 5 }, 'ERR_COMMIO_INVALID_ARGUMENT', /options\.tlsextHostName/],
    [{ sslCtx: true, tlsextHostName: '' }, 'ERR_COMMIO_INVALID_ARGUMENT', /options\.tlsextHostName/],
    [{ sslCtx: true, sslSide: 'client' }, 'ERR_COMMIO_INVALID_ARGUMENT', /options\.sslSide/],
  ];
  for (const [options, code, message] of cases) {
    t.throws(() => createAsyncIoStateAndConnectedTcpSocket(c, '127.0.0.1', 1, () => {}, options), { code, message });
  }
  t.is(c.memberCount, 0);
});

test('attach, detach, handshake: bad arguments throw before anything changes', async (t) => {
  const c = withCollection(t);
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const raw = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  raw.on('error', () => {});
  await new Promise((resolve) => raw.once('connect', resolve));
  server.on('connection', (s: net.Socket) => t.teardown(() => s.destroy()));
  const state = createAsyncIoState(c, raw);
  t.teardown(() => closeAsyncIoState(state));
  for (const [options, code, message] of [...BAD, [{ sslCtx: null }, 'ERR_COMMIO_INVALID_ARGUMENT', /options\.sslCtx/] as const, [{ sslSide: 'x' }, 'ERR_COMMIO_INVALID_ARGUMENT', /options\.sslSide/] as const, [{ sslCtx: serverCtx, nope: 1 }, 'ERR_COMMIO_INVALID_ARGUMENT', /options\.nope/] as const, [{ sslCtx: clientCtx }, 'ERR_COMMIO_INVALID_ARGUMENT', /client context/] as const]) {
    t.throws(() => asyncIoStateAttachSsl(state, () => {}, options as never), { code, message });
    t.is(state.sslSide, null);
  }
  t.throws(() => asyncIoStateAttachSsl(state, 'cb' as never), { code: 'ERR_COMMIO_INVALID_ARGUMENT', message: /callback/ });
  t.throws(() => asyncIoStateAttachSsl({} as never, () => {}), { code: 'ERR_COMMIO_INVALID_ARGUMENT', message: /state/ });
  t.throws(() => asyncIoStateHandshake(state, () => {}), { code: 'ERR_COMMIO_INVALID_ARGUMENT', message: /no TLS/ });
  t.throws(() => asyncIoStateHandshake(state, () => {}, -1), { code: 'ERR_COMMIO_INVALID_ARGUMENT', message: /timeout/ });
  t.throws(() => asyncIoStateSslSetAcceptState(state), { code: 'ERR_COMMIO_INVALID_ARGUMENT' });
  t.throws(() => asyncIoStateDetachSsl(state, null as never), { code: 'ERR_COMMIO_INVALID_ARGUMENT', message: /callback/ });
  closeAsyncIoState(state);
  t.throws(() => asyncIoStateAttachSsl(state, () => {}), { code: 'ERR_COMMIO_STATE_CLOSED' });
});

test('asyncIoSslFailureIndicatorFromFailureArgs', (t) => {
  const tlsError = Object.assign(new Error('bad certificate'), { code: 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE' });
  t.is(asyncIoSslFailureIndicatorFromFailureArgs(new HandshakeTimeoutError('slow')), 'timeout');
  t.is(asyncIoSslFailureIndicatorFromFailureArgs(new HandshakeFailedError('closed', { cause: new Error('reset'), peerClosed: true })), 'closed');
  t.is(asyncIoSslFailureIndicatorFromFailureArgs(new HandshakeFailedError('failed', { cause: tlsError })), tlsError);
  t.is(asyncIoSslFailureIndicatorFromFailureArgs(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })), null);
  t.is(asyncIoSslFailureIndicatorFromFailureArgs(null), null);
  t.is(asyncIoSslFailureIndicatorFromFailureArgs(['format', 'args']), null);
});
