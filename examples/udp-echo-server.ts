/**
 * A UDP echo server, in the style of LispWorks' async-io/udp example: every
 * datagram goes back to whoever sent it.
 *
 *   node examples/dist/udp-echo-server.js PORT [--host ADDRESS]
 *
 * One unconnected UDP state. Each receive asks for the sender's address
 * (`needsAddress`), and the reply goes straight back to it with
 * `asyncIoStateSendMessageToAddress`. The next receive starts from the send's
 * callback, once the reply was handed to the kernel: until then the buffer
 * still belongs to the send. PORT 0 = any free port (the port is printed).
 * SIGINT/SIGTERM stop it.
 */
import { parseArgs } from 'node:util';
import {
  asyncIoStateReceiveMessage,
  asyncIoStateSendMessageToAddress,
  createAndRunWaitStateCollection,
  createAsyncIoStateAndUdpSocket,
  waitStateCollectionStopLoop,
  type AsyncIoState,
} from '@commio/core';

const usage = 'usage: udp-echo-server PORT [--host ADDRESS]   (PORT 0 = any free port; default host 127.0.0.1)';

const { values, positionals } = parseArgs({
  options: { host: { type: 'string', default: '127.0.0.1' }, help: { type: 'boolean', short: 'h', default: false } },
  allowPositionals: true,
});
if (values.help) {
  console.log(usage);
  process.exit(0);
}
if (positionals.length !== 1) {
  console.error(usage);
  process.exit(2);
}

/** The largest UDP payload: a datagram never needs more. */
const buffer = Buffer.alloc(65535);

function startReceive(state: AsyncIoState): void {
  asyncIoStateReceiveMessage(state, buffer, onMessage, { needsAddress: true });
}

function onMessage(state: AsyncIoState, data: Buffer, count: number, address?: string, port?: number): void {
  const status = state.readStatus;
  if (status !== null || address === undefined || port === undefined) {
    const code = (status as NodeJS.ErrnoException | null)?.code;
    console.error(`udp-echo: receive failed: ${code ?? String(status)}`);
    // Errors are about one datagram, except a socket that is gone.
    if (code === 'ERR_SOCKET_DGRAM_NOT_RUNNING') waitStateCollectionStopLoop(state.collection);
    else startReceive(state);
    return;
  }
  asyncIoStateSendMessageToAddress(state, address, port, data, startReceive, { end: count });
}

const collection = createAndRunWaitStateCollection('udp-echo');
const server = await createAsyncIoStateAndUdpSocket(collection, {
  localAddress: values.host,
  localPort: positionals[0] as string,
  errorp: false,
  name: 'udp-echo',
});
if (server === null) {
  console.error(`udp-echo: cannot bind ${values.host}:${positionals[0] as string}`);
  waitStateCollectionStopLoop(collection);
  process.exit(1);
}
console.log(`udp-echo: listening on ${values.host}:${String(server.address?.port)}`);
startReceive(server);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  // Stopping a created-and-run collection closes its states (and their sockets).
  process.on(signal, () => waitStateCollectionStopLoop(collection));
}
