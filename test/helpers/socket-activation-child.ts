/**
 * Child process for the socket-activation test: adopts the listening socket
 * passed to it the systemd way (LISTEN_PID/LISTEN_FDS/LISTEN_FDNAMES, fd 3)
 * by the name given as argument, and echoes with at most one connection at a
 * time. Prints JSON lines on stdout; on stdin, `close` closes the handle
 * (and with it the adopted socket), `exit` ends it.
 */
import readline from 'node:readline';
import {
  acceptTcpConnectionsCreatingAsyncIoStates,
  closeAcceptingHandle,
  createAndRunWaitStateCollection,
  systemdListenFd,
  systemdListenFds,
  waitStateCollectionStopLoop,
} from '@commio/core';
import { echo } from './accept-helpers.js';
import { testTransport } from './fixtures.js';

function say(message: object): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

const collection = createAndRunWaitStateCollection('socket activation child');
say({ event: 'inherited', sockets: systemdListenFds() });
const handle = await acceptTcpConnectionsCreatingAsyncIoStates(collection, systemdListenFd(process.argv[2] ?? 0), echo, {
  queueOutput: true,
  maxConnections: 1,
  // The parent's transport under test (the environment is inherited).
  transport: testTransport,
});
say({ event: 'ready', port: handle.localPort });

const lines = readline.createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (line === 'close') {
    closeAcceptingHandle(handle, () => say({ event: 'closed' }));
    return;
  }
  if (line !== 'exit') return;
  waitStateCollectionStopLoop(collection);
  lines.close();
  process.exit(0);
});
