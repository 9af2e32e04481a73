/**
 * The promise API and a stream adapter (README, "Promises and streams"): a
 * line server written with await, and a client using a Duplex. The suite
 * runs it and checks that the README shows this code.
 */
import {
  AsyncIoState,
  acceptTcpConnectionsCreatingAsyncIoStates,
  asyncIoStateToDuplex,
  closeAsyncIoState,
  createAndRunWaitStateCollection,
  waitStateCollectionStopLoop,
} from '@commio/core';
import { connect, readUntil, shutdown, write } from '@commio/core/promises';

const collection = createAndRunWaitStateCollection('promises');

// Server: answer each line upper-cased; at the client's EOF, flush, send FIN and close.
async function serve(state: AsyncIoState): Promise<void> {
  try {
    for (;;) {
      const line = await readUntil(state, '\n', { maxLength: 1024 }); // null at EOF
      if (line === null) break;
      await write(state, Buffer.from(Buffer.from(line).toString('utf8').toUpperCase()));
    }
    await shutdown(state, 'output');
  } catch (error) {
    console.error(`connection failed: ${String(error)}`); // ERR_COMMIO_READ_TIMEOUT after 5 s idle
  } finally {
    closeAsyncIoState(state);
  }
}

const handle = await acceptTcpConnectionsCreatingAsyncIoStates(
  collection,
  0,
  (_handle, state) => {
    if (state instanceof AsyncIoState) void serve(state);
  },
  { address: '127.0.0.1', readTimeout: 5 },
);

// Client: a Duplex over a connected state; end() sends FIN after the lines.
const client = await connect(collection, '127.0.0.1', handle.localPort);
const duplex = asyncIoStateToDuplex(client);
duplex.end('hello\nworld\n');
for await (const chunk of duplex) process.stdout.write(chunk as Buffer); // HELLO WORLD
waitStateCollectionStopLoop(collection); // also closes the server's handle
