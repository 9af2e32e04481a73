/**
 * The one place commio reaches into Node.js internals. Each internal is
 * looked up here, checked when this module loads where that needs no live
 * handle, and used through a function that falls back to the public path
 * where there is one. Without one, the capability it serves is missing,
 * and `nodeInternals()` says which (test/node-internals.test.ts fails on a
 * Node.js where any of them has gone):
 *
 * | internal | used for | without it |
 * |---|---|---|
 * | `net._createServerHandle` | binding listening sockets synchronously and re-opening them on their descriptor | listeners use the public `server.listen()`: they cannot be paused (`maxConnections`, descriptor exhaustion close the gap by other means), and several addresses are not bound all-or-nothing |
 * | `server._handle` | the listening handle under a `net.Server` (pause and resume accepting) | the same: listeners cannot be paused |
 * | `process._getActiveHandles` | closing the wrap the factory leaves behind when adopting a descriptor fails | that wrap stays open until exit |
 * | `socket._handle.fd` | the descriptor of an accepted socket (running out of descriptors) | the descriptor-exhaustion check is off (libuv's shedding applies) |
 * | `socket._handle.writeQueueSize` | bytes libuv holds that the kernel has not taken | write completion counts only Node's buffered bytes |
 * | `socket[kSetNoDelay]`, `server._handle.setNoDelay` | TCP_NODELAY set once on the listening socket and taken over by every accepted one (Linux) | Node sets it on each accepted socket (one system call per connection) |
 * | `TLSSocket#_start` | starting a client handshake on a socket commio made | TLS as the client (connect with `sslCtx`, STARTTLS, attach as client) fails with `ERR_COMMIO_UNSUPPORTED` |
 * | `TLSSocket#_releaseControl` | letting TLS errors after the handshake reach the socket's `error` event | they surface as a close of the connection |
 * | `tlsSocket._handle.verifyError` | checking the peer's certificate chain | handshakes that must verify a chain fail (closed, never open) |
 * | `readable._readableState.ended` | seeing the peer's `close_notify` before `end` is emitted (detaching TLS) | the public `readableEnded`, which turns true later: plain bytes that follow `close_notify` in the same read may reach TLS |
 *
 * Internals seen only on a live handle are checked on the first one; until
 * then `nodeInternals()` reports them as `present: null`.
 */
import net from 'node:net';
import tls from 'node:tls';
import { Readable } from 'node:stream';
import { logger } from './debug.js';
import { StateClosedError, UnsupportedError } from './errors.js';

const log = logger('accept');

/** One Node.js internal commio uses. */
export interface NodeInternal {
  /** What it is, for example `net._createServerHandle`. */
  readonly name: string;
  /** True when this Node.js has it, false when it is missing, null when it is seen only on a live handle and none was seen yet. */
  readonly present: boolean | null;
  /** What commio does without it. */
  readonly without: string;
}

interface Entry {
  name: string;
  present: boolean | null;
  without: string;
}

const entries = new Map<string, Entry>();

function entry(name: string, present: boolean | null, without: string): Entry {
  const e = { name, present, without };
  entries.set(name, e);
  if (present === false) log('this Node.js has no %s: %s', name, without);
  return e;
}

/** Records, on the first live handle, whether a handle-level internal is there. */
function seen(e: Entry, present: boolean): void {
  if (e.present === present) return;
  e.present = present;
  if (!present) log('this Node.js has no %s: %s', e.name, e.without);
}

/** Every internal commio uses, with whether this Node.js has it. */
export function nodeInternals(): readonly NodeInternal[] {
  return [...entries.values()].map((e) => ({ ...e }));
}

// ------------------------------------------------------ listening sockets

/** The listening TCP handle under a `net.Server` (Node's internal wrap): only what commio uses. */
export interface ServerHandle {
  readonly fd: number;
  open(fd: number): number;
  listen(backlog: number): number;
  readStart(): number;
  readStop(): number;
  close(): void;
}

/** Node's server-handle factory: a bound handle, or a (negative) libuv error number. */
export type CreateServerHandle = (address: string | null, port: number | null, addressType: number | null, fd?: number, flags?: number) => ServerHandle | number;

const factory = (net as unknown as { _createServerHandle?: unknown })._createServerHandle;

/** `net._createServerHandle`, or null on a Node.js without it (then listeners are not pausable). */
export const createServerHandle: CreateServerHandle | null = typeof factory === 'function' ? (factory as CreateServerHandle) : null;
entry('net._createServerHandle', createServerHandle !== null, 'listeners use the public listen(): they cannot be paused');

const serverHandleEntry = entry('server._handle', null, 'listeners cannot be paused');

/** The listening handle under `server`, or null (closed, not listening, or not reachable on this Node.js). */
export function serverHandleOf(server: net.Server): ServerHandle | null {
  const holder = server as unknown as { _handle?: ServerHandle | null };
  if (serverHandleEntry.present === null && server.listening) seen(serverHandleEntry, '_handle' in holder && typeof holder._handle === 'object');
  return holder._handle ?? null;
}

const getActiveHandles = (process as unknown as { _getActiveHandles?: unknown })._getActiveHandles;
entry('process._getActiveHandles', typeof getActiveHandles === 'function', 'a wrap left behind by a failed descriptor adoption stays open');

/** The handles keeping this process alive, or null on a Node.js that does not tell. */
export function activeHandles(): unknown[] | null {
  return typeof getActiveHandles === 'function' ? (getActiveHandles as () => unknown[]).call(process) : null;
}

// ------------------------------------------------------ connected sockets

interface StreamHandle {
  fd?: unknown;
  writeQueueSize?: unknown;
}

