/**
 * Where commio cannot bind its own pausable sockets (cluster workers, where
 * Node.js shares listening sockets through the primary), it listens through
 * the public `server.listen`. This file runs as if it were a cluster worker.
 */
// Node decides primary or worker when `cluster` loads: load it as the primary first, then look like a worker to commio.
import 'node:cluster';
import net from 'node:net';
import test from 'ava';
import { AsyncIoState, acceptTcpConnectionsCreatingAsyncIoStates, closeAcceptingHandle, closeAsyncIoState } from '@commio/core';
import { checkNoLeaksAfterAll } from './helpers/leaks.js';
import { deferred, rawServer, withCollection } from './helpers/fixtures.js';
import { connectClient, echo, roundTrip } from './helpers/accept-helpers.js';

checkNoLeaksAfterAll(test);

test.before(() => {
  process.env['NODE_UNIQUE_ID'] = 'commio-test';
});
test.after.always(() => {
  Reflect.deleteProperty(process.env, 'NODE_UNIQUE_ID');
});

test('binding through the public listen: echoes, frees its port on close', async (t) => {
  const c = withCollection(t);
  const handle = await acceptTcpConnectionsCreatingAsyncIoStates(c, 0, echo, { address: '127.0.0.1', queueOutput: true });
  t.teardown(() => closeAcceptingHandle(handle));
  t.true(handle.localPort > 0);
  const client = await connectClient(handle.localPort);
  t.teardown(() => client.destroy());
  t.is(await roundTrip(client, 'public'), 'public');
});

test('connections that arrive during initFunction are handed over only after the promise resolved', async (t) => {
  const c = withCollection(t);
  const order: string[] = [];
  let client: net.Socket | null = null;
  t.teardown(() => client?.destroy());
  const connected = deferred();
  const promise = acceptTcpConnectionsCreatingAsyncIoStates(
    c,
    0,
    (_h, state) => {
      order.push('connection');
      if (state instanceof AsyncIoState) closeAsyncIoState(state);
      connected.resolve();
    },
    {
      address: '127.0.0.1',
      initFunction: (server) => {
        order.push('init');
        client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
        client.on('error', () => {});
      },
    },
  );
  const handle = await promise;
  t.teardown(() => closeAcceptingHandle(handle));
  order.push('resolved');
  await connected.promise;
  t.deepEqual(order, ['init', 'resolved', 'connection']);
});

test('the port-in-use retry and its timeout work the same', async (t) => {
  const c = withCollection(t);
  const { port } = await rawServer(t);
  const error = await t.throwsAsync(acceptTcpConnectionsCreatingAsyncIoStates(c, port, echo, { address: '127.0.0.1', initTimeout: 0.2 }), {
    code: 'ERR_COMMIO_BIND_TIMEOUT',
  });
  t.is((error.cause as NodeJS.ErrnoException).code, 'EADDRINUSE');
});

test('maxConnections cannot be honoured on such a socket: ERR_COMMIO_UNSUPPORTED, nothing left open', async (t) => {
  const c = withCollection(t);
  await t.throwsAsync(acceptTcpConnectionsCreatingAsyncIoStates(c, 0, echo, { address: '127.0.0.1', maxConnections: 3 }), {
    code: 'ERR_COMMIO_UNSUPPORTED',
  });
});
