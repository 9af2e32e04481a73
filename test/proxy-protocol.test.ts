/**
 * The PROXY protocol on real sockets: behind a real HAProxy (`send-proxy`
 * and `send-proxy-v2`, plain and TLS) the state sees the real client's
 * address; bytes sent with the header are kept for the first read (plain,
 * and as the start of the TLS ClientHello); and a hostile-header suite
 * (truncated, oversize, wrong signature, unknown version, trickled byte by
 * byte, untrusted source, random bytes) where nothing is handed over, every
 * refusal is reported with its reason, and nothing is left open.
 */
import tls from 'node:tls';
import { Duplex } from 'node:stream';
import test, { type ExecutionContext } from 'ava';
import fc from 'fast-check';
import {
  acceptTcpConnectionsCreatingAsyncIoStates,
  AsyncIoState,
  ProxyProtocolError,
  type AcceptingHandle,
  type AcceptOptions,
  type ProxyProtocolFailure,
} from '@commio/core';
import { checkNoLeaksAfterAll } from './helpers/leaks.js';
import { withCollection, deferred, readBytes, testTransport, effectiveTestTransport } from './helpers/fixtures.js';
import { echo, roundTrip, connectClient } from './helpers/accept-helpers.js';
import { keyPair, closed, until } from './helpers/tls-fixtures.js';
import { haproxyPath, startHaproxy } from './helpers/haproxy.js';

checkNoLeaksAfterAll(test);

const HAPROXY = haproxyPath();
const haproxyTest = HAPROXY === null ? test.skip : test;
if (HAPROXY === null) console.log('haproxy is not installed (apt-get install haproxy): the HAProxy tests are skipped');

interface ProxiedServer {
  handle: AcceptingHandle;
  states: AsyncIoState[];
  errors: ProxyProtocolError[];
  /** Resolves with the next refusal. */
  nextError(): Promise<ProxyProtocolError>;
}

/** An echo server behind the PROXY protocol, recording the states it was handed and the refusals. */
async function proxiedEchoServer(t: ExecutionContext, options: AcceptOptions = {}): Promise<ProxiedServer> {
  const c = withCollection(t);
  const states: AsyncIoState[] = [];
  const errors: ProxyProtocolError[] = [];
  let waiting: ((error: ProxyProtocolError) => void)[] = [];
  const handle = await acceptTcpConnectionsCreatingAsyncIoStates(
    c,
    0,
    (h, connection) => {
      if (connection instanceof AsyncIoState) states.push(connection);
      echo(h, connection);
    },
    {
      address: '127.0.0.1',
      queueOutput: true,
      maxConnections: 1000,
      proxyProtocol: { trusted: ['127.0.0.1'], timeout: 0.3 },
      // Plain TCP on the transport under test (COMMIO_TEST_TRANSPORT); TLS on Node's.
      transport: options.sslCtx === undefined ? testTransport : 'node',
      proxyErrorCallback: (error) => {
        if (!(error instanceof ProxyProtocolError)) throw error;
        errors.push(error);
        for (const resolve of waiting.splice(0)) resolve(error);
      },
      ...options,
    },
  );
  const nextError = (): Promise<ProxyProtocolError> => new Promise((resolve) => waiting.push(resolve));
  t.teardown(() => {
    waiting = [];
  });
  return { handle, states, errors, nextError };
}

/** Accept options for TLS with the test key pair. */
function tlsOptions(): AcceptOptions {
  const { key, cert } = keyPair();
  return {
    sslCtx: true,
    ctxConfigureCallback: (o) => {
      o.key = key;
      o.cert = cert;
    },
  };
}

for (const sendProxy of ['send-proxy', 'send-proxy-v2'] as const) {
  haproxyTest(`behind HAProxy (${sendProxy}): the state sees the real client's address and port`, async (t) => {
    const server = await proxiedEchoServer(t);
    const haproxy = await startHaproxy(t, server.handle.localPort, sendProxy);
    const client = await connectClient(haproxy.port);
    t.teardown(() => client.destroy());
    t.is(await roundTrip(client, 'hello through the proxy'), 'hello through the proxy');
    const [state] = server.states;
    if (state === undefined) return t.fail('no state');
    t.deepEqual(state.peerAddress, { address: '127.0.0.1', port: client.localPort, family: 'IPv4' });
    const header = state.proxyHeader;
    t.like(header, { version: sendProxy === 'send-proxy' ? 1 : 2, command: 'proxy' });
    t.deepEqual(header?.destination, { address: '127.0.0.1', port: haproxy.port, family: 'IPv4' });
    // The connection itself is the proxy's (a native state has no Node socket to ask).
    if (state.socket !== null) t.not(state.peerAddress?.port, state.socket.remotePort, 'the socket itself is connected to the proxy');
    t.deepEqual(server.errors, []);
  });
}

