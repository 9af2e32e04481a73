import test from 'ava';
import crypto from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import {
  acceptTcpConnectionsCreatingAsyncIoStates,
  asyncIoStateAttachSsl,
  asyncIoStateDetachSsl,
  asyncIoStateHandshake,
  asyncIoStateSslSetAcceptState,
  asyncIoStateSslSetConnectState,
  asyncIoStateReadWithChecking,
  asyncIoStateDiscard,
  asyncIoStateFinish,
  asyncIoStateWriteBuffer,
  closeAcceptingHandle,
  closeAsyncIoState,
  type AsyncIoState,
} from '@commio/core';
import { createSslClientContext, createSslServerContext } from '@commio/ssl';
import { checkNoLeaksAfterAll } from './helpers/leaks.js';
import { withCollection, deferred } from './helpers/fixtures.js';
import { plainServer, statePairOverTcp } from './helpers/commio-pair.js';
import { keyPair, readUntil, writeAll, SpliceDuplex } from './helpers/tls-fixtures.js';

checkNoLeaksAfterAll(test);

function attach(state: AsyncIoState, options: Parameters<typeof asyncIoStateAttachSsl>[2]): Promise<Error | null> {
  const done = deferred<Error | null>();
  asyncIoStateAttachSsl(state, (_s, failure) => done.resolve(failure), options);
  return done.promise;
}

function detach(state: AsyncIoState): Promise<void> {
  const done = deferred();
  asyncIoStateDetachSsl(state, () => done.resolve());
  return done.promise;
}

const serverCtx = (): ReturnType<typeof createSslServerContext> => createSslServerContext({ key: keyPair().key, cert: keyPair().cert });

test('STARTTLS with a node:tls client: ClientHello in the same TCP chunk as the last plain line; close_notify and plain bytes in one chunk', async (t) => {
  const c = withCollection(t);
  const server = await plainServer(t, c);
  const raw = net.connect({ host: '127.0.0.1', port: server.port });
  raw.on('error', () => {});
  t.teardown(() => raw.destroy());
  await new Promise((resolve) => raw.once('connect', resolve));
  const splice = new SpliceDuplex(raw, Buffer.from('hello plain\nSTARTTLS\n'));
  const client = tls.connect({ socket: splice, servername: 'localhost', ca: keyPair().cert });
  client.on('error', () => {});
  t.teardown(() => client.destroy());

  const state = await server.next();
  t.is((await readUntil(state, 'STARTTLS\n')).toString(), 'hello plain\nSTARTTLS\n');
  // The ClientHello came with the plain line: it waits, buffered, for TLS.
  t.true(state.bufferedDataLength > 0);
  t.is(await attach(state, { sslCtx: serverCtx() }), null);
  t.is(state.sslSide, 'server');
  t.is(state.ssl?.getProtocol(), 'TLSv1.3');

  client.write('secret 1\nsecret 2\nDONE\n');
  t.is((await readUntil(state, 'DONE\n')).toString(), 'secret 1\nsecret 2\nDONE\n');
  // The client ends TLS; its close_notify and the next plain bytes leave in one TCP write.
  splice.appendToNextWrite(Buffer.from('plain again\nEND\n'));
  client.end();
  await detach(state);
  t.is(state.sslSide, null);
  t.is(state.ssl, null);
  t.is((await readUntil(state, 'END\n')).toString(), 'plain again\nEND\n');
  t.is(state.bufferedDataLength, 0);
  t.is(state.peerAddress?.address, '127.0.0.1');
  // Plain output reaches the raw socket after the server's close_notify.
  const plainOut = deferred<Buffer>();
  let seen = Buffer.alloc(0);
  raw.on('data', (d: Buffer) => {
    seen = Buffer.concat([seen, d]);
    if (seen.includes('bye\n')) plainOut.resolve(seen);
  });
  await writeAll(state, Buffer.from('bye\n'));
  t.true((await plainOut.promise).subarray(-4).equals(Buffer.from('bye\n')));
});

