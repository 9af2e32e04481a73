/**
 * `NativeStreamTransport` keeps the transport seam's rules on real loopback
 * sockets: reports never arrive inside a driver call, writes report in order,
 * a shutdown reports once, a clean end of both directions disconnects,
 * release hands back a working net.Socket, and nothing is reported after
 * destroy; writes made before a detach still complete.
 */
import test from 'ava';
import { WRITE_DONE, WRITE_PENDING, type StreamSink } from '@commio/core/internal';
import { NativeStreamTransport } from '../packages/core/src/transports/native-stream-transport.js';
import { rawClient, readBytes } from './helpers/fixtures.js';
import { RecordingSink, checkNativeNoLeaksAfterAll, nativeTest, nativeServer, requireNativeLoop } from './helpers/native-fixtures.js';

checkNativeNoLeaksAfterAll(test);
const nativeOnly = nativeTest(test);

/** A state's sink that records reports and fails the test if one arrives inside a driver call. */
class StateSink implements StreamSink {
  insideDriver = false;
  reentered = 0;
  chunks: Buffer[] = [];
  log: string[] = [];
  private readonly waiters: { test: () => boolean; resolve: () => void }[] = [];

  received(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.note('received');
  }
  ended(): void {
    this.note('ended');
  }
  failed(error: Error): void {
    this.note(`failed ${(error as NodeJS.ErrnoException).code ?? ''}`);
  }
  disconnected(): void {
    this.note('disconnected');
  }
  written(error: Error | null): void {
    this.note(error === null ? 'written' : 'written error');
  }
  outputShut(result: true | string): void {
    this.note(`outputShut ${String(result)}`);
  }
  /** Runs a driver call, noting any report made during it. */
  driver<T>(call: () => T): T {
    this.insideDriver = true;
    try {
      return call();
    } finally {
      this.insideDriver = false;
    }
  }
  until(test: () => boolean): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ test, resolve }));
  }
  count(entry: string): number {
    return this.log.filter((e) => e === entry).length;
  }
  private note(entry: string): void {
    if (this.insideDriver) this.reentered++;
    this.log.push(entry);
    for (const w of [...this.waiters]) {
      if (!w.test()) continue;
      this.waiters.splice(this.waiters.indexOf(w), 1);
      w.resolve();
    }
  }
}

function setUp(t: import('ava').ExecutionContext): { transport: NativeStreamTransport; server: ReturnType<typeof nativeServer<RecordingSink>> } {
  const loop = requireNativeLoop();
  const transport = new NativeStreamTransport(loop, false);
  const server = nativeServer(t, { startReading: false, noDelay: true }, () => new RecordingSink());
  return { transport, server };
}

nativeOnly('reads, writes (at once and batched) and a reported shutdown, never inside a driver call', async (t) => {
  const { transport, server } = setUp(t);
  const client = await rawClient(t, server.port);
  const { id } = await server.nextAccept();
  const sink = new StateSink();
  sink.driver(() => transport.attach(id, sink));
  t.teardown(() => {
    if (transport.isOpen(id)) transport.destroy(id);
  });
  sink.driver(() => transport.setReading(id, true));
  client.write('ping');
  await sink.until(() => Buffer.concat(sink.chunks).toString() === 'ping');

  t.is(sink.driver(() => transport.write(id, Buffer.from('at once,'), false)), WRITE_DONE);
  t.is(sink.driver(() => transport.write(id, Buffer.from(' batched'), true)), WRITE_PENDING);
  sink.driver(() => transport.flushAfterPass(id));
  sink.driver(() => transport.shutdownOutput(id, true));
  t.is((await readBytes(client, 16)).toString(), 'at once, batched');
  await sink.until(() => sink.count('outputShut true') === 1);
  t.is(sink.count('written'), 1, 'only the held-back write is reported');
  t.deepEqual(sink.log.slice(-2), ['written', 'outputShut true']);
  t.deepEqual(transport.peerAddress(id), { address: '127.0.0.1', port: client.localPort, family: 'IPv4' });

  client.end();
  await sink.until(() => sink.log.includes('disconnected'));
  t.deepEqual(sink.log.slice(-2), ['ended', 'disconnected'], 'both directions ended: the connection is over');
  t.false(transport.isOpen(id));
  sink.driver(() => transport.destroy(id));
  t.is(sink.reentered, 0, 'no report inside a driver call');
});

nativeOnly('release hands back a paused net.Socket with the unsent bytes; nothing is reported after', async (t) => {
  const { transport, server } = setUp(t);
  const client = await rawClient(t, server.port);
  const { id } = await server.nextAccept();
  const sink = new StateSink();
  transport.attach(id, sink);
  const socket = sink.driver(() => transport.release(id));
  t.teardown(() => socket.destroy());
  t.false(transport.isOpen(id));
  t.true(socket.isPaused());
  socket.write('from node');
  t.is((await readBytes(client, 9)).toString(), 'from node');
  t.deepEqual(sink.log, []);
});

nativeOnly('a reset reaches the state as failed, then disconnected', async (t) => {
  const { transport, server } = setUp(t);
  const client = await rawClient(t, server.port);
  const { id } = await server.nextAccept();
  const sink = new StateSink();
  transport.attach(id, sink);
  t.teardown(() => transport.destroy(id));
  transport.setReading(id, true);
  client.resetAndDestroy();
  await sink.until(() => sink.log.includes('disconnected'));
  t.deepEqual(sink.log, ['failed ECONNRESET', 'disconnected']);
  t.false(transport.isOpen(id));
});

nativeOnly('writes made before a detach still complete to the same sink; bytes that arrive meanwhile wait for the next attach', async (t) => {
  const { transport, server } = setUp(t);
  const client = await rawClient(t, server.port);
  client.pause();
  const { id } = await server.nextAccept();
  const sink = new StateSink();
  transport.attach(id, sink);
  t.teardown(() => {
    if (transport.isOpen(id)) transport.destroy(id);
  });
  const big = Buffer.alloc(48 * 1024 * 1024, 5);
  t.is(transport.write(id, big, false), WRITE_PENDING, 'more than loopback holds');
  transport.setReading(id, true);
  transport.detach(id);
  const received = readBytes(client, big.length);
  client.resume();
  t.is((await received).length, big.length);
  await sink.until(() => sink.count('written') === 1);
  client.write('while detached');
  const again = new StateSink();
  transport.attach(id, again);
  transport.setReading(id, true);
  await again.until(() => Buffer.concat(again.chunks).toString() === 'while detached');
  t.deepEqual(sink.log, ['written']);
});
