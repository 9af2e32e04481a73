/**
 * Live statistics: acceptingHandleStats / waitStateCollectionStats after a
 * scripted set of real connections on loopback, and the diagnostics_channel
 * events with their payloads.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import net from 'node:net';
import tls from 'node:tls';
import test, { type ExecutionContext } from 'ava';
import {
  AsyncIoState,
  acceptTcpConnectionsCreatingAsyncIoStates,
  acceptingHandleStats,
  asyncIoStateAbortAndClose,
  asyncIoStateReadBuffer,
  asyncIoStateReadWithChecking,
  asyncIoStateWriteBuffer,
  closeAcceptingHandle,
  closeAsyncIoState,
  waitStateCollectionStats,
  type AcceptOptions,
  type ConnectionStats,
} from '@commio/core';
import { checkNoLeaksAfterAll } from './helpers/leaks.js';
import { withCollection, deferred, nodeOnly, onTestTransport } from './helpers/fixtures.js';
import { connectClient, echo } from './helpers/accept-helpers.js';
import { keyPair, closed, until } from './helpers/tls-fixtures.js';

checkNoLeaksAfterAll(test);

type Behaviour = (state: AsyncIoState) => void;

/** Reads 5 bytes, echoes them, then reads to the end and closes. */
const echoFiveThenEof: Behaviour = (state) => {
  asyncIoStateReadBuffer(state, Buffer.alloc(5), (s, buffer, count) => {
    asyncIoStateWriteBuffer(s, buffer.subarray(0, count), (s2) => {
      asyncIoStateReadBuffer(s2, Buffer.alloc(1), (s3) => closeAsyncIoState(s3));
    });
  });
};
/** Reads with a short timeout that runs out; closes from its callback. */
const readTimesOut: Behaviour = (state) => {
  state.readTimeout = 0.05;
  asyncIoStateReadBuffer(state, Buffer.alloc(1), (s) => closeAsyncIoState(s));
};
/** Reads until the connection fails (the client resets it). */
const readUntilFailure: Behaviour = (state) => {
  asyncIoStateReadBuffer(state, Buffer.alloc(1), (s) => closeAsyncIoState(s));
};
/** Writes more than maxQueuedOutput to a client that never reads: the second write overflows. */
const overflowOutput: Behaviour = (state) => {
  state.maxQueuedOutput = 64 * 1024;
  const big = Buffer.alloc(1024 * 1024);
  asyncIoStateWriteBuffer(state, big, () => {});
  asyncIoStateWriteBuffer(state, big, (s) => closeAsyncIoState(s));
};
/** Keeps every byte it is shown (never finishes) past maxBufferedInput. */
const keepEverything: Behaviour = (state) => {
  state.maxBufferedInput = 1024;
  asyncIoStateReadWithChecking(state, (s) => {
    if (s.readStatus !== null) closeAsyncIoState(s);
  });
};
const abortAtOnce: Behaviour = (state) => asyncIoStateAbortAndClose(state);
const closeAtOnce: Behaviour = (state) => closeAsyncIoState(state);

/** An accept whose n-th connection gets `behaviours[n]` (past them: `otherwise`). */
async function scriptedServer(t: ExecutionContext, behaviours: Behaviour[], options: AcceptOptions = {}, otherwise: Behaviour | null = null) {
  const c = withCollection(t);
  let next = 0;
  const handle = await acceptTcpConnectionsCreatingAsyncIoStates(
    c,
    0,
    (_h, connection) => {
      const behaviour = behaviours[next++] ?? otherwise;
      if (connection instanceof AsyncIoState && behaviour !== null) behaviour(connection);
    },
    onTestTransport({ address: '127.0.0.1', queueOutput: true, ...options }),
  );
  t.teardown(() => closeAcceptingHandle(handle));
  return { c, handle };
}