haproxyTest('behind HAProxy (send-proxy-v2) with TLS: the header is read before the handshake', async (t) => {
  const { cert } = keyPair();
  const server = await proxiedEchoServer(t, tlsOptions());
  const haproxy = await startHaproxy(t, server.handle.localPort, 'send-proxy-v2');
  const client = tls.connect({ host: '127.0.0.1', port: haproxy.port, servername: 'localhost', ca: cert });
  t.teardown(() => client.destroy());
  await new Promise<void>((resolve, reject) => {
    client.once('secureConnect', resolve);
    client.once('error', reject);
  });
  t.is(await roundTrip(client, 'secret'), 'secret');
  const [state] = server.states;
  t.deepEqual(state?.peerAddress, { address: '127.0.0.1', port: client.localPort, family: 'IPv4' });
  t.is(state?.sslSide, 'server');
  t.is(state?.proxyHeader?.version, 2);
});

test('bytes sent with the header are kept for the first read', async (t) => {
  const server = await proxiedEchoServer(t);
  const client = await connectClient(server.handle.localPort);
  t.teardown(() => client.destroy());
  const echoed = readBytes(client, 'first bytes'.length);
  // The client address the header claims: field values, not sockets (both ends listen and connect on ports the system chose).
  client.write('PROXY TCP4 203.0.113.7 127.0.0.1 40000 80\r\nfirst bytes');
  t.is((await echoed).toString(), 'first bytes');
  t.deepEqual(server.states[0]?.peerAddress, { address: '203.0.113.7', port: 40000, family: 'IPv4' });
  t.is(server.states[0]?.socket === null, effectiveTestTransport() === 'native', 'on the transport under test');
});

test('with TLS, the bytes after the header are the start of the ClientHello', async (t) => {
  const { cert } = keyPair();
  const server = await proxiedEchoServer(t, tlsOptions());
  const raw = await connectClient(server.handle.localPort);
  t.teardown(() => raw.destroy());
  // The TLS client's first flight goes out in the same write (one segment) as the header.
  let header: Buffer | null = Buffer.from('PROXY TCP6 2001:db8::5 ::1 5555 443\r\n');
  const carrier = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, callback) {
      const bytes = header === null ? chunk : Buffer.concat([header, chunk]);
      header = null;
      raw.write(bytes, callback);
    },
    final(callback) {
      raw.end(callback);
    },
  });
  raw.on('data', (chunk: Buffer) => carrier.push(chunk));
  raw.on('end', () => carrier.push(null));
  const client = tls.connect({ socket: carrier, servername: 'localhost', ca: cert });
  t.teardown(() => client.destroy());
  await new Promise<void>((resolve, reject) => {
    client.once('secureConnect', resolve);
    client.once('error', reject);
  });
  t.is(await roundTrip(client, 'over tls'), 'over tls');
  t.deepEqual(server.states[0]?.peerAddress, { address: '2001:db8::5', port: 5555, family: 'IPv6' });
});

test('a LOCAL header (a health check) keeps the proxy\'s own address', async (t) => {
  const server = await proxiedEchoServer(t);
  const client = await connectClient(server.handle.localPort);
  t.teardown(() => client.destroy());
  const local = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x20, 0x00, 0x00, 0x00]);
  client.write(local);
  t.is(await roundTrip(client, 'ping'), 'ping');
  const state = server.states[0];
  t.deepEqual(state?.peerAddress, { address: '127.0.0.1', port: client.localPort, family: 'IPv4' });
  t.like(state?.proxyHeader, { version: 2, command: 'local', source: null, destination: null });
});

/** Sends `chunks` (one write each, waiting for each to be flushed), then expects a refusal with `reason` and the connection closed. */
async function refused(t: ExecutionContext, server: ProxiedServer, chunks: Buffer[], reason: ProxyProtocolFailure, end = false): Promise<void> {
  const error = server.nextError();
  const client = await connectClient(server.handle.localPort);
  t.teardown(() => client.destroy());
  client.setNoDelay(true);
  const gone = closed(client);
  for (const chunk of chunks) {
    if (client.destroyed) break;
    await new Promise<void>((resolve) => client.write(chunk, () => resolve()));
  }
  if (end && !client.destroyed) client.end();
  const e = await error;
  t.true(e instanceof ProxyProtocolError);
  t.is(e.code, 'ERR_COMMIO_PROXY_PROTOCOL');
  t.is(e.reason, reason, e.message);
  await gone;
}

const V2 = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const bytesOf = (text: string): Buffer[] => [...Buffer.from(text)].map((b) => Buffer.from([b]));

