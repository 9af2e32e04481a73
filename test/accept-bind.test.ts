import dns from 'node:dns';
import net from 'node:net';
import os from 'node:os';
import test from 'ava';
import { acceptTcpConnectionsCreatingAsyncIoStates, closeAcceptingHandle, type AcceptingHandle } from '@commio/core';
import { checkNoLeaksAfterAll, openHandles, settledOpenHandles } from './helpers/leaks.js';
import { nodeOnly, onTestTransport, rawServer, withCollection } from './helpers/fixtures.js';
import { captureLog, connectClient, echo, listenQueue, portFree, roundTrip } from './helpers/accept-helpers.js';

checkNoLeaksAfterAll(test);

/** An address of another network that is never local (TEST-NET-1, RFC 5737). */
const NOT_LOCAL = '192.0.2.1';

function addressOf(server: net.Server | null | undefined): net.AddressInfo {
  return server?.address() as net.AddressInfo;
}

/** True when this machine can bind ::1. */
async function ipv6Loopback(): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(0, '::1', () => server.close(() => resolve(true)));
  });
}

test.serial('a port in use is retried until it frees up; the handle then holds that port', async (t) => {
  const c = withCollection(t);
  const { server, port } = await rawServer(t);
  const log = captureLog('commio:accept');
  t.teardown(() => log.stop());
  const promise = acceptTcpConnectionsCreatingAsyncIoStates(c, port, echo, onTestTransport({ address: '127.0.0.1', initTimeout: 3, queueOutput: true }));
  // The first attempt failed once the retry is announced: free the port then.
  await log.waitFor(/in use, retrying/);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const handle = await promise;
  t.teardown(() => closeAcceptingHandle(handle));
  t.is(handle.localPort, port);
  const client = await connectClient(port);
  t.teardown(() => client.destroy());
  t.is(await roundTrip(client, 'retried'), 'retried');
});

test.serial('a port that stays in use rejects with ERR_COMMIO_BIND_TIMEOUT (cause EADDRINUSE) after initTimeout, nothing left open', async (t) => {
  const c = withCollection(t);
  const { port } = await rawServer(t);
  const baseline = openHandles();
  const started = Date.now();
  const error = await t.throwsAsync(acceptTcpConnectionsCreatingAsyncIoStates(c, port, echo, onTestTransport({ address: '127.0.0.1', initTimeout: 0.3 })), {
    code: 'ERR_COMMIO_BIND_TIMEOUT',
  });
  const elapsed = Date.now() - started;
  t.is((error.cause as NodeJS.ErrnoException).code, 'EADDRINUSE');
  t.true(elapsed >= 250, `gave up after ${elapsed} ms`);
  t.deepEqual(await settledOpenHandles(baseline), {});
});

test.serial('initTimeout 0 tries once', async (t) => {
  const c = withCollection(t);
  const { port } = await rawServer(t);
  const log = captureLog('commio:accept');
  t.teardown(() => log.stop());
  const error = await t.throwsAsync(acceptTcpConnectionsCreatingAsyncIoStates(c, port, echo, onTestTransport({ address: '127.0.0.1', initTimeout: 0 })), {
    code: 'ERR_COMMIO_BIND_TIMEOUT',
  });
  t.regex(error.message, /1 tries/);
  t.false(log.lines.some((l) => /retrying/.test(l)));
});

test.serial('aborting the signal during the retries rejects with its reason, nothing left open', async (t) => {
  const c = withCollection(t);
  const { port } = await rawServer(t);
  const log = captureLog('commio:accept');
  t.teardown(() => log.stop());
  const baseline = openHandles();
  const controller = new AbortController();
  const reason = new Error('stop binding');
  const promise = acceptTcpConnectionsCreatingAsyncIoStates(c, port, echo, onTestTransport({ address: '127.0.0.1', initTimeout: 10, signal: controller.signal }));
  await log.waitFor(/in use, retrying/);
  controller.abort(reason);
  await t.throwsAsync(promise, { is: reason });
  t.deepEqual(await settledOpenHandles(baseline), {});
});

