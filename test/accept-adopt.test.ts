import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import test from 'ava';
import { acceptTcpConnectionsCreatingAsyncIoStates, closeAcceptingHandle, systemdListenFd, systemdListenFds } from '@commio/core';
import { checkNoLeaksAfterAll } from './helpers/leaks.js';
import { onTestTransport, readBytes, withCollection } from './helpers/fixtures.js';
import { connectClient, echo, portFree, roundTrip } from './helpers/accept-helpers.js';
import { NODE_ARGS, spawnLineChild } from './helpers/child-lines.js';

checkNoLeaksAfterAll(test);

/** A plain server listening on 127.0.0.1:0 (Node binds it). */
async function listening(t: { teardown(fn: () => void): void }): Promise<net.Server> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  return server;
}

function fdOf(server: net.Server): number {
  return (server as unknown as { _handle: { fd: number } })._handle.fd;
}

test('a listening net.Server is adopted: its connections become states; closing the handle closes it', async (t) => {
  const c = withCollection(t);
  const server = await listening(t);
  const port = (server.address() as net.AddressInfo).port;
  const handle = await acceptTcpConnectionsCreatingAsyncIoStates(c, server, echo, { queueOutput: true });
  t.teardown(() => closeAcceptingHandle(handle));
  t.is(handle.socket, server);
  t.is(handle.localPort, port);
  const client = await connectClient(port);
  t.teardown(() => client.destroy());
  t.is(await roundTrip(client, 'adopted'), 'adopted');
  closeAcceptingHandle(handle);
  t.false(server.listening);
  t.true(await portFree(port));
  t.is(await roundTrip(client, 'lives on'), 'lives on');
});

test('an http, https or tls server is refused: it handles its connections itself', async (t) => {
  const c = withCollection(t);
  for (const server of [http.createServer(), tls.createServer()]) {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.teardown(() => server.close());
    const error = await t.throwsAsync(acceptTcpConnectionsCreatingAsyncIoStates(c, server, echo), { code: 'ERR_COMMIO_INVALID_ARGUMENT' });
    t.is((error as unknown as { argument: string }).argument, 'service');
    t.true(server.listening, 'left as it was');
  }
});

test('maxConnections with a net.Server Node bound itself is ERR_COMMIO_UNSUPPORTED, and the server is left alone', async (t) => {
  const c = withCollection(t);
  const server = await listening(t);
  await t.throwsAsync(acceptTcpConnectionsCreatingAsyncIoStates(c, server, echo, { maxConnections: 2 }), { code: 'ERR_COMMIO_UNSUPPORTED' });
  t.true(server.listening);
  t.is(server.listenerCount('connection'), 0);
});

test('options that choose how to bind are refused with an adopted server', async (t) => {
  const c = withCollection(t);
  const server = await listening(t);
  for (const [options, argument] of [
    [{ backlog: 5 }, 'options.backlog'],
    [{ address: '127.0.0.1' }, 'options.address'],
    [{ ipv6: false }, 'options.ipv6'],
    [{ reuseport: true }, 'options.reuseport'],
  ] as const) {
    const error = await t.throwsAsync(acceptTcpConnectionsCreatingAsyncIoStates(c, server, echo, options), { code: 'ERR_COMMIO_INVALID_ARGUMENT' });
    t.is((error as unknown as { argument: string }).argument, argument);
  }
  t.true(server.listening);
});

test('{ fd } of a socket this process already uses rejects with ERR_COMMIO_BIND_FAILED (cause EEXIST), leaving it alone', async (t) => {
  const c = withCollection(t);
  const server = await listening(t);
  const error = await t.throwsAsync(acceptTcpConnectionsCreatingAsyncIoStates(c, { fd: fdOf(server) }, echo, onTestTransport()), { code: 'ERR_COMMIO_BIND_FAILED' });
  t.is((error.cause as NodeJS.ErrnoException).code, 'EEXIST');
  t.true(server.listening);
});

test('{ fd } of something that is not a socket rejects with ERR_COMMIO_BIND_FAILED', async (t) => {
  const c = withCollection(t);
  const file = path.join(os.tmpdir(), `commio-not-a-socket-${process.pid}`);
  const fd = fs.openSync(file, 'w');
  t.teardown(() => {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
  });
  const error = await t.throwsAsync(acceptTcpConnectionsCreatingAsyncIoStates(c, { fd }, echo, onTestTransport()), { code: 'ERR_COMMIO_BIND_FAILED' });
  t.is((error.cause as NodeJS.ErrnoException).code, 'EINVAL');
  t.notThrows(() => fs.fstatSync(fd), 'the descriptor is left open');
});

