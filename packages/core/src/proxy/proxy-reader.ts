/**
 * Reading the PROXY header off a freshly accepted connection, before any
 * state is handed to the program, on either transport. The peer must be
 * trusted (checked before a byte is read); then bytes are read until
 * `parseProxyHeader` has a complete header, finds them invalid, or `timeout`
 * seconds pass. On success the connection is handed on with the bytes that
 * followed the header, so the first read (or the TLS handshake) sees them
 * first. On failure the connection is destroyed and only the error is
 * handed on.
 *
 * `ProxyHeaderRead` is the read itself, whatever carries the bytes; a
 * transport feeds it (`received`, `ended`) and supplies four steps (stop
 * listening, hand on, destroy, name the peer). The Node transport's
 * `net.Socket` version is here; the native transport's is
 * accept/native-proxy.ts.
 */
import type net from 'node:net';
import { ProxyProtocolError, type ProxyProtocolFailure } from '../errors.js';
import { secondsToMs } from '../options/validate.js';
import { parseProxyHeader, type ProxyHeader } from './proxy-header.js';
import type { ProxySettings } from './proxy-options.js';
import type { CollectionMember } from '../collection/member-list.js';
import { ignoreLateErrors, SocketListeners } from '../transports/socket-events.js';

function onTimeout(this: ProxyHeaderRead): void {
  this.timedOut();
}

/**
 * One header being read. `abandon()` (also `closeForCollection()`: it can
 * be a collection member) destroys the connection without reporting
 * anything. Whatever happens, exactly one of `handOn`, or `destroy` then
 * `refused`, runs, once.
 */
export abstract class ProxyHeaderRead implements CollectionMember {
  #bytes: Buffer | null = null;
  #timer: NodeJS.Timeout | null;
  #over = false;
  /** @internal Link of the collection's member list (member-list.ts). */
  previousMember: CollectionMember | null = null;
  /** @internal Link of the collection's member list (member-list.ts). */
  nextMember: CollectionMember | null = null;

  constructor(settings: ProxySettings) {
    this.#timer = setTimeout(onTimeout.bind(this), secondsToMs(settings.timeout));
  }

  /** True once the header was handed on or the connection destroyed. */
  get over(): boolean {
    return this.#over;
  }

  /** The transport stops feeding this read (it is over). */
  protected abstract stopListening(): void;
  /** The header is complete: hand the connection on, with `rest` (the bytes after the header; null for none) to be read first. */
  protected abstract handOn(header: ProxyHeader, rest: Buffer | null): void;
  /** Destroys the connection (nothing is reported by it). */
  protected abstract destroy(): void;
  /** The connection was refused (`error`), or abandoned (null); it is destroyed already. */
  protected abstract refused(error: ProxyProtocolError | null): void;
  /** The peer, for messages (`address:port`). */
  protected abstract peer(): string;