/** Random bytes in random-sized writes; resolves once all are written. */
async function sendChunks(state: AsyncIoState, bytes: Buffer): Promise<void> {
  for (let at = 0; at < bytes.length; ) {
    const n = Math.min(bytes.length - at, 1 + crypto.randomInt(20000));
    await writeAll(state, bytes.subarray(at, at + n));
    at += n;
  }
}

test('STARTTLS and back between two commio states: exact byte accounting in both directions', async (t) => {
  const { client, srv } = await statePairOverTcp(t);

  // A loop of read-with-checking calls that consume everything until n bytes came.
  const readN = (state: AsyncIoState, n: number): Promise<Buffer> =>
    new Promise<Buffer>((resolve, reject) => {
      const got: Buffer[] = [];
      let have = 0;
      const onBytes = (s: AsyncIoState, view: Uint8Array, end: number): void => {
        const take = Math.min(end, n - have);
        if (take > 0) got.push(Buffer.from(view.subarray(0, take)));
        have += take;
        if (have === n) {
          asyncIoStateFinish(s, take);
          resolve(Buffer.concat(got));
          return;
        }
        if (s.readStatus !== null) {
          reject(new Error(`read ended with ${String(s.readStatus)} after ${have} of ${n}`));
          return;
        }
        // Keep nothing: drop what was taken and wait for more in the same operation.
        asyncIoStateDiscard(s, take);
      };
      asyncIoStateReadWithChecking(state, onBytes as never);
    });

  const plain1Up = crypto.randomBytes(50_000);
  const plain1Down = crypto.randomBytes(30_000);
  const tlsUp = crypto.randomBytes(300_000);
  const tlsDown = crypto.randomBytes(200_000);
  const plain2Up = crypto.randomBytes(40_000);
  const plain2Down = crypto.randomBytes(60_000);

  // Plain phase, both directions at once.
  const [gotUp1, gotDown1] = await Promise.all([readN(srv, plain1Up.length), readN(client, plain1Down.length), sendChunks(client, plain1Up), sendChunks(srv, plain1Down)]);
  t.true(gotUp1.equals(plain1Up));
  t.true(gotDown1.equals(plain1Down));

  // Upgrade: both sides attach; the client verifies the server.
  const [srvFailure, cliFailure] = await Promise.all([
    attach(srv, { sslCtx: serverCtx() }),
    attach(client, { sslSide: 'client', sslCtx: createSslClientContext({ ca: keyPair().cert }), tlsextHostName: 'localhost' }),
  ]);
  t.is(srvFailure, null);
  t.is(cliFailure, null);
  t.true(client.ssl?.authorized);
  const [gotUp2, gotDown2] = await Promise.all([readN(srv, tlsUp.length), readN(client, tlsDown.length), sendChunks(client, tlsUp), sendChunks(srv, tlsDown)]);
  t.true(gotUp2.equals(tlsUp));
  t.true(gotDown2.equals(tlsDown));

  // Back to plain: both detach at once, then plain bytes flow again.
  await Promise.all([detach(srv), detach(client)]);
  t.is(srv.ssl, null);
  t.is(client.ssl, null);
  const [gotUp3, gotDown3] = await Promise.all([readN(srv, plain2Up.length), readN(client, plain2Down.length), sendChunks(client, plain2Up), sendChunks(srv, plain2Down)]);
  t.true(gotUp3.equals(plain2Up));
  t.true(gotDown3.equals(plain2Down));
  t.is(srv.bufferedDataLength, 0);
  t.is(client.bufferedDataLength, 0);
});