test('an already aborted signal rejects with its reason before anything opens', async (t) => {
  const c = withCollection(t);
  const reason = new Error('never');
  await t.throwsAsync(acceptTcpConnectionsCreatingAsyncIoStates(c, 0, echo, onTestTransport({ signal: AbortSignal.abort(reason) })), { is: reason });
});

test('the signal has no effect once the accept is set up', async (t) => {
  const c = withCollection(t);
  const controller = new AbortController();
  const handle = await acceptTcpConnectionsCreatingAsyncIoStates(c, 0, echo, onTestTransport({ address: '127.0.0.1', signal: controller.signal, queueOutput: true }));
  t.teardown(() => closeAcceptingHandle(handle));
  controller.abort();
  t.false(handle.closed);
  const client = await connectClient(handle.localPort);
  t.teardown(() => client.destroy());
  t.is(await roundTrip(client, 'on'), 'on');
});

test('an address that is not local rejects at once with ERR_COMMIO_BIND_FAILED (cause EADDRNOTAVAIL)', async (t) => {
  const c = withCollection(t);
  const started = Date.now();
  const error = await t.throwsAsync(acceptTcpConnectionsCreatingAsyncIoStates(c, 0, echo, onTestTransport({ address: NOT_LOCAL })), { code: 'ERR_COMMIO_BIND_FAILED' });
  t.is((error.cause as NodeJS.ErrnoException).code, 'EADDRNOTAVAIL');
  t.true(Date.now() - started < 1000, 'no retries');
});

test("a service name is looked up in the services database ('http' is port 80)", async (t) => {
  // Bound on an address that is not local, so that nothing is ever bound on the fixed port.
  const c = withCollection(t);
  const error = await t.throwsAsync(acceptTcpConnectionsCreatingAsyncIoStates(c, 'http', echo, onTestTransport({ address: NOT_LOCAL })), { code: 'ERR_COMMIO_BIND_FAILED' });
  t.is((error.cause as { port?: number }).port, 80);
});

test('a host name that does not resolve rejects with ERR_COMMIO_BIND_FAILED (cause ENOTFOUND)', async (t) => {
  const c = withCollection(t);
  const error = await t.throwsAsync(acceptTcpConnectionsCreatingAsyncIoStates(c, 0, echo, onTestTransport({ address: 'no-such-host.invalid' })), {
    code: 'ERR_COMMIO_BIND_FAILED',
  });
  t.is((error.cause as NodeJS.ErrnoException).code, 'ENOTFOUND');
});

nodeOnly(test, 'it reads the addresses of the handle\'s net.Servers (a native listener has none)')("'localhost' listens on the loopback addresses only (127.0.0.1, and ::1 where available), one port", async (t) => {
  const c = withCollection(t);
  const handle = await acceptTcpConnectionsCreatingAsyncIoStates(c, 0, echo, { address: 'localhost', queueOutput: true });
  t.teardown(() => closeAcceptingHandle(handle));
  const addresses = handle.sockets.map((s) => addressOf(s).address);
  const v6 = await ipv6Loopback();
  t.deepEqual(addresses, v6 ? ['127.0.0.1', '::1'] : ['127.0.0.1']);
  for (const server of handle.sockets) t.is(addressOf(server).port, handle.localPort);
  const v4 = await connectClient(handle.localPort, '127.0.0.1');
  t.teardown(() => v4.destroy());
  t.is(await roundTrip(v4, 'four'), 'four');
  if (v6) {
    const six = await connectClient(handle.localPort, '::1');
    t.teardown(() => six.destroy());
    t.is(await roundTrip(six, 'six'), 'six');
  }
});