  /** Bytes arrived. */
  received(chunk: Buffer): void {
    if (this.#over) return;
    const bytes = this.#bytes === null ? chunk : Buffer.concat([this.#bytes, chunk]);
    const result = parseProxyHeader(bytes);
    if (result.kind === 'incomplete') {
      this.#bytes = bytes;
      return;
    }
    if (result.kind === 'invalid') {
      this.#fail(result.problem, result.message);
      return;
    }
    this.#stop();
    this.handOn(result.header, result.length < bytes.length ? bytes.subarray(result.length) : null);
  }

  /** The peer ended, reset or closed before the header was complete. */
  ended(): void {
    if (this.#over) return;
    // A bare connect-and-close (a TCP health check) is nobody's error.
    if (this.#bytes === null) {
      this.abandon();
      return;
    }
    this.#fail('closed', 'the connection ended before its PROXY header was complete');
  }

  /** @internal */
  timedOut(): void {
    this.#timer = null;
    if (this.#over) return;
    this.#fail('timeout', 'no complete PROXY header within the timeout');
  }

  /** Destroys the connection, reporting no error. */
  abandon(): void {
    if (this.#over) return;
    this.#stop();
    this.destroy();
    this.refused(null);
  }

  /** The collection is closing. */
  closeForCollection(): void {
    this.abandon();
  }

  #fail(reason: ProxyProtocolFailure, message: string): void {
    const peer = this.peer();
    this.#stop();
    this.destroy();
    this.refused(new ProxyProtocolError(`connection from ${peer} refused: ${message}`, { reason }));
  }

  #stop(): void {
    this.#over = true;
    this.#bytes = null;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.stopListening();
  }
}

/**
 * Called once: with the header (the socket paused, leftover bytes put back),
 * with the error (the socket destroyed), or with neither when the read was
 * abandoned or the peer left without sending a byte (the socket destroyed).
 */
export type ProxyHeaderDone = (socket: net.Socket, header: ProxyHeader | null, error: ProxyProtocolError | null) => void;

const kRead = Symbol('commio.proxyHeaderRead');
type SocketWithRead = net.Socket & { [kRead]?: SocketHeaderRead | undefined };

// Shared listeners that find their read through the socket: no closures per connection.
function onData(this: net.Socket, chunk: Buffer): void {
  (this as SocketWithRead)[kRead]?.received(chunk);
}
function onEnded(this: net.Socket): void {
  (this as SocketWithRead)[kRead]?.ended();
}
// An error or a close ends the header read as the peer's FIN does.
const LISTENERS = new SocketListeners(onData, onEnded, onEnded, onEnded);

/** The header read of a `net.Socket` (the Node transport). */
class SocketHeaderRead extends ProxyHeaderRead {
  readonly socket: net.Socket;
  readonly #done: ProxyHeaderDone;

  constructor(socket: net.Socket, settings: ProxySettings, done: ProxyHeaderDone) {
    super(settings);
    this.socket = socket;
    this.#done = done;
    (socket as SocketWithRead)[kRead] = this;
    LISTENERS.add(socket);
    // Accepted sockets arrive paused (nothing is read before someone asks).
    socket.resume();
  }

  protected stopListening(): void {
    const socket = this.socket as SocketWithRead;
    socket[kRead] = undefined;
    LISTENERS.remove(socket);
  }

  protected handOn(header: ProxyHeader, rest: Buffer | null): void {
    const socket = this.socket;
    socket.pause();
    if (rest !== null) socket.unshift(rest);
    this.#done(socket, header, null);
  }

  protected destroy(): void {
    destroyQuietly(this.socket);
  }

  protected refused(error: ProxyProtocolError | null): void {
    this.#done(this.socket, null, error);
  }

  protected peer(): string {
    return `${this.socket.remoteAddress ?? '?'}:${this.socket.remotePort ?? '?'}`;
  }
}

/** Destroys a socket nobody listens to any more (a late error must not crash the process). */
function destroyQuietly(socket: net.Socket): void {
  if (socket.listenerCount('error') === 0) ignoreLateErrors(socket);
  socket.destroy();
}

/**
 * Starts reading the header of `socket` from a peer `settings.trusted`
 * allows; from any other peer the socket is destroyed at once and `done`
 * gets the error (before this returns).
 */
export function readProxyHeader(socket: net.Socket, settings: ProxySettings, done: ProxyHeaderDone): ProxyHeaderRead | null {
  const untrusted = untrustedPeer(settings, socket.remoteAddress);
  if (untrusted !== null) {
    destroyQuietly(socket);
    done(socket, null, untrusted);
    return null;
  }
  return new SocketHeaderRead(socket, settings, done);
}

/**
 * The refusal of a peer `settings.trusted` does not allow (checked before a
 * byte is read, on either transport), or null when the peer is trusted.
 */
export function untrustedPeer(settings: ProxySettings, address: string | undefined): ProxyProtocolError | null {
  if (settings.trusted.has(address)) return null;
  return new ProxyProtocolError(`connection from ${address ?? 'an unknown address'} refused: not a trusted proxy`, { reason: 'untrusted' });
}
