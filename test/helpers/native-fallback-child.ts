/**
 * Child process: with the addon unavailable (run with COMMIO_NATIVE_PATH
 * pointing nowhere), `transport: 'native'` must still serve on the Node
 * transport. Prints one JSON line: the status and the echoed text.
 */
import net from 'node:net';
import {
  acceptTcpConnectionsCreatingAsyncIoStates,
  closeAcceptingHandle,
  createAndRunWaitStateCollection,
  nativeTransportStatus,
  waitStateCollectionStopLoop,
} from '@commio/core';
import { echo, roundTrip } from './accept-helpers.js';

const c = createAndRunWaitStateCollection('fallback');
const handle = await acceptTcpConnectionsCreatingAsyncIoStates(c, 0, echo, { address: '127.0.0.1', transport: 'native', queueOutput: true });
const client = net.connect({ port: handle.localPort, host: '127.0.0.1' });
const echoed = await roundTrip(client, 'still served');
client.destroy();
const onNodeServer = handle.socket !== null;
closeAcceptingHandle(handle);
waitStateCollectionStopLoop(c);
process.stdout.write(`${JSON.stringify({ status: nativeTransportStatus(), echoed, onNodeServer })}\n`);
