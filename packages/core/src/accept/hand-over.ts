/**
 * The seam where an accepted socket becomes a connection of the program: a
 * new state (or, with `createState: false`, the paused raw socket), counted
 * against `maxConnections`, then given to the connection function through
 * the collection. TLS hooks in here: with `sslCtx`, the state gets TLS
 * attached and `deliverConnection` runs only after the handshake succeeded.
 */
import type net from 'node:net';
import { logger } from '../debug.js';
import { AsyncIoState } from '../state/async-io-state.js';
import { adoptTcpSocket } from '../state/create-state.js';
import type { CollectionMember } from '../collection/wait-state-collection.js';
import type { AcceptingHandle } from './accepting-handle.js';
import { acceptTlsOf } from './accept-tls.js';

const log = logger('accept');

/**
 * A raw socket on its way to the connection function: a member of the
 * collection until delivered, so that closing the collection meanwhile
 * destroys it instead of leaking it.
 */
class PendingSocket implements CollectionMember {
  constructor(readonly socket: net.Socket) {}

  closeForCollection(): void {
    this.socket.destroy();
  }
}

function runConnectionFunction(handle: AcceptingHandle, connection: AsyncIoState | PendingSocket): void {
  if (connection instanceof AsyncIoState) {
    // Closed meanwhile (its collection was closed): nothing to hand over.
    if (connection.closed) return;
    connection.enterCallback();
    try {
      handle.connectionFunction(handle, connection);
    } finally {
      connection.leaveCallback();
    }
    return;
  }
  handle.home.removeMember(connection);
  handle.connectionFunction(handle, connection.socket);
}

/**
 * Hands `connection` (a state of the handle's collection, or a raw socket)
 * to the connection function through the collection. Runs even when the
 * handle was closed meanwhile: accepted connections live on independently.
 */
export function deliverConnection(handle: AcceptingHandle, connection: AsyncIoState | net.Socket): void {
  const collection = handle.home;
  if (connection instanceof AsyncIoState) {
    collection.dispatch(handle, runConnectionFunction, handle, connection, undefined, undefined);
    return;
  }
  const pending = new PendingSocket(connection);
  collection.addMember(pending);
  collection.dispatch(handle, runConnectionFunction, handle, pending, undefined, undefined);
}

/** An accepted socket arrived (the handle is open and set up): make the connection and deliver it. */
export function acceptConnection(handle: AcceptingHandle, socket: net.Socket): void {
  const collection = handle.home;
  if (!collection.alive) {
    socket.destroy();
    return;
  }
  const settings = handle.settings;
  const limit = handle.limit;
  const tls = acceptTlsOf(handle);
  if (!settings.createState && tls === null) {
    limit?.trackSocket(socket);
    if (log.enabled) log('%s: connection from %s:%s handed over raw', handle, socket.remoteAddress, socket.remotePort);
    deliverConnection(handle, socket);
    return;
  }
  const state = adoptTcpSocket(collection, socket, socket, settings.state);
  limit?.trackState(state);
  if (tls !== null) {
    // With sslCtx a state is always made (as LispWorks); it is handed over after its handshake.
    tls.start(state, handle, (secured) => deliverConnection(handle, secured));
    return;
  }
  deliverConnection(handle, state);
}
