/**
 * The native addon's write side and connection ends, through its binding on
 * real loopback sockets: backpressure with a slow reader, shutdown, handing a
 * descriptor back to Node, connect.
 */
import net from 'node:net';
import test from 'ava';
import { rawClient, rawServer, readBytes } from './helpers/fixtures.js';
import { RecordingSink, checkNativeNoLeaksAfterAll, closeIfOwned, nativeServer, requireNativeLoop } from './helpers/native-fixtures.js';

checkNativeNoLeaksAfterAll(test);

test('a slow reader: remainders are kept, completions reported in order, every byte arrives', async (t) => {
  const loop = requireNativeLoop();
  const server = nativeServer(t);
  const client = await rawClient(t, server.port);
  client.pause();
  const { id, sink } = await server.nextAccept();
  const recorder = sink as RecordingSink;
  const chunk = 128 * 1024;
  const writes = 32;
  const expected = Buffer.alloc(chunk * writes);
  for (let i = 0; i < expected.length; i++) expected[i] = (i * 7 + (i >> 12)) & 0xff;
  for (let i = 0; i < writes; i++) loop.write(id, expected.subarray(i * chunk, (i + 1) * chunk));
  loop.flush();
  // The peer reads nothing: most of it waits in the addon's own memory.
  t.true(recorder.written < writes, `${recorder.written} of ${writes} written at once`);
  t.true(loop.queuedBytes(id) > 0);
  const received = readBytes(client, expected.length);
  client.resume();
  t.true((await received).equals(expected), 'every byte arrives in order');
  await recorder.until(() => recorder.written === writes);
  t.is(loop.queuedBytes(id), 0);
});

test('shutdown ends the output after the queued writes; reading goes on', async (t) => {
  const loop = requireNativeLoop();
  const server = nativeServer(t);
  const client = await rawClient(t, server.port);
  client.pause();
  const { id, sink } = await server.nextAccept();
  const recorder = sink as RecordingSink;
  const big = Buffer.alloc(4 * 1024 * 1024, 1);
  loop.write(id, big);
  loop.shutdown(id);
  loop.write(id, Buffer.from('late'));
  loop.flush();
  t.is(recorder.error?.code, 'EPIPE', 'a write after shutdown fails');
  const ended = new Promise<void>((resolve) => client.once('end', resolve));
  const received = readBytes(client, big.length);
  client.resume();
  t.is((await received).length, big.length);
  await ended;
  client.end('after');
  await recorder.until(() => recorder.ended);
  t.is(recorder.received().toString(), 'after');
});

test('release hands the descriptor back: a net.Socket on it works', async (t) => {
  const loop = requireNativeLoop();
  const server = nativeServer(t, { startReading: false });
  const client = await rawClient(t, server.port);
  const { id } = await server.nextAccept();
  const fd = loop.release(id);
  t.is(loop.owner(id), undefined);
  const socket = new net.Socket({ fd, readable: true, writable: true });
  t.teardown(() => socket.destroy());
  socket.on('data', (d) => socket.write(d));
  client.write('through node');
  t.is((await readBytes(client, 12)).toString(), 'through node');
});

test('connect: to a listening server, then to a closed port (ECONNREFUSED)', async (t) => {
  const loop = requireNativeLoop();
  const { port, sockets } = await rawServer(t, (s) => s.pipe(s));
  const sink = new RecordingSink();
  const id = loop.connect('127.0.0.1', port, { noDelay: true }, sink);
  t.teardown(() => closeIfOwned(loop, id, sink));
  loop.write(id, Buffer.from('early write, queued until connected'));
  await sink.until(() => sink.connected);
  await sink.until(() => sink.bytes >= 35);
  t.is(sink.received().toString(), 'early write, queued until connected');
  t.is(sockets.length, 1);
  t.is(loop.address(id, true)?.port, port);
  loop.close(id);

  const closed = await rawServer(t);
  closed.server.close();
  await new Promise<void>((resolve) => closed.server.once('close', resolve));
  const refused = new RecordingSink();
  const failing = loop.connect('127.0.0.1', closed.port, {}, refused);
  t.teardown(() => closeIfOwned(loop, failing, refused));
  await refused.until(() => refused.error !== null);
  t.is(refused.error?.code, 'ECONNREFUSED');
  t.false(refused.connected);
  loop.close(failing);
});