test("sslSide 'both': attach without a handshake, choose the role, then asyncIoStateHandshake", async (t) => {
  const { client, srv } = await statePairOverTcp(t);
  t.is(await attach(srv, { sslSide: 'both', sslCtx: serverCtx() }), null);
  t.is(srv.sslSide, 'both');
  t.is(srv.ssl, null);
  t.throws(() => asyncIoStateWriteBuffer(srv, Buffer.from('x'), () => {}), { code: 'ERR_COMMIO_OPERATION_IN_PROGRESS' });
  t.throws(() => asyncIoStateHandshake(srv, () => {}), { code: 'ERR_COMMIO_INVALID_ARGUMENT' });
  t.is(await attach(client, { sslSide: 'both', sslCtx: createSslClientContext({ ca: keyPair().cert, servername: 'localhost' }) }), null);
  asyncIoStateSslSetAcceptState(srv);
  asyncIoStateSslSetConnectState(client);
  const handshake = (s: AsyncIoState): Promise<Error | null> => {
    const done = deferred<Error | null>();
    asyncIoStateHandshake(s, (_s, f) => done.resolve(f), 0.5);
    return done.promise;
  };
  t.deepEqual(await Promise.all([handshake(srv), handshake(client)]), [null, null]);
  t.is(srv.ssl?.getProtocol(), 'TLSv1.3');
  await writeAll(client, Buffer.from('after both\n'));
  t.is((await readUntil(srv, '\n')).toString(), 'after both\n');
  // A handshake on an established session succeeds at once.
  t.is(await handshake(srv), null);
});

test('attach on a busy state throws; detach of accept-made TLS is unsupported; detach without TLS just calls back', async (t) => {
  const { c, client, srv } = await statePairOverTcp(t);
  asyncIoStateReadWithChecking(srv, () => {});
  t.throws(() => asyncIoStateAttachSsl(srv, () => {}, { sslCtx: serverCtx() }), { code: 'ERR_COMMIO_OPERATION_IN_PROGRESS' });
  t.is(srv.sslSide, null);
  await detach(client);
  t.is(client.sslSide, null);

  const tlsHandle = await acceptTcpConnectionsCreatingAsyncIoStates(
    c,
    0,
    (_h, s) => {
      const state = s as AsyncIoState;
      t.teardown(() => closeAsyncIoState(state));
      t.throws(() => asyncIoStateDetachSsl(state, () => {}), { code: 'ERR_COMMIO_UNSUPPORTED' });
      accepted.resolve();
    },
    { address: '127.0.0.1', sslCtx: serverCtx() },
  );
  const accepted = deferred();
  t.teardown(() => closeAcceptingHandle(tlsHandle));
  const peer = tls.connect({ host: '127.0.0.1', port: tlsHandle.localPort, ca: keyPair().cert, servername: 'localhost' });
  peer.on('error', () => {});
  t.teardown(() => peer.destroy());
  await accepted.promise;
  t.pass();
});

test('a failed attach leaves the state without TLS, the connection destroyed and readStatus set', async (t) => {
  const c = withCollection(t);
  const server = await plainServer(t, c);
  const raw = net.connect({ host: '127.0.0.1', port: server.port });
  raw.on('error', () => {});
  t.teardown(() => raw.destroy());
  const srv = await server.next();
  // The bytes are in the server's receive queue once the write completes on
  // loopback: the attach then fails on them, whatever the machine's load.
  await new Promise<void>((resolve) => raw.write('this is not TLS at all\r\n', () => resolve()));
  const error = await attach(srv, { sslCtx: serverCtx(), handshakeTimeout: 10 });
  t.is((error as Error & { code: string }).code, 'ERR_COMMIO_HANDSHAKE_FAILED');
  t.is(srv.sslSide, null);
  t.false(srv.closed);
  t.true(srv.readStatus instanceof Error);
  const timedOut = await plainServer(t, c);
  const raw2 = net.connect({ host: '127.0.0.1', port: timedOut.port });
  raw2.on('error', () => {});
  t.teardown(() => raw2.destroy());
  const srv2 = await timedOut.next();
  const error2 = await attach(srv2, { sslCtx: serverCtx(), handshakeTimeout: 0.1 });
  t.is((error2 as Error & { code: string }).code, 'ERR_COMMIO_HANDSHAKE_TIMEOUT');
  t.is(srv2.readStatus, 'timeout');
});
