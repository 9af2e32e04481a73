/**
 * The fields of a state that most connections never set (a name, user info,
 * TLS, a transport handle other than the state's object, a PROXY header,
 * cached addresses, actions deferred past a callback, the read status once
 * set, a read operation's error callback, timer or target), kept in one
 * record made on the first write of one of them: an idle plain TCP state is
 * then a few words smaller, and with tens of thousands of connections each
 * word counts.
 */
import type net from 'node:net';
import type tls from 'node:tls';
import type { ProxyHeader } from '../proxy/proxy-header.js';
import type { SocketAddress, StreamTransport } from '../transports/stream-transport.js';
import type { OpTimer } from './op-timer.js';
import type { IoStatus } from './status.js';

/** The TLS side of a state, or `null` without TLS. */
export type SslSide = 'client' | 'server' | 'both';

/** What the TLS module is doing to a state; while not null, nothing else may start (the one record of "TLS is busy"). */
export type TlsOperation = 'connect' | 'attach' | 'handshake' | 'detach' | null;

/** The TLS facts of a state with TLS attached (kept by the TLS module). */
export interface StateTlsInfo {
  side: SslSide;
  ctx: unknown;
  /** The TLS socket; null while a `'both'` attachment waits for its role. */
  socket: tls.TLSSocket | null;
  /** The TCP socket under TLS (addresses are asked from it). */
  tcp: net.Socket;
}

/** A read-buffer operation's target; made by the first one and kept. */
export interface ReadBufferTarget {
  target: Uint8Array | Int8Array;
  start: number;
  end: number;
  pos: number;
}

/** The rare fields of one state (see the module comment). */
export interface RareFields {
  name: unknown;
  userInfo: unknown;
  /** Printed when the state has no name; numbered on first print. */
  serial: number;
  /** Run when the running callback of the state returns. */
  deferred: (() => void)[] | null;
  tls: StateTlsInfo | null;
  tlsOperation: TlsOperation;
  acceptedProxyHeader: ProxyHeader | null;
  address: SocketAddress | null;
  peerAddress: SocketAddress | null;
  /** Layers over the callback API (promises, streams) told once when the state closes. */
  closeListeners: (() => void)[] | null;
  /** The stream transport when it has no slot of its own (transport-slots.ts). */
  transport: StreamTransport | null;
  /** The transport's handle when it is not the state's `object` (a TLS socket); null: the object is. */
  handle: unknown;
  /** The read direction's status. */
  readStatus: IoStatus;
  /** The active read operation's error callback. */
  readErrorCallback: ((...args: never[]) => void) | null;
  /** The read operation timer (of the read side: `OpTimer<ReadSide>`). */
  readTimer: OpTimer<unknown> | null;
  readBuffer: ReadBufferTarget | null;
}

/** A fresh record: nothing set. */
export function newRareFields(): RareFields {
  return {
    name: null,
    userInfo: null,
    serial: 0,
    deferred: null,
    tls: null,
    tlsOperation: null,
    acceptedProxyHeader: null,
    address: null,
    peerAddress: null,
    closeListeners: null,
    transport: null,
    handle: null,
    readStatus: null,
    readErrorCallback: null,
    readTimer: null,
    readBuffer: null,
  };
}
