/**
 * The stream adapters: asyncIoStateToDuplex and asyncIoStateToWebStreams on
 * real loopback connections: 32 MiB through gzip both ways with a SHA-256
 * check, backpressure in both directions with bounded memory, FIN, errors
 * and destroy.
 */
import test, { type ExecutionContext } from 'ava';
import crypto from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CompressionStream, DecompressionStream } from 'node:stream/web';
import zlib from 'node:zlib';
import {
  asyncIoStateToDuplex,
  asyncIoStateToWebStreams,
  closeAsyncIoState,
  createAsyncIoStateAndUdpSocket,
  InvalidArgumentError,
  StateClosedError,
  UnsupportedError,
  type AsyncIoState,
} from '@commio/core';
import { checkNoLeaksAfterAll } from './helpers/leaks.js';
import { readBytes, statePair } from './helpers/fixtures.js';
import { statePairOverTcp } from './helpers/commio-pair.js';
import { until } from './helpers/tls-fixtures.js';

checkNoLeaksAfterAll(test);

const MiB = 1024 * 1024;
const TOTAL = 32 * MiB;
/** What a state holds with no read active (its 64 KiB read-ahead) plus one chunk in flight. */
const STATE_BOUND = 128 * 1024;

/** `total` bytes, 1 MiB at a time: half random, half text, so gzip has work to do both ways. */
function source(total: number): { stream: Readable; digest: () => string } {
  const hash = crypto.createHash('sha256');
  let sent = 0;
  const stream = new Readable({
    read() {
      if (sent === total) {
        this.push(null);
        return;
      }
      const block = Buffer.alloc(MiB, `block ${sent / MiB} of the transfer; `);
      crypto.randomFillSync(block, 0, MiB / 2);
      sent += MiB;
      hash.update(block);
      this.push(block);
    },
  });
  return { stream, digest: () => hash.digest('hex') };
}

/** A sink hashing what it gets. */
function hashSink(): { stream: Writable; result: () => { digest: string; bytes: number } } {
  const hash = crypto.createHash('sha256');
  let bytes = 0;
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      bytes += chunk.length;
      callback();
    },
  });
  return { stream, result: () => ({ digest: hash.digest('hex'), bytes }) };
}

/** Resolves after `n` turns of Node's loop. */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** The server end: decompress what arrives and send it back compressed, through a Duplex. */
function gzipEchoWithDuplex(state: AsyncIoState): Promise<void> {
  const duplex = asyncIoStateToDuplex(state);
  return pipeline(duplex, zlib.createGunzip(), zlib.createGzip({ level: 1 }), duplex);
}

/** The server end through web streams. */
function gzipEchoWithWebStreams(state: AsyncIoState): Promise<void> {
  const { readable, writable } = asyncIoStateToWebStreams(state);
  return readable
    .pipeThrough(new DecompressionStream('gzip'))
    .pipeThrough(new CompressionStream('gzip'))
    .pipeTo(writable);
}

async function checkGzipRoundTrip(t: ExecutionContext, client: 'duplex' | 'web', total: number): Promise<void> {
  const { client: clientState, srv } = await statePairOverTcp(t);
  const server = client === 'duplex' ? gzipEchoWithWebStreams(srv) : gzipEchoWithDuplex(srv);
  const data = source(total);
  const sink = hashSink();
  if (client === 'duplex') {
    const duplex = asyncIoStateToDuplex(clientState);
    await Promise.all([
      pipeline(data.stream, zlib.createGzip({ level: 1 }), duplex),
      pipeline(duplex, zlib.createGunzip(), sink.stream),
      server,
    ]);
  } else {
    const { readable, writable } = asyncIoStateToWebStreams(clientState);
    await Promise.all([
      (Readable.toWeb(data.stream) as ReadableStream<Uint8Array>).pipeThrough(new CompressionStream('gzip')).pipeTo(writable),
      pipeline(Readable.fromWeb(readable.pipeThrough(new DecompressionStream('gzip'))), sink.stream),
      server,
    ]);
  }
  const { digest, bytes } = sink.result();
  t.is(bytes, total);
  t.is(digest, data.digest(), 'SHA-256 of what came back equals that of what was sent');
  await until(() => clientState.closed && srv.closed);
  t.true(clientState.closed && srv.closed, 'both ends closed the states once both directions ended');
}

test('32 MiB through gzip both ways: a Duplex client against a web-streams server, SHA-256 checked', async (t) => {
  await checkGzipRoundTrip(t, 'duplex', TOTAL);
});

// The same paths with the roles swapped; smaller, since the CPU time is gzip's.
test('8 MiB through gzip both ways: a web-streams client against a Duplex server, SHA-256 checked', async (t) => {
  await checkGzipRoundTrip(t, 'web', TOTAL / 4);
});

test('Duplex: a slow consumer keeps memory bounded while the peer is held back by TCP; every byte arrives', async (t) => {
  const { state, peer } = await statePair(t);
  const duplex = asyncIoStateToDuplex(state);
  const payload = crypto.randomBytes(TOTAL);
  const expected = crypto.createHash('sha256').update(payload).digest('hex');
  peer.end(payload);
  const hash = crypto.createHash('sha256');
  let received = 0;
  let most = 0;
  const sample = (): void => {
    most = Math.max(most, state.bufferedDataLength + duplex.readableLength);
  };
  // Take one chunk, then stop reading for a while.
  await new Promise<void>((resolve) => duplex.once('readable', resolve));
  for (let i = 0; i < 100; i++) {
    sample();
    await turns(1);
  }
  t.true(peer.writableLength > 0, 'the peer is held back');
  for (;;) {
    const chunk = duplex.read() as Buffer | null;
    if (chunk !== null) {
      hash.update(chunk);
      received += chunk.length;
      sample();
      continue;
    }
    if (duplex.readableEnded) break;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        duplex.off('readable', done);
        duplex.off('end', done);
        resolve();
      };
      duplex.on('readable', done);
      duplex.on('end', done);
    });
  }
  t.is(received, TOTAL);
  t.is(hash.digest('hex'), expected);
  t.true(most <= STATE_BOUND + duplex.readableHighWaterMark + 64 * 1024, `the state and the stream held ${most} bytes at most`);
  duplex.end();
  await until(() => state.closed);
  t.true(state.closed, 'both directions ended: the state is closed');
});