function zeroStats(): ConnectionStats {
  return {
    accepted: 0,
    opened: 0,
    open: 0,
    peakOpen: 0,
    closed: { eof: 0, timeout: 0, error: {}, outputOverflow: 0, bufferOverflow: 0, aborted: 0, closed: 0 },
    bytesRead: 0,
    bytesWritten: 0,
    tlsHandshakes: 0,
    tlsHandshakeFailures: 0,
    proxyHeadersRefused: 0,
    acceptErrors: 0,
    acceptsPaused: { maxConnections: 0, descriptors: 0 },
  };
}

function closedCount(stats: ConnectionStats): number {
  const c = stats.closed;
  return c.eof + c.timeout + c.outputOverflow + c.bufferOverflow + c.aborted + c.closed + Object.values(c.error).reduce((a, b) => a + b, 0);
}

test('a scripted set of connections is counted by reason: eof, timeout, reset, output overflow, buffer overflow, abort, close', async (t) => {
  const script = [echoFiveThenEof, readTimesOut, readUntilFailure, overflowOutput, keepEverything, abortAtOnce, closeAtOnce];
  const { c, handle } = await scriptedServer(t, script);
  t.deepEqual(acceptingHandleStats(handle), zeroStats());

  // One at a time, each to its end, so that the n-th connection gets the n-th behaviour.
  const eof = await connectClient(handle.localPort);
  t.teardown(() => eof.destroy());
  eof.write('hello');
  const echoed = deferred<Buffer>();
  eof.once('data', (d: Buffer) => echoed.resolve(d));
  t.is(String(await echoed.promise), 'hello');
  t.like(acceptingHandleStats(handle), { open: 1, bytesRead: 5, bytesWritten: 5 }, 'live states count their bytes too');
  eof.end();
  await closed(eof);
  await until(() => closedCount(acceptingHandleStats(handle)) === 1);

  const slow = await connectClient(handle.localPort);
  t.teardown(() => slow.destroy());
  await closed(slow);
  await until(() => closedCount(acceptingHandleStats(handle)) === 2);

  const reset = await connectClient(handle.localPort);
  await until(() => acceptingHandleStats(handle).open === 1);
  reset.resetAndDestroy();
  await until(() => closedCount(acceptingHandleStats(handle)) === 3);

  const deaf = await connectClient(handle.localPort);
  t.teardown(() => deaf.destroy());
  deaf.pause();
  await until(() => closedCount(acceptingHandleStats(handle)) === 4);
  deaf.destroy();

  const chatty = await connectClient(handle.localPort);
  t.teardown(() => chatty.destroy());
  chatty.write(Buffer.alloc(4096, 0x61));
  await closed(chatty);
  await until(() => closedCount(acceptingHandleStats(handle)) === 5);

  for (let i = 0; i < 2; i++) {
    const client = await connectClient(handle.localPort);
    t.teardown(() => client.destroy());
    await closed(client);
    await until(() => closedCount(acceptingHandleStats(handle)) === 6 + i);
  }

  const stats = acceptingHandleStats(handle);
  t.like(stats, {
    accepted: 7,
    opened: 7,
    open: 0,
    peakOpen: 1,
    closed: { eof: 1, timeout: 1, error: { ECONNRESET: 1 }, outputOverflow: 1, bufferOverflow: 1, aborted: 1, closed: 1 },
  });
  t.true(stats.bytesRead >= 5 + 1024, `bytesRead ${stats.bytesRead}`);
  t.true(stats.bytesWritten >= 5, `bytesWritten ${stats.bytesWritten}`);
  const ofCollection = waitStateCollectionStats(c);
  t.like(ofCollection, { accepted: 7, opened: 7, open: 0, closed: stats.closed, bytesRead: stats.bytesRead, bytesWritten: stats.bytesWritten });
  t.not(acceptingHandleStats(handle), acceptingHandleStats(handle), 'a new plain object each time');
});