nodeOnly(test, 'it reads the addresses of the handle\'s net.Servers (a native listener has none)')("'localhost' with ipv6: false is 127.0.0.1 only", async (t) => {
  const c = withCollection(t);
  const handle = await acceptTcpConnectionsCreatingAsyncIoStates(c, 0, echo, { address: 'localhost', ipv6: false });
  t.teardown(() => closeAcceptingHandle(handle));
  t.deepEqual(
    handle.sockets.map((s) => addressOf(s).address),
    ['127.0.0.1'],
  );
});

nodeOnly(test, 'it reads the addresses of the handle\'s net.Servers (a native listener has none)')('a host name listens on every address it resolves to', async (t) => {
  const name = os.hostname();
  let found: dns.LookupAddress[];
  try {
    found = await dns.promises.lookup(name, { all: true });
  } catch {
    t.log(`${name} does not resolve here: nothing to test`);
    t.pass();
    return;
  }
  const c = withCollection(t);
  let handle: AcceptingHandle;
  try {
    handle = await acceptTcpConnectionsCreatingAsyncIoStates(c, 0, echo, { address: name, queueOutput: true });
  } catch (error) {
    // A name may resolve to an address this machine does not have.
    t.is((error as { code?: string }).code, 'ERR_COMMIO_BIND_FAILED');
    t.log(`${name} resolves to ${JSON.stringify(found)}, not bindable here`);
    return;
  }
  t.teardown(() => closeAcceptingHandle(handle));
  const bound = handle.sockets.map((s) => addressOf(s).address);
  t.true(bound.length >= 1);
  for (const address of bound) t.true(found.some((a) => a.address === address));
  const client = await connectClient(handle.localPort, bound[0]);
  t.teardown(() => client.destroy());
  t.is(await roundTrip(client, 'named'), 'named');
});

nodeOnly(test, 'it reads the addresses of the handle\'s net.Servers (a native listener has none)')('an address list: one handle, one socket per address, all on the first port (port 0 shared)', async (t) => {
  const c = withCollection(t);
  const v6 = await ipv6Loopback();
  const list = v6 ? ['127.0.0.1', '::1'] : ['127.0.0.1', '127.0.0.2'];
  let handle: AcceptingHandle;
  try {
    handle = await acceptTcpConnectionsCreatingAsyncIoStates(c, 0, echo, { address: list, queueOutput: true });
  } catch (error) {
    t.log(`cannot bind ${list.join(', ')} here: ${String(error)}`);
    t.pass();
    return;
  }
  t.teardown(() => closeAcceptingHandle(handle));
  t.is(handle.sockets.length, 2);
  t.is(handle.socket, handle.sockets[0] ?? null);
  t.deepEqual(
    handle.sockets.map((s) => addressOf(s).address),
    list,
  );
  t.is(handle.localPort, addressOf(handle.sockets[0]).port);
  t.is(addressOf(handle.sockets[1]).port, handle.localPort);
  for (const host of list) {
    const client = await connectClient(handle.localPort, host);
    t.teardown(() => client.destroy());
    t.is(await roundTrip(client, host), host);
  }
  closeAcceptingHandle(handle);
  for (const host of list) t.true(await portFree(handle.localPort, host));
});

test.serial('an address list where one address fails: the call fails and nothing stays open', async (t) => {
  const c = withCollection(t);
  const baseline = openHandles();
  const error = await t.throwsAsync(acceptTcpConnectionsCreatingAsyncIoStates(c, 0, echo, onTestTransport({ address: ['127.0.0.1', NOT_LOCAL] })), {
    code: 'ERR_COMMIO_BIND_FAILED',
  });
  t.is((error.cause as NodeJS.ErrnoException).code, 'EADDRNOTAVAIL');
  t.deepEqual(await settledOpenHandles(baseline), {});
});

