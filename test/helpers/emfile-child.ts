/**
 * Child process for the descriptor-exhaustion test (run with a low `ulimit -n`):
 * an echo server on 127.0.0.1 that keeps every connection open, and a second
 * idle one (and on the native transport a third, idle, on the Node one). Prints JSON
 * lines on stdout; reads commands on stdin:
 * - `status`: whether the handles accept, how many states are open, and the
 *   accepting handle's accept errors and pauses for want of descriptors;
 * - `cpu`: the CPU time this process uses over the next 500 ms;
 * - `free N`: closes the N oldest open states;
 * - `exit`: closes everything and exits.
 */
import readline from 'node:readline';
import {
  AsyncIoState,
  acceptTcpConnectionsCreatingAsyncIoStates,
  acceptingHandleStats,
  closeAsyncIoState,
  createAndRunWaitStateCollection,
  waitStateCollectionStopLoop,
} from '@commio/core';
import { echo } from './accept-helpers.js';
import { effectiveTestTransport, testTransport } from './fixtures.js';

function say(message: object): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

const collection = createAndRunWaitStateCollection('emfile child');
const states: AsyncIoState[] = [];
const handle = await acceptTcpConnectionsCreatingAsyncIoStates(
  collection,
  0,
  (h, connection) => {
    if (!(connection instanceof AsyncIoState)) return;
    states.push(connection);
    echo(h, connection);
    say({ event: 'accepted', open: states.filter((s) => !s.closed).length });
  },
  { address: '127.0.0.1', queueOutput: true, transport: testTransport },
);
// A second, idle handle: descriptors are one table for the process, so it must hold too.
const other = await acceptTcpConnectionsCreatingAsyncIoStates(collection, 0, echo, { address: '127.0.0.1', queueOutput: true, transport: testTransport });
// On the native transport, a third idle handle on the Node one: it must hold (and resume) with the native ones.
const onNode = effectiveTestTransport() === 'native' ? await acceptTcpConnectionsCreatingAsyncIoStates(collection, 0, echo, { address: '127.0.0.1', queueOutput: true }) : null;
say({ event: 'ready', port: handle.localPort, otherPort: other.localPort, transport: effectiveTestTransport() });

const lines = readline.createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const [command, argument] = line.split(' ');
  switch (command) {
    case 'status': {
      const stats = acceptingHandleStats(handle);
      say({
        event: 'status',
        accepting: handle.accepting,
        otherAccepting: other.accepting && (onNode?.accepting ?? true),
        open: states.filter((s) => !s.closed).length,
        acceptErrors: stats.acceptErrors,
        pausedForDescriptors: stats.acceptsPaused.descriptors,
      });
      break;
    }
    case 'cpu': {
      const start = process.cpuUsage();
      setTimeout(() => {
        const used = process.cpuUsage(start);
        say({ event: 'cpu', ms: (used.user + used.system) / 1000, overMs: 500 });
      }, 500);
      break;
    }
    case 'free': {
      const open = states.filter((s) => !s.closed).slice(0, Number(argument));
      for (const state of open) closeAsyncIoState(state);
      say({ event: 'freed', count: open.length });
      break;
    }
    case 'exit':
      waitStateCollectionStopLoop(collection);
      lines.close();
      process.exit(0);
  }
});
