/**
 * The native addon through its binding, on real loopback sockets with node
 * `net` clients: accepting, echoing, batch reads of many sockets, end of
 * input, resets, views that stay valid, addresses, and a burst of connects.
 */
import net from 'node:net';
import test from 'ava';
import { rawClient, readBytes } from './helpers/fixtures.js';
import { RecordingSink, checkNativeNoLeaksAfterAll, nativeTest, nativeServer, recordingServer, requireNativeLoop } from './helpers/native-fixtures.js';

checkNativeNoLeaksAfterAll(test);
const nativeOnly = nativeTest(test);

/** A sink that writes back whatever it receives. */
class EchoSink extends RecordingSink {
  constructor(private readonly id: number) {
    super();
  }
  override onData(bytes: Uint8Array): void {
    super.onData(bytes);
    requireNativeLoop().write(this.id, bytes);
  }
}

nativeOnly('accepts a connection and echoes through the binding', async (t) => {
  const server = nativeServer(t, { noDelay: true }, (id) => new EchoSink(id));
  const client = await rawClient(t, server.port);
  const { sink } = await server.nextAccept();
  client.write('hello, native');
  t.is((await readBytes(client, 13)).toString(), 'hello, native');
  t.true(sink instanceof EchoSink);
  const payload = Buffer.alloc(300_000, 7);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 31) & 0xff;
  client.write(payload);
  t.true((await readBytes(client, payload.length)).equals(payload), 'every byte echoed in order');
});

nativeOnly('many ready sockets are read in one batch, each view a slice of one fresh buffer', async (t) => {
  const loop = requireNativeLoop();
  const server = recordingServer(t, { startReading: false });
  const count = 40;
  const clients = await Promise.all(Array.from({ length: count }, () => rawClient(t, server.port)));
  const accepted = await Promise.all(clients.map(() => server.nextAccept()));
  // Every client's bytes are in the kernel before any socket reads: one pass then finds them all.
  await Promise.all(clients.map((c, i) => new Promise<void>((resolve) => c.write(`client ${i}`, () => resolve()))));
  for (const { id } of accepted) loop.setReading(id, true);
  const sinks = accepted.map((a) => a.sink);
  await Promise.all(sinks.map((s) => s.until(() => s.bytes > 0)));
  const buffers = new Set(sinks.map((s) => s.chunks[0]?.buffer));
  t.true(buffers.size < count, `${buffers.size} batches for ${count} sockets`);
  const all = new Set(sinks.map((s) => s.received().toString()));
  t.is(all.size, count);
});

nativeOnly('views handed out are never written again', async (t) => {
  const server = recordingServer(t);
  const client = await rawClient(t, server.port);
  const sink = (await server.nextAccept()).sink;
  client.write('first');
  await sink.until(() => sink.bytes >= 5);
  const first = sink.chunks[0];
  t.truthy(first);
  const copy = Buffer.from(first ?? []);
  client.write('second batch, longer than the first');
  await sink.until(() => sink.bytes >= 5 + 35);
  t.deepEqual(Buffer.from(first ?? []), copy);
  t.not(sink.chunks.at(-1)?.buffer, first?.buffer);
});

/** Keeps a copy of every chunk as it arrived, beside the chunk itself. */
class CopyingSink extends RecordingSink {
  readonly copies: Buffer[] = [];
  override onData(bytes: Uint8Array): void {
    super.onData(bytes);
    this.copies.push(Buffer.from(bytes));
  }
}

nativeOnly('large reads handed over as regions of a slab are never written by later reads', async (t) => {
  const server = nativeServer(t, {}, () => new CopyingSink());
  const client = await rawClient(t, server.port);
  const sink = (await server.nextAccept()).sink;
  // Rounds of 40 KiB (past the copy threshold, so regions are handed over) until several slabs were used.
  const round = 40 * 1024;
  for (let i = 0; i < 24; i++) {
    client.write(Buffer.alloc(round, 97 + (i % 26)));
    await sink.until(() => sink.bytes >= (i + 1) * round);
  }
  t.is(sink.chunks.length, sink.copies.length);
  sink.chunks.forEach((chunk, i) => {
    t.true(Buffer.from(chunk).equals(sink.copies[i] ?? Buffer.alloc(0)), `chunk ${i} changed after it was handed out`);
  });
  t.is(sink.received().length, 24 * round);
});

nativeOnly('end of input is reported once and reading stops; the other direction still works', async (t) => {
  const loop = requireNativeLoop();
  const server = recordingServer(t);
  const client = await rawClient(t, server.port);
  const { id, sink: recorder } = await server.nextAccept();
  client.end('bye');
  await recorder.until(() => recorder.ended);
  t.is(recorder.received().toString(), 'bye');
  loop.write(id, Buffer.from('still here'));
  t.is((await readBytes(client, 10)).toString(), 'still here');
  loop.close(id);
});

nativeOnly('a reset from the peer is reported as ECONNRESET', async (t) => {
  const server = recordingServer(t);
  const client = await rawClient(t, server.port);
  const recorder = (await server.nextAccept()).sink;
  client.resetAndDestroy();
  await recorder.until(() => recorder.error !== null || recorder.ended);
  t.is(recorder.error?.code, 'ECONNRESET');
});

nativeOnly('local and peer addresses match the client', async (t) => {
  const loop = requireNativeLoop();
  const server = recordingServer(t);
  const client = await rawClient(t, server.port);
  const { id } = await server.nextAccept();
  t.deepEqual(loop.address(id, false), { address: '127.0.0.1', port: server.port, family: 4 });
  t.deepEqual(loop.address(id, true), { address: '127.0.0.1', port: client.localPort, family: 4 });
});

nativeOnly('a burst of connections is accepted in full (accept loops until EAGAIN)', async (t) => {
  const server = recordingServer(t, { backlog: 512 });
  const count = 300;
  const clients: net.Socket[] = [];
  t.teardown(() => {
    for (const c of clients) c.destroy();
  });
  for (let i = 0; i < count; i++) {
    const c = net.connect(server.port, '127.0.0.1');
    c.on('error', () => {});
    clients.push(c);
  }
  for (let i = 0; i < count; i++) await server.nextAccept();
  t.is(server.accepted.length, count);
  t.deepEqual(server.acceptErrors, []);
});
