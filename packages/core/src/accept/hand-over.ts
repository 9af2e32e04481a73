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
import { runStateCallback } from '../state/state-shell.js';
import type { CollectionMember } from '../collection/wait-state-collection.js';
import type { AcceptingHandle } from './accepting-handle.js';
import { acceptTlsOf } from './accept-tls.js';
import type { ProxyHeader } from '../proxy/proxy-header.js';
import { readProxyHeader, type ProxyHeaderRead } from '../proxy/proxy-reader.js';
import type { ProxySettings } from '../proxy/proxy-options.js';
import type { ProxyProtocolError } from '../errors.js';
import { proxyHeaderRefused } from '../stats/accept-events.js';

const log = logger('accept');

/**
 * A raw socket on its way to the connection function: a member of the
 * collection until delivered, so that closing the collection meanwhile
 * destroys it instead of leaking it.
 */
class PendingSocket implements CollectionMember {
  previousMember: CollectionMember | null = null;
  nextMember: CollectionMember | null = null;

  constructor(readonly socket: net.Socket) {}

  closeForCollection(): void {
    this.socket.destroy();
  }
}

/** The connection function, run as a callback of the new state. */
function callConnectionFunction(connection: AsyncIoState, handle: AcceptingHandle): void {
  handle.connectionFunction(handle, connection);
}

function runConnectionFunction(handle: AcceptingHandle, connection: AsyncIoState | PendingSocket): void {
  if (connection instanceof AsyncIoState) {
    // Not if closed meanwhile (its collection was closed): nothing to hand over.
    runStateCallback(connection, callConnectionFunction, handle);
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
    collection.dispatch(handle, runConnectionFunction, handle, connection);
    return;
  }
  const pending = new PendingSocket(connection);
  collection.addMember(pending);
  collection.dispatch(handle, runConnectionFunction, handle, pending);
}

/** An accepted socket arrived (the handle is open and set up): make the connection and deliver it. */
export function acceptConnection(handle: AcceptingHandle, socket: net.Socket): void {
  const collection = handle.home;
  if (!collection.alive) {
    socket.destroy();
    return;
  }
  const proxy = handle.settings.proxy;
  if (proxy !== null) readHeaderFirst(handle, socket, proxy);
  else makeConnection(handle, socket, null);
}

/** The connection (its PROXY header read and removed when `header` is given) becomes a state, or the raw socket, and is delivered. */
function makeConnection(handle: AcceptingHandle, socket: net.Socket, header: ProxyHeader | null): void {
  const collection = handle.home;
  const settings = handle.settings;
  const tls = acceptTlsOf(handle);
  if (!settings.createState && tls === null) {
    handle.connections.trackSocket(socket);
    if (log.enabled) log('%s: connection from %s:%s handed over raw', handle, socket.remoteAddress, socket.remotePort);
    deliverConnection(handle, socket);
    return;
  }
  // A handshake that starts at once takes the socket unattached (see AcceptTls.start).
  const state = adoptTcpSocket(collection, socket, socket, settings.state, tls === null || !tls.handshakesAtOnce);
  state.acceptedProxyHeader = header;
  handle.connections.trackState(state, header !== null);
  if (tls !== null) {
    // With sslCtx a state is always made (as LispWorks); it is handed over after its handshake.
    tls.start(state, socket, handle, deliverConnection);
    return;
  }
  deliverConnection(handle, state);
}

/**
 * PROXY protocol: the header is read off the raw socket first (before TLS);
 * meanwhile the connection is a member of the collection and counted by the
 * handle. A refused connection is destroyed and only its error is reported.
 * (The native transport's: native-accept.ts.)
 */
function readHeaderFirst(handle: AcceptingHandle, socket: net.Socket, proxy: ProxySettings): void {
  const collection = handle.home;
  let read: ProxyHeaderRead | null = null;
  read = readProxyHeader(socket, proxy, (s, header, error) => {
    headerPhaseOver(handle, proxy, read, header !== null, error);
    if (header === null) return;
    if (collection.alive) makeConnection(handle, s, header);
    else s.destroy();
  });
  headerPhaseStarted(handle, read);
}

/**
 * @internal A PROXY header read started (null: refused at once): until it is
 * over it is a member of the collection (closing the collection destroys the
 * connection) and counts against the handle's `maxConnections`. Both
 * transports.
 */
export function headerPhaseStarted(handle: AcceptingHandle, read: ProxyHeaderRead | null): void {
  if (read === null) return;
  handle.home.addMember(read);
  handle.connections.trackHeader(read);
}

/** @internal A PROXY header read is over: the connection `continues` to become a state, or was refused (`error`, reported) or abandoned. */
export function headerPhaseOver(handle: AcceptingHandle, proxy: ProxySettings, read: ProxyHeaderRead | null, continues: boolean, error: ProxyProtocolError | null): void {
  if (read !== null) {
    handle.home.removeMember(read);
    handle.connections.headerOver(read, continues);
  }
  if (error !== null) reportProxyError(handle, proxy, error);
}

function deliverProxyError(handle: AcceptingHandle, callback: (error: Error, handle: AcceptingHandle) => void, error: Error): void {
  callback(error, handle);
}

function raiseProxyError(_handle: AcceptingHandle, _unused: null, error: Error): void {
  // No proxyErrorCallback: the collection's handler deals with it.
  throw error;
}

function reportProxyError(handle: AcceptingHandle, proxy: ProxySettings, error: ProxyProtocolError): void {
  if (log.enabled) log('%s: %s', handle, error.message);
  proxyHeaderRefused(handle, error);
  const callback = proxy.errorCallback;
  if (callback !== null) handle.home.dispatch(handle, deliverProxyError, handle, callback, error, undefined);
  else handle.home.dispatch(handle, raiseProxyError, handle, null, error, undefined);
}