nodeOnly(test, 'TLS runs on the Node transport')('TLS handshakes completed and failed are counted on the handle and published on commio:handshake:failure', async (t) => {
  const { key, cert } = keyPair();
  const failures: unknown[] = [];
  const onFailure = (message: unknown): void => void failures.push(message);
  diagnosticsChannel.subscribe('commio:handshake:failure', onFailure);
  t.teardown(() => diagnosticsChannel.unsubscribe('commio:handshake:failure', onFailure));
  const c = withCollection(t);
  const handle = await acceptTcpConnectionsCreatingAsyncIoStates(c, 0, echo, {
    address: '127.0.0.1',
    queueOutput: true,
    sslCtx: true,
    ctxConfigureCallback: (o) => {
      o.key = key;
      o.cert = cert;
    },
    sslErrorCallback: () => {},
  });
  t.teardown(() => closeAcceptingHandle(handle));
  const good = tls.connect({ host: '127.0.0.1', port: handle.localPort, servername: 'localhost', ca: cert });
  t.teardown(() => good.destroy());
  await new Promise<void>((resolve) => good.once('secureConnect', () => resolve()));
  const bad = await connectClient(handle.localPort);
  t.teardown(() => bad.destroy());
  bad.write('this is not a TLS client hello\r\n\r\n');
  await closed(bad);
  await until(() => acceptingHandleStats(handle).tlsHandshakeFailures === 1);
  t.like(acceptingHandleStats(handle), { accepted: 2, tlsHandshakes: 1, tlsHandshakeFailures: 1 });
  t.like(waitStateCollectionStats(c), { tlsHandshakes: 1, tlsHandshakeFailures: 1 });
  t.is(failures.length, 1);
  const [message] = failures as { state: unknown; error: Error }[];
  t.true(message?.state instanceof AsyncIoState);
  t.is((message?.error as { code?: string }).code, 'ERR_COMMIO_HANDSHAKE_FAILED');
});

nodeOnly(test, 'PROXY protocol is refused on the native transport')('PROXY headers refused are counted and published on commio:accept:error', async (t) => {
  const events: { handle: unknown; error: Error }[] = [];
  const onError = (message: unknown): void => void events.push(message as { handle: unknown; error: Error });
  diagnosticsChannel.subscribe('commio:accept:error', onError);
  t.teardown(() => diagnosticsChannel.unsubscribe('commio:accept:error', onError));
  const refused = deferred();
  const c = withCollection(t);
  const handle = await acceptTcpConnectionsCreatingAsyncIoStates(c, 0, echo, {
    address: '127.0.0.1',
    proxyProtocol: { trusted: ['127.0.0.1'], timeout: 0.3 },
    proxyErrorCallback: () => refused.resolve(),
  });
  t.teardown(() => closeAcceptingHandle(handle));
  const client = await connectClient(handle.localPort);
  t.teardown(() => client.destroy());
  client.write('GET / HTTP/1.1\r\n\r\n');
  await refused.promise;
  await closed(client);
  t.like(acceptingHandleStats(handle), { accepted: 0, proxyHeadersRefused: 1 });
  t.like(waitStateCollectionStats(c), { proxyHeadersRefused: 1 });
  t.is(events.length, 1);
  t.is(events[0]?.handle, handle);
  t.is((events[0]?.error as { code?: string }).code, 'ERR_COMMIO_PROXY_PROTOCOL');
});

test('accepts held at maxConnections are counted, with the peak of open connections', async (t) => {
  const states: AsyncIoState[] = [];
  const c = withCollection(t);
  const handle = await acceptTcpConnectionsCreatingAsyncIoStates(c, 0, (_h, s) => void states.push(s as AsyncIoState), onTestTransport({
    address: '127.0.0.1',
    maxConnections: 2,
  }));
  t.teardown(() => closeAcceptingHandle(handle));
  const clients: net.Socket[] = [];
  for (let i = 0; i < 2; i++) {
    const client = await connectClient(handle.localPort);
    t.teardown(() => client.destroy());
    clients.push(client);
  }
  await until(() => states.length === 2);
  t.like(acceptingHandleStats(handle), { open: 2, peakOpen: 2, acceptsPaused: { maxConnections: 1, descriptors: 0 } });
  for (const state of states) closeAsyncIoState(state);
  await until(() => handle.accepting);
  const third = await connectClient(handle.localPort);
  t.teardown(() => third.destroy());
  await until(() => states.length === 3);
  t.like(acceptingHandleStats(handle), { accepted: 3, open: 1, peakOpen: 2, closed: { closed: 2 } });
});