function restore(key: 'LISTEN_PID' | 'LISTEN_FDS' | 'LISTEN_FDNAMES', value: string | undefined): void {
  if (value === undefined) Reflect.deleteProperty(process.env, key);
  else process.env[key] = value;
}

test.serial('systemdListenFds reads LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES; systemdListenFd finds by position or name', (t) => {
  const saved = { pid: process.env['LISTEN_PID'], fds: process.env['LISTEN_FDS'], names: process.env['LISTEN_FDNAMES'] };
  t.teardown(() => {
    restore('LISTEN_PID', saved.pid);
    restore('LISTEN_FDS', saved.fds);
    restore('LISTEN_FDNAMES', saved.names);
  });
  delete process.env['LISTEN_PID'];
  t.deepEqual(systemdListenFds(), []);
  t.throws(() => systemdListenFd(0), { code: 'ERR_COMMIO_INVALID_ARGUMENT', message: /none was passed/ });
  process.env['LISTEN_PID'] = String(process.pid + 1);
  process.env['LISTEN_FDS'] = '2';
  t.deepEqual(systemdListenFds(), [], 'meant for another process');
  process.env['LISTEN_PID'] = String(process.pid);
  process.env['LISTEN_FDNAMES'] = 'web:admin';
  t.deepEqual(systemdListenFds(), [
    { fd: 3, name: 'web' },
    { fd: 4, name: 'admin' },
  ]);
  t.deepEqual(systemdListenFd(1), { fd: 4, name: 'admin' });
  t.deepEqual(systemdListenFd('web'), { fd: 3, name: 'web' });
  t.throws(() => systemdListenFd('other'), { code: 'ERR_COMMIO_INVALID_ARGUMENT', message: /web \(fd 3\), admin \(fd 4\)/ });
  t.throws(() => systemdListenFd(2), { code: 'ERR_COMMIO_INVALID_ARGUMENT' });
  t.throws(() => systemdListenFd(null as unknown as number), { code: 'ERR_COMMIO_INVALID_ARGUMENT' });
  delete process.env['LISTEN_FDNAMES'];
  t.deepEqual(systemdListenFds(), [
    { fd: 3, name: 'unknown' },
    { fd: 4, name: 'unknown' },
  ]);
  process.env['LISTEN_FDS'] = 'x';
  t.deepEqual(systemdListenFds(), []);
});

test('socket activation: a child given a listening socket as fd 3 (LISTEN_* set) adopts it by name, echoes, and can pause it (maxConnections)', async (t) => {
  // The listening socket the "service manager" makes; its port is what clients use.
  const server = await listening(t);
  const port = (server.address() as net.AddressInfo).port;
  const script = `export LISTEN_PID=$$ LISTEN_FDS=1 LISTEN_FDNAMES=web; exec "${process.execPath}" ${NODE_ARGS.join(' ')} test/helpers/socket-activation-child.ts web`;
  const child = spawnLineChild(t, 'bash', ['-c', script], { stdio: ['pipe', 'pipe', 'pipe', fdOf(server)] });
  // Only the child accepts from now on; the socket stays open through its copy.
  server.close();
  const inherited = await child.next((m) => m['event'] === 'inherited');
  t.deepEqual(inherited['sockets'], [{ fd: 3, name: 'web' }]);
  const ready = await child.next((m) => m['event'] === 'ready');
  t.is(ready['port'], port);

  const first = await connectClient(port);
  t.teardown(() => first.destroy());
  t.is(await roundTrip(first, 'activated'), 'activated');
  // One connection at a time: the second waits in the backlog until the first ends.
  const second = await connectClient(port);
  t.teardown(() => second.destroy());
  second.write('second');
  const secondEcho = readBytes(second, 6);
  first.end();
  t.is((await secondEcho).toString(), 'second');

  child.send('close');
  await child.next((m) => m['event'] === 'closed');
  t.true(await portFree(port), 'closing the handle closed the adopted socket');
  child.send('exit');
  await new Promise((resolve) => child.process.once('exit', resolve));
});