test('Duplex: writes honour backpressure to a peer that does not read; the state queues one chunk at a time', async (t) => {
  const { state, peer } = await statePair(t);
  const duplex = asyncIoStateToDuplex(state);
  duplex.on('error', () => {});
  peer.pause();
  const chunk = Buffer.alloc(64 * 1024, 0x62);
  let written = 0;
  // Write until the stream says stop, then check that nothing grows while the peer does not read.
  while (duplex.write(chunk)) written += chunk.length;
  written += chunk.length;
  let most = 0;
  for (let i = 0; i < 100; i++) {
    most = Math.max(most, state.queuedOutputLength);
    await turns(1);
  }
  t.true(most <= chunk.length, `the state queued ${most} bytes at most`);
  t.true(duplex.writableLength <= duplex.writableHighWaterMark + chunk.length);
  const all = readBytes(peer, written);
  peer.resume();
  await new Promise<void>((resolve) => duplex.end(resolve));
  t.is((await all).length, written);
  duplex.destroy();
});

test('Duplex: end() sends FIN and keeps reading; a reset errors the stream; destroy closes the state', async (t) => {
  const first = await statePair(t);
  const duplex = asyncIoStateToDuplex(first.state);
  const got = readBytes(first.peer, Infinity);
  duplex.end('bye');
  t.is((await got).toString(), 'bye');
  first.peer.end('and you');
  const answer: Buffer[] = [];
  for await (const chunk of duplex) answer.push(chunk as Buffer);
  t.is(Buffer.concat(answer).toString(), 'and you');
  await until(() => first.state.closed);
  t.true(first.state.closed);

  const second = await statePair(t);
  const broken = asyncIoStateToDuplex(second.state);
  const failed = new Promise<Error>((resolve) => broken.once('error', resolve));
  broken.resume();
  await turns(2);
  second.peer.resetAndDestroy();
  t.is(((await failed) as NodeJS.ErrnoException).code, 'ECONNRESET');
  t.true(second.state.closed);

  const third = await statePair(t);
  const destroyed = asyncIoStateToDuplex(third.state);
  destroyed.resume();
  destroyed.destroy();
  t.true(third.state.closed);
  t.throws(() => asyncIoStateToDuplex(third.state), { instanceOf: StateClosedError });
  t.throws(() => asyncIoStateToWebStreams(Object.create(null) as AsyncIoState), { instanceOf: InvalidArgumentError });
  const udp = await createAsyncIoStateAndUdpSocket(third.c, { localAddress: '127.0.0.1' });
  if (udp === null) throw new Error('no state');
  t.throws(() => asyncIoStateToDuplex(udp), { instanceOf: UnsupportedError });
  t.throws(() => asyncIoStateToWebStreams(udp), { instanceOf: UnsupportedError });
  closeAsyncIoState(udp);
});

test('web streams: a pull-based readable keeps memory bounded; close() sends FIN; a reset errors both sides', async (t) => {
  const first = await statePair(t);
  const { readable, writable } = asyncIoStateToWebStreams(first.state);
  const payload = crypto.randomBytes(8 * MiB);
  first.peer.end(payload);
  const reader = readable.getReader();
  const head = await reader.read();
  let received = head.value?.length ?? 0;
  const hash = crypto.createHash('sha256').update(head.value ?? new Uint8Array(0));
  let most = 0;
  for (let i = 0; i < 100; i++) {
    most = Math.max(most, first.state.bufferedDataLength);
    await turns(1);
  }
  t.true(most <= STATE_BOUND, `the state held ${most} bytes while nobody read`);
  t.true(first.peer.writableLength > 0, 'the peer is held back');
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    hash.update(value);
    received += value.length;
  }
  t.is(received, payload.length);
  t.is(hash.digest('hex'), crypto.createHash('sha256').update(payload).digest('hex'));
  const got = readBytes(first.peer, Infinity);
  const writer = writable.getWriter();
  await writer.write(Buffer.from('over'));
  await writer.close();
  t.is((await got).toString(), 'over');
  t.true(first.state.closed, 'both sides done: the state is closed');

  const second = await statePair(t);
  const pair = asyncIoStateToWebStreams(second.state);
  const reading = pair.readable.getReader().read();
  await turns(2);
  second.peer.resetAndDestroy();
  const error = await t.throwsAsync(reading);
  t.is((error as NodeJS.ErrnoException).code, 'ECONNRESET');
  t.true(second.state.closed);
  await t.throwsAsync(pair.writable.getWriter().write(Buffer.from('x')));

  const third = await statePair(t);
  const cancelled = asyncIoStateToWebStreams(third.state);
  await cancelled.readable.cancel();
  t.false(third.state.closed, 'the writable side still works');
  await cancelled.writable.abort(new Error('gone'));
  t.true(third.state.closed);
  closeAsyncIoState(third.state);
});