test('hostile headers: each is refused with its reason, nothing is handed over, nothing stays open', async (t) => {
  const server = await proxiedEchoServer(t);
  await refused(t, server, [Buffer.from('GET / HTTP/1.1\r\n\r\n')], 'malformed');
  await refused(t, server, [Buffer.from(`PROXY UNKNOWN ${'x'.repeat(200)}`)], 'oversize');
  await refused(t, server, [Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n')], 'malformed');
  await refused(t, server, [Buffer.concat([V2, Buffer.from([0x31, 0x11, 0x00, 0x0c]), Buffer.alloc(12)])], 'version');
  await refused(t, server, [Buffer.from('PROXY TCP4 1.2.3.4')], 'timeout');
  await refused(t, server, [Buffer.from('PROXY TCP4 1.2.3.4')], 'closed', true);
  // A v2 header announcing more than it sends.
  await refused(t, server, [Buffer.concat([V2, Buffer.from([0x21, 0x11, 0x01, 0xf4]), Buffer.alloc(20)])], 'timeout');
  // Trickled byte by byte: refused at the first wrong byte, or at the bound.
  await refused(t, server, bytesOf('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\r'), 'malformed');
  await refused(t, server, bytesOf(`PROXY UNKNOWN ${'y'.repeat(100)}`), 'oversize');
  t.deepEqual(server.states, [], 'no state was handed over');
  await until(() => server.handle.openConnections === 0);
  t.is(server.handle.openConnections, 0);
});

test('a valid header trickled byte by byte is read whole', async (t) => {
  const server = await proxiedEchoServer(t);
  const client = await connectClient(server.handle.localPort);
  t.teardown(() => client.destroy());
  client.setNoDelay(true);
  for (const byte of bytesOf('PROXY TCP4 198.51.100.9 127.0.0.1 1234 80\r\n')) await new Promise<void>((resolve) => client.write(byte, () => resolve()));
  t.is(await roundTrip(client, 'after'), 'after');
  t.deepEqual(server.states[0]?.peerAddress, { address: '198.51.100.9', port: 1234, family: 'IPv4' });
});

test('an untrusted source is refused before a byte is read', async (t) => {
  const server = await proxiedEchoServer(t, { proxyProtocol: { trusted: ['10.0.0.0/8', 'fd00::/8'] } });
  await refused(t, server, [Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n')], 'untrusted');
  t.deepEqual(server.states, []);
});

test('without proxyErrorCallback a refusal goes to the collection\'s handler; the server goes on', async (t) => {
  const got = deferred<unknown>();
  const c = withCollection(t, 'handler', (_owner, error) => got.resolve(error));
  const handle = await acceptTcpConnectionsCreatingAsyncIoStates(c, 0, echo, {
    address: '127.0.0.1',
    queueOutput: true,
    proxyProtocol: { trusted: ['127.0.0.1'] },
    transport: testTransport,
  });
  const bad = await connectClient(handle.localPort);
  t.teardown(() => bad.destroy());
  bad.write('hello');
  t.like(await got.promise, { code: 'ERR_COMMIO_PROXY_PROTOCOL', reason: 'malformed' });
  const good = await connectClient(handle.localPort);
  t.teardown(() => good.destroy());
  good.write('PROXY UNKNOWN\r\n');
  t.is(await roundTrip(good, 'still serving'), 'still serving');
});

test('fuzz on real sockets: random and mutated headers never reach the connection function, and every connection is closed', async (t) => {
  const server = await proxiedEchoServer(t, { proxyProtocol: { trusted: ['127.0.0.1'], timeout: 0.1 } });
  const valid = Buffer.from('PROXY TCP4 192.0.2.1 192.0.2.2 1 2\r\n');
  const hostile = fc.oneof(
    fc.uint8Array({ minLength: 1, maxLength: 200 }).map((b) => Buffer.from(b)),
    fc.nat(valid.length - 1).map((n) => valid.subarray(0, n + 1)),
    fc.tuple(fc.nat(valid.length - 3), fc.constantFrom(0x00, 0x0a, 0x7f, 0x20)).map(([at, byte]) => {
      const b = Buffer.from(valid);
      b[at + 1] = byte;
      return b;
    }),
    fc.uint8Array({ minLength: 1, maxLength: 80 }).map((tail) => Buffer.concat([V2, Buffer.from(tail)])),
  );
  await fc.assert(
    fc.asyncProperty(hostile, async (bytes) => {
      const before = server.states.length;
      const client = await connectClient(server.handle.localPort);
      const gone = closed(client);
      client.write(bytes);
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([gone.then(() => 'closed'), new Promise((resolve) => (timer = setTimeout(resolve, 3000, 'open')))]);
      clearTimeout(timer);
      client.destroy();
      // A mutation can still be a valid header (a changed port digit): then it was handed over, as it should.
      return outcome === 'closed' || server.states.length > before;
    }),
    { numRuns: 40 },
  );
  for (const state of server.states) t.true(state.proxyHeader !== null);
  await until(() => server.handle.openConnections === 0);
  t.is(server.handle.openConnections, 0);
});

test('proxyProtocol is checked before anything is opened', async (t) => {
  const c = withCollection(t);
  await t.throwsAsync(acceptTcpConnectionsCreatingAsyncIoStates(c, 0, echo, { proxyProtocol: { trusted: ['10.0.0.300'] } }), {
    code: 'ERR_COMMIO_INVALID_ARGUMENT',
  });
  await t.throwsAsync(acceptTcpConnectionsCreatingAsyncIoStates(c, 0, echo, { proxyProtocol: { trusted: [] }, createState: false }), {
    code: 'ERR_COMMIO_INVALID_ARGUMENT',
  });
});