function handleOf(socket: object): StreamHandle | null {
  return (socket as { _handle?: StreamHandle | null })._handle ?? null;
}

const fdEntry = entry('socket._handle.fd', null, 'the descriptor-exhaustion check is off (libuv sheds load)');

/** The descriptor under a connected socket, or -1 (closed, or not reachable on this Node.js). */
export function socketDescriptor(socket: object): number {
  const handle = handleOf(socket);
  if (handle === null) return -1;
  const fd = handle.fd;
  if (fdEntry.present !== true) seen(fdEntry, typeof fd === 'number');
  return typeof fd === 'number' ? fd : -1;
}

const writeQueueEntry = entry('socket._handle.writeQueueSize', null, "write completion counts only Node's buffered bytes");

/** Bytes libuv holds for the kernel on a connected socket, or null (closed, or not reachable on this Node.js). */
export function socketWriteQueueSize(socket: object): number | null {
  const handle = handleOf(socket);
  if (handle === null) return null;
  const size = handle.writeQueueSize;
  if (writeQueueEntry.present !== true) seen(writeQueueEntry, typeof size === 'number');
  return typeof size === 'number' ? size : null;
}

// ------------------------------------------------------ TCP_NODELAY from the listening socket

const kSetNoDelay = Object.getOwnPropertySymbols(new net.Socket()).find((s) => s.description === 'kSetNoDelay');
const noDelayFlagEntry = entry('socket[kSetNoDelay]', kSetNoDelay !== undefined, 'Node sets TCP_NODELAY on each accepted socket');
const listenerNoDelayEntry = entry('server._handle.setNoDelay', null, 'Node sets TCP_NODELAY on each accepted socket');

/** Linux copies a listening TCP socket's options, TCP_NODELAY among them, into every connection it accepts. */
const ACCEPTED_INHERIT_NODELAY = process.platform === 'linux';

/**
 * Sets TCP_NODELAY on a listening handle that does not listen yet, so that
 * every connection it accepts has it from the start (Linux) and Node need
 * not set it on each one (a system call per connection). False when that
 * cannot be done here: then Node must set it on each accepted socket.
 */
export function noDelayOnListener(handle: object): boolean {
  const setNoDelay = (handle as { setNoDelay?: unknown }).setNoDelay;
  if (listenerNoDelayEntry.present !== true) seen(listenerNoDelayEntry, typeof setNoDelay === 'function');
  if (!ACCEPTED_INHERIT_NODELAY || !noDelayFlagEntry.present || typeof setNoDelay !== 'function') return false;
  return (setNoDelay as (on: boolean) => number).call(handle, true) === 0;
}

/** Records on an accepted socket that took TCP_NODELAY over from its listener that it is on, as Node does when it sets it (so a later `setNoDelay(false)` is not skipped). */
export function markNoDelay(socket: net.Socket): void {
  (socket as unknown as Record<symbol, boolean>)[kSetNoDelay as symbol] = true;
}

// ------------------------------------------------------ TLS sockets

interface TlsSocketInternals {
  _start?: () => void;
  _releaseControl?: () => boolean;
  _handle?: { verifyError?: () => Error | null } | null;
}

const tlsProto = tls.TLSSocket.prototype as unknown as TlsSocketInternals;
const startEntry = entry('TLSSocket#_start', typeof tlsProto._start === 'function', 'TLS as the client on a socket commio made is unsupported');
const releaseEntry = entry('TLSSocket#_releaseControl', typeof tlsProto._releaseControl === 'function', 'TLS errors after the handshake surface as a close');
const verifyEntry = entry('tlsSocket._handle.verifyError', null, "peer certificate chains cannot be checked: such handshakes fail");

/** Starts the handshake of a client TLS socket commio made (Node starts it only from `tls.connect`); false on a Node.js that cannot. */
export function startClientHandshake(socket: tls.TLSSocket): boolean {
  if (!startEntry.present) return false;
  (socket as unknown as Required<TlsSocketInternals>)._start();
  return true;
}

/** From now on TLS errors reach the socket's `error` event (before, Node keeps them for its own server and client code). */
export function releaseTlsControl(socket: tls.TLSSocket): void {
  if (releaseEntry.present) (socket as unknown as Required<TlsSocketInternals>)._releaseControl();
}

/**
 * The verification error of the peer's certificate chain, `null` when it
 * verifies. Fails closed: when this Node.js cannot tell, an error says so.
 */
export function peerChainError(socket: tls.TLSSocket): Error | null {
  const handle = (socket as unknown as TlsSocketInternals)._handle;
  if (handle === null || handle === undefined) return new StateClosedError('the TLS socket is closed: its peer certificate cannot be checked');
  const verify = handle.verifyError;
  if (verifyEntry.present !== true) seen(verifyEntry, typeof verify === 'function');
  if (typeof verify !== 'function') return new UnsupportedError('this Node.js cannot check the peer certificate chain (no TLS verifyError)');
  return verify.call(handle) ?? null;
}

// ------------------------------------------------------ streams

const probe = new Readable() as unknown as { _readableState?: { ended?: unknown } };
const endedEntry = entry('readable._readableState.ended', typeof probe._readableState?.ended === 'boolean', "the public readableEnded is used: it turns true later");

/** True once `stream` has taken in its end (pushed EOF), before `end` is emitted where this Node.js shows it; else `readableEnded`. */
export function readableEndedNow(stream: Readable): boolean {
  if (endedEntry.present) {
    const state = (stream as unknown as { _readableState?: { ended?: boolean } })._readableState;
    if (state?.ended === true) return true;
  }
  return stream.readableEnded;
}
