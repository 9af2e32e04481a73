/**
 * A UDP client for the echo server: sends each MESSAGE as one datagram and
 * prints the echo.
 *
 *   node examples/dist/udp-client.js PORT [MESSAGE...] [--host ADDRESS] [--timeout SECONDS]
 *
 * A connected UDP state (`createAsyncIoStateAndConnectedUdpSocket`): sends
 * need no address and only the server's datagrams are received. UDP may lose
 * a datagram, so each receive has a timeout: on `readStatus === 'timeout'`
 * the message is sent again, a few times. ICMP port unreachable (nothing
 * listening on PORT) ends the receive with `readStatus` an `ECONNREFUSED`
 * error. Exits 0 when every message came back, 1 otherwise.
 */
import { parseArgs } from 'node:util';
import {
  asyncIoStateReceiveMessage,
  asyncIoStateSendMessage,
  createAndRunWaitStateCollection,
  createAsyncIoStateAndConnectedUdpSocket,
  waitStateCollectionStopLoop,
  type AsyncIoState,
} from '@commio/core';

const TRIES = 3;

const usage = 'usage: udp-client PORT [MESSAGE...] [--host ADDRESS] [--timeout SECONDS]   (default host 127.0.0.1, timeout 1)';

const { values, positionals } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    timeout: { type: 'string', default: '1' },
    help: { type: 'boolean', short: 'h', default: false },
  },
  allowPositionals: true,
});
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const [service, ...words] = positionals;
const timeout = Number(values.timeout);
if (service === undefined || !(timeout > 0)) {
  console.error(usage);
  process.exit(2);
}
const messages = words.length > 0 ? words : ['hello', 'from', 'commio'];

const collection = createAndRunWaitStateCollection('udp-client');
const state = await createAsyncIoStateAndConnectedUdpSocket(collection, values.host, service, { errorp: false, readTimeout: timeout });
if (state === null) {
  console.error(`udp-client: cannot make a UDP socket for ${values.host}:${service}`);
  waitStateCollectionStopLoop(collection);
  process.exit(1);
}

const reply = Buffer.alloc(65535);
let index = 0;
let tries = 0;
let failed = false;

function sendCurrent(s: AsyncIoState): void {
  tries++;
  asyncIoStateSendMessage(s, Buffer.from(messages[index] as string), awaitEcho);
}

/** The send's callback: the datagram is out; wait for its echo. */
function awaitEcho(s: AsyncIoState): void {
  if (s.writeStatus !== null) {
    finish(`send failed: ${String(s.writeStatus)}`);
    return;
  }
  asyncIoStateReceiveMessage(s, reply, onEcho);
}

function onEcho(s: AsyncIoState, data: Buffer, count: number): void {
  const status = s.readStatus;
  if (status === 'timeout' && tries < TRIES) {
    sendCurrent(s);
    return;
  }
  if (status !== null) {
    if (status === 'timeout') finish(`no echo after ${TRIES} tries`);
    else finish(`receive failed: ${status instanceof Error ? ((status as NodeJS.ErrnoException).code ?? status.message) : status}`);
    return;
  }
  console.log(data.subarray(0, count).toString());
  index++;
  tries = 0;
  if (index < messages.length) sendCurrent(s);
  else finish(null);
}

function finish(problem: string | null): void {
  if (problem !== null) {
    console.error(`udp-client: ${problem}`);
    failed = true;
  }
  // Stopping the collection closes the state and its socket; then Node.js exits.
  waitStateCollectionStopLoop(collection);
  process.exitCode = failed ? 1 : 0;
}

sendCurrent(state);
