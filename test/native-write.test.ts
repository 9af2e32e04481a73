/**
 * The native addon's write side and connection ends, through its binding on
 * real loopback sockets: backpressure with a slow reader, shutdown, handing a
 * descriptor back to Node, connect.
 */
import net from 'node:net';
import test from 'ava';
import { rawClient, rawServer, readBytes, refusingTcpPort } from './helpers/fixtures.js';
import { randomBytes } from 'node:crypto';
import { RecordingSink, checkNativeNoLeaksAfterAll, nativeTest, closeIfOwned, recordingServer, requireNativeLoop } from './helpers/native-fixtures.js';

checkNativeNoLeaksAfterAll(test);
const nativeOnly = nativeTest(test);

/**
 * More than loopback's socket buffers can hold (up to 4 MiB sent plus 32 MiB
 * received here), so a peer that does not read leaves some of it queued.
 * A pattern of prime length, so bytes out of order would show.
 */
function moreThanTheKernelHolds(): Buffer {
  const big = Buffer.allocUnsafe(48 * 1024 * 1024);
  big.fill(randomBytes(4093));
  return big;
}

nativeOnly('a slow reader: remainders are kept, completions reported in order, every byte arrives', async (t) => {
  const loop = requireNativeLoop();
  const server = recordingServer(t);
  const client = await rawClient(t, server.port);
  client.pause();
  const { id, sink: recorder } = await server.nextAccept();
  const expected = moreThanTheKernelHolds();
  const writes = 48;
  const chunk = expected.length / writes;
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

nativeOnly('shutdown ends the output after the queued writes; reading goes on', async (t) => {
  const loop = requireNativeLoop();
  const server = recordingServer(t);
  const client = await rawClient(t, server.port);
  client.pause();
  const { id, sink: recorder } = await server.nextAccept();
  const big = moreThanTheKernelHolds();
  loop.write(id, big);
  t.false(loop.shutdown(id), 'deferred behind the queued write');
  loop.write(id, Buffer.from('late'));
  loop.flush();
  t.is(recorder.writeError?.code, 'EPIPE', 'a write after shutdown fails');
  const ended = new Promise<void>((resolve) => client.once('end', resolve));
  const received = readBytes(client, big.length);
  client.resume();
  t.true((await received).equals(big));
  await ended;
  await recorder.until(() => recorder.outputShut !== undefined);
  t.is(recorder.outputShut, null);
  client.end('after');
  await recorder.until(() => recorder.ended);
  t.is(recorder.received().toString(), 'after');
});

nativeOnly('release hands the descriptor back: a net.Socket on it works', async (t) => {
  const loop = requireNativeLoop();
  const server = recordingServer(t, { startReading: false });
  const client = await rawClient(t, server.port);
  const { id } = await server.nextAccept();
  const { fd, unsent } = loop.release(id);
  t.is(unsent.length, 0);
  t.is(loop.owner(id), undefined);
  const socket = new net.Socket({ fd, readable: true, writable: true });
  t.teardown(() => socket.destroy());
  socket.on('data', (d) => socket.write(d));
  client.write('through node');
  t.is((await readBytes(client, 12)).toString(), 'through node');
});

nativeOnly('release with writes still queued hands them over too', async (t) => {
  const loop = requireNativeLoop();
  const server = recordingServer(t, { startReading: false });
  const client = await rawClient(t, server.port);
  client.pause();
  const { id } = await server.nextAccept();
  const big = moreThanTheKernelHolds();
  loop.write(id, big);
  const { fd, unsent } = loop.release(id);
  t.true(unsent.length > 0, 'the kernel did not take it all at once');
  const socket = new net.Socket({ fd, readable: true, writable: true });
  t.teardown(() => socket.destroy());
  socket.write(unsent);
  const received = readBytes(client, big.length);
  client.resume();
  t.true((await received).equals(big), 'every byte arrives once, in order');
});

nativeOnly('connect: to a listening server, then to a closed port (ECONNREFUSED)', async (t) => {
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

  const refused = new RecordingSink();
  const failing = loop.connect('127.0.0.1', await refusingTcpPort(t), {}, refused);
  t.teardown(() => closeIfOwned(loop, failing, refused));
  await refused.until(() => refused.error !== null);
  t.is(refused.error?.code, 'ECONNREFUSED');
  t.false(refused.connected);
  loop.close(failing);
});