test.serial('an address list whose port is taken on one address retries the whole list, then times out leaving nothing open', async (t) => {
  const c = withCollection(t);
  const { port } = await rawServer(t);
  const baseline = openHandles();
  await t.throwsAsync(acceptTcpConnectionsCreatingAsyncIoStates(c, port, echo, onTestTransport({ address: ['127.0.0.2', '127.0.0.1'], initTimeout: 0.2 })), {
    code: 'ERR_COMMIO_BIND_TIMEOUT',
  });
  t.deepEqual(await settledOpenHandles(baseline), {});
});

nodeOnly(test, 'it reads the addresses of the handle\'s net.Servers (a native listener has none)')("'*' with ipv6: false listens on 0.0.0.0 only", async (t) => {
  const c = withCollection(t);
  const handle = await acceptTcpConnectionsCreatingAsyncIoStates(c, 0, echo, { address: '*', ipv6: false, queueOutput: true });
  t.teardown(() => closeAcceptingHandle(handle));
  t.is(addressOf(handle.socket).address, '0.0.0.0');
  const client = await connectClient(handle.localPort, '127.0.0.1');
  t.teardown(() => client.destroy());
  t.is(await roundTrip(client, 'v4'), 'v4');
});

nodeOnly(test, 'it reads the addresses of the handle\'s net.Servers (a native listener has none)')('null address with ipv6: true listens on :: for IPv6 only', async (t) => {
  if (!(await ipv6Loopback())) {
    t.log('no IPv6 here');
    t.pass();
    return;
  }
  const c = withCollection(t);
  const handle = await acceptTcpConnectionsCreatingAsyncIoStates(c, 0, echo, { ipv6: true, queueOutput: true });
  t.teardown(() => closeAcceptingHandle(handle));
  t.is(addressOf(handle.socket).address, '::');
  const six = await connectClient(handle.localPort, '::1');
  t.teardown(() => six.destroy());
  t.is(await roundTrip(six, 'v6'), 'v6');
  await t.throwsAsync(connectClient(handle.localPort, '127.0.0.1'), { code: 'ECONNREFUSED' });
});

nodeOnly(test, 'it reads the addresses of the handle\'s net.Servers (a native listener has none)')("ipv6 'both' listens on :: dual stack (IPv4 clients too); 'any' is the system's choice", async (t) => {
  if (!(await ipv6Loopback())) {
    t.log('no IPv6 here');
    t.pass();
    return;
  }
  const c = withCollection(t);
  for (const ipv6 of ['both', 'any'] as const) {
    const handle = await acceptTcpConnectionsCreatingAsyncIoStates(c, 0, echo, { ipv6, queueOutput: true });
    t.teardown(() => closeAcceptingHandle(handle));
    t.is(addressOf(handle.socket).address, '::');
    const v4 = await connectClient(handle.localPort, '127.0.0.1');
    t.teardown(() => v4.destroy());
    t.is(await roundTrip(v4, ipv6), ipv6);
    const v6 = await connectClient(handle.localPort, '::1');
    t.teardown(() => v6.destroy());
    t.is(await roundTrip(v6, ipv6), ipv6);
  }
});

test('backlog sets the kernel queue length (Node.js default 511 otherwise)', async (t) => {
  const c = withCollection(t);
  const handle = await acceptTcpConnectionsCreatingAsyncIoStates(c, 0, echo, onTestTransport({ address: '127.0.0.1', backlog: 8, queueOutput: true }));
  t.teardown(() => closeAcceptingHandle(handle));
  const plain = await acceptTcpConnectionsCreatingAsyncIoStates(c, 0, echo, onTestTransport({ address: '127.0.0.1' }));
  t.teardown(() => closeAcceptingHandle(plain));
  const queues = listenQueue(handle.localPort);
  if (queues === null) t.log('ss is not available: backlog not checked');
  else {
    t.deepEqual(queues.map((q) => q.backlog), [8]);
    t.deepEqual(listenQueue(plain.localPort)?.map((q) => q.backlog), [511]);
  }
  const client = await connectClient(handle.localPort);
  t.teardown(() => client.destroy());
  t.is(await roundTrip(client, 'b'), 'b');
});