test('commio:state:open and commio:state:close carry the state, the reason, the error code and the bytes', async (t) => {
  const opened: unknown[] = [];
  const closedEvents: { state: unknown; reason: string; code: string | null; bytesRead: number; bytesWritten: number }[] = [];
  const onOpen = (message: unknown): void => void opened.push((message as { state: unknown }).state);
  const onClose = (message: unknown): void => void closedEvents.push(message as (typeof closedEvents)[number]);
  diagnosticsChannel.subscribe('commio:state:open', onOpen);
  diagnosticsChannel.subscribe('commio:state:close', onClose);
  t.teardown(() => diagnosticsChannel.unsubscribe('commio:state:open', onOpen));
  t.teardown(() => diagnosticsChannel.unsubscribe('commio:state:close', onClose));
  const { c, handle } = await scriptedServer(t, [echoFiveThenEof, readUntilFailure]);
  // Other tests of this file run at the same time: only this collection's states count.
  const ours = (state: unknown): boolean => state instanceof AsyncIoState && state.collection === c;
  const first = await connectClient(handle.localPort);
  t.teardown(() => first.destroy());
  first.end('hello');
  await closed(first);
  const second = await connectClient(handle.localPort);
  await until(() => acceptingHandleStats(handle).accepted === 2);
  second.resetAndDestroy();
  await until(() => closedEvents.filter((e) => ours(e.state)).length === 2);
  const mine = closedEvents.filter((e) => ours(e.state));
  t.is(opened.filter(ours).length, 2);
  t.true(mine.every((e) => opened.includes(e.state)));
  t.like(mine[0], { reason: 'eof', code: null, bytesRead: 5, bytesWritten: 5 });
  t.like(mine[1], { reason: 'error', code: 'ECONNRESET', bytesRead: 0 });
  t.true(mine[0]?.state instanceof AsyncIoState);
});

test('the snapshots refuse what is not a handle or a collection', (t) => {
  t.throws(() => acceptingHandleStats({} as never), { code: 'ERR_COMMIO_INVALID_ARGUMENT' });
  t.throws(() => waitStateCollectionStats(null as never), { code: 'ERR_COMMIO_INVALID_ARGUMENT' });
});

test('under a reset storm and a wave of silent peers every connection is counted once, by its reason', async (t) => {
  const RESETS = 200;
  const SILENT = 100;
  // The silent peers (first) get a read that times out, the others one that ends with their reset.
  const { handle } = await scriptedServer(t, Array<Behaviour>(SILENT).fill(readTimesOut), { maxConnections: 1000 }, readUntilFailure);
  const silent: net.Socket[] = [];
  t.teardown(() => silent.forEach((s) => s.destroy()));
  for (let i = 0; i < SILENT; i++) silent.push(await connectClient(handle.localPort));
  await until(() => acceptingHandleStats(handle).accepted === SILENT);
  for (let i = 0; i < RESETS; i++) {
    const client = await connectClient(handle.localPort);
    await until(() => acceptingHandleStats(handle).accepted === SILENT + i + 1);
    client.resetAndDestroy();
  }
  await until(() => closedCount(acceptingHandleStats(handle)) === RESETS + SILENT, 5000);
  const stats = acceptingHandleStats(handle);
  t.like(stats, { accepted: RESETS + SILENT, open: 0, closed: { timeout: SILENT, error: { ECONNRESET: RESETS }, eof: 0, aborted: 0 } });
  t.log(`peak open ${stats.peakOpen}, closed ${JSON.stringify(stats.closed)}`);
});
