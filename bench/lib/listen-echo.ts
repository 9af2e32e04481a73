/**
 * Starts a benchmark echo server: one collection, one accept on
 * 127.0.0.1:port with commio's defaults (TCP_NODELAY on unless `--no-nodelay`,
 * Node's backlog), and
 * a connection function that hands each state to `serve`.
 *
 * TLS (`--tls CERT KEY`) passes the key pair as `sslCtx`; it is refused
 * until the core has TLS on states, so a TLS run can never silently measure
 * plain TCP.
 */
import tls from 'node:tls';
import * as core from '@commio/core';
import type { AcceptOptions, AsyncIoState } from '@commio/core';
import type { ServerArgs } from './server-args.js';

/** True when this build of @commio/core attaches TLS to states. */
export function coreHasTls(): boolean {
  return typeof (core as Record<string, unknown>)['asyncIoStateAttachSsl'] === 'function';
}

/** Listens and serves every connection with `serve`; resolves with the bound port once listening. */
export async function listenEcho(
  name: string,
  args: ServerArgs,
  queueOutput: boolean,
  serve: (state: AsyncIoState) => void,
): Promise<number> {
  const collection = core.createAndRunWaitStateCollection(name);
  const options: AcceptOptions = { address: '127.0.0.1', ipv6: false, queueOutput, nodelay: args.nodelay };
  if (args.transport === 'native') {
    const status = core.nativeTransportStatus();
    if (!status.available) {
      process.stderr.write(`${name}: the native transport is unavailable (${status.reason ?? 'unknown'}); refusing to measure the Node transport instead\n`);
      process.exit(2);
    }
    options.transport = 'native';
  }
  if (args.tls !== null) {
    if (!coreHasTls()) {
      process.stderr.write(`${name}: this @commio/core has no TLS on states yet; refusing to run a TLS server as plain TCP\n`);
      process.exit(2);
    }
    // Assigned untyped so that the servers build against cores with and without TLS (API.md section 7).
    Object.assign(options, { sslCtx: tls.createSecureContext({ cert: args.tls.cert, key: args.tls.key }) });
  }
  const handle = await core.acceptTcpConnectionsCreatingAsyncIoStates(
    collection,
    args.port,
    (_handle, state) => {
      serve(state as AsyncIoState);
    },
    options,
  );
  return handle.localPort;
}
