/**
 * TCP_NODELAY on accepted sockets as the kernel sees it (python3 reads it
 * with getsockopt on the socket's descriptor): on Linux commio sets it once
 * on the listening socket and every accepted one takes it over, so this
 * checks the kernel, not Node's bookkeeping.
 */
import net from 'node:net';
import { spawnSync } from 'node:child_process';
import test, { type ExecutionContext } from 'ava';
import { AsyncIoState, acceptTcpConnectionsCreatingAsyncIoStates, closeAcceptingHandle, closeAsyncIoState } from '@commio/core';
import { checkNoLeaksAfterAll } from './helpers/leaks.js';
import { deferred, withCollection } from './helpers/fixtures.js';
import { connectClient } from './helpers/accept-helpers.js';

checkNoLeaksAfterAll(test);

const pythonFound = spawnSync('python3', ['-c', 'pass'], { stdio: 'ignore' }).status === 0;

/** TCP_NODELAY of `socket` as the kernel has it (0 or 1), read by python3 on the inherited descriptor. */
function kernelNoDelay(socket: net.Socket): number {
  const fd = (socket as unknown as { _handle: { fd: number } })._handle.fd;
  const script = 'import socket\ns = socket.socket(fileno=3)\nprint(s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))\ns.detach()';
  const run = spawnSync('python3', ['-c', script], { stdio: ['ignore', 'pipe', 'pipe', fd], encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`python3 failed: ${run.stderr}`);
  return Number(run.stdout.trim());
}

/** Accepts one connection with `nodelay` and gives its state's socket (closed when the test ends). */
async function acceptedSocket(t: ExecutionContext, nodelay: boolean | undefined): Promise<net.Socket> {
  const c = withCollection(t);
  const got = deferred<AsyncIoState>();
  const options = nodelay === undefined ? { address: '127.0.0.1' } : { address: '127.0.0.1', nodelay };
  const handle = await acceptTcpConnectionsCreatingAsyncIoStates(c, 0, (_h, state) => {
    if (state instanceof AsyncIoState) got.resolve(state);
  }, options);
  t.teardown(() => closeAcceptingHandle(handle));
  const client = await connectClient(handle.localPort);
  t.teardown(() => client.destroy());
  const state = await got.promise;
  t.teardown(() => closeAsyncIoState(state));
  return state.object as net.Socket;
}

function needsPython(t: ExecutionContext): boolean {
  if (!pythonFound) t.fail('python3 is not installed: this test reads TCP_NODELAY with its getsockopt');
  return pythonFound;
}

test('nodelay (the default) is on in the kernel for every accepted socket, and setNoDelay(false) still turns it off', async (t) => {
  if (!needsPython(t)) return;
  const socket = await acceptedSocket(t, undefined);
  t.is(kernelNoDelay(socket), 1);
  socket.setNoDelay(false);
  t.is(kernelNoDelay(socket), 0, 'Node knows the option is on, so it does not skip turning it off');
});

test('nodelay: false leaves Nagle on in the kernel', async (t) => {
  if (!needsPython(t)) return;
  const socket = await acceptedSocket(t, false);
  t.is(kernelNoDelay(socket), 0);
});
