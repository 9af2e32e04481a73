/**
 * Every error commio throws or reports. Each class has a stable string `code`
 * (`ERR_COMMIO_*`); an OS or TLS error that caused one is kept as `cause`
 * with its own `code` (`EADDRINUSE`, `ECONNRESET`, ...).
 *
 * Misuse (bad arguments, a second read while one is active, use after close)
 * is thrown synchronously; runtime outcomes reach callbacks or rejected
 * promises.
 */

/** Every code an error made by commio can carry. */
export type CommioErrorCode =
  | 'ERR_COMMIO_INVALID_ARGUMENT'
  | 'ERR_COMMIO_OPERATION_IN_PROGRESS'
  | 'ERR_COMMIO_NOT_IN_CALLBACK'
  | 'ERR_COMMIO_STATE_CLOSED'
  | 'ERR_COMMIO_BIND_TIMEOUT'
  | 'ERR_COMMIO_BIND_FAILED'
  | 'ERR_COMMIO_HANDSHAKE_TIMEOUT'
  | 'ERR_COMMIO_HANDSHAKE_FAILED'
  | 'ERR_COMMIO_CONNECT_TIMEOUT'
  | 'ERR_COMMIO_BUFFER_OVERFLOW'
  | 'ERR_COMMIO_OUTPUT_OVERFLOW'
  | 'ERR_COMMIO_UNSUPPORTED'
  | 'ERR_COMMIO_COLLECTION_CLOSED'
  | 'ERR_COMMIO_PROXY_PROTOCOL'
  | 'ERR_COMMIO_READ_TIMEOUT'
  | 'ERR_COMMIO_WRITE_TIMEOUT';

const kCommioError = Symbol.for('commio.error');

/**
 * Base class of every commio error. `instanceof CommioError` also holds for
 * errors made by another loaded copy of `@commio/core`.
 */
export abstract class CommioError extends Error {
  /** The stable code naming what went wrong. */
  abstract readonly code: CommioErrorCode;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }

  /** Marks commio errors across loaded copies of the package (a registered symbol). */
  get [kCommioError](): true {
    return true;
  }

  /**
   * `x instanceof CommioError` is true for any commio error, also one made by
   * another loaded copy of the package; subclasses test the prototype chain.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this === CommioError) {
      return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[kCommioError] === true;
    }
    return Function.prototype[Symbol.hasInstance].call(this, value);
  }
}

/** A bad argument or option: wrong type, out of range, unknown key or keyword. */
export class InvalidArgumentError extends CommioError {
  readonly code = 'ERR_COMMIO_INVALID_ARGUMENT' as const;
  /** The argument's path, for example `options.initTimeout` or `buffer`. */
  readonly argument: string;

  constructor(argument: string, problem: string, options?: { cause?: unknown }) {
    super(`${argument} ${problem}`, options);
    this.argument = argument;
  }
}

/** A second operation in a direction that allows only one at a time. */
export class OperationInProgressError extends CommioError {
  readonly code = 'ERR_COMMIO_OPERATION_IN_PROGRESS' as const;
}

/** `asyncIoStateDiscard`/`asyncIoStateFinish` called outside a read-with-checking callback. */
export class NotInCallbackError extends CommioError {
  readonly code = 'ERR_COMMIO_NOT_IN_CALLBACK' as const;
}

/** An operation on a state (or handle) that is already closed. */
export class StateClosedError extends CommioError {
  readonly code = 'ERR_COMMIO_STATE_CLOSED' as const;
}

/** The port stayed in use for the whole `initTimeout`; `cause` is the last `EADDRINUSE`. */
export class BindTimeoutError extends CommioError {
  readonly code = 'ERR_COMMIO_BIND_TIMEOUT' as const;
}

/** Binding failed for a reason retrying cannot fix; `cause` is the OS error. */
export class BindFailedError extends CommioError {
  readonly code = 'ERR_COMMIO_BIND_FAILED' as const;
}

/** A TLS handshake did not finish within `handshakeTimeout`. */
export class HandshakeTimeoutError extends CommioError {
  readonly code = 'ERR_COMMIO_HANDSHAKE_TIMEOUT' as const;
}

/**
 * A TLS handshake failed. `cause` is the TLS error (for example a
 * certificate that does not verify), or with `peerClosed` the socket event
 * that ended the connection during the handshake.
 */
export class HandshakeFailedError extends CommioError {
  readonly code = 'ERR_COMMIO_HANDSHAKE_FAILED' as const;
  /** True when the peer closed the connection during the handshake (LispWorks' `:closed`). */
  readonly peerClosed: boolean;

  constructor(message: string, options: { cause: unknown; peerClosed?: boolean }) {
    super(message, { cause: options.cause });
    this.peerClosed = options.peerClosed === true;
  }
}

/** A connection attempt did not finish within `connectTimeout`. */
export class ConnectTimeoutError extends CommioError {
  readonly code = 'ERR_COMMIO_CONNECT_TIMEOUT' as const;
}

/** More than `maxBufferedInput` bytes were received and not consumed. */
export class BufferOverflowError extends CommioError {
  readonly code = 'ERR_COMMIO_BUFFER_OVERFLOW' as const;
}

/** A write would have taken the pending output past `maxQueuedOutput`. */
export class OutputOverflowError extends CommioError {
  readonly code = 'ERR_COMMIO_OUTPUT_OVERFLOW' as const;
}

/** Something this Node.js (or this kind of socket) cannot do. */
export class UnsupportedError extends CommioError {
  readonly code = 'ERR_COMMIO_UNSUPPORTED' as const;
}

/** The collection's loop was stopped for good: it takes no new states or work. */
export class CollectionClosedError extends CommioError {
  readonly code = 'ERR_COMMIO_COLLECTION_CLOSED' as const;
}

/**
 * An accepted connection was refused by the PROXY protocol check (accept
 * option `proxyProtocol`): it came from an untrusted address, its header was
 * malformed, too long or of an unknown version, or it was not complete in
 * time. The connection was destroyed before anything was handed over.
 */
export class ProxyProtocolError extends CommioError {
  readonly code = 'ERR_COMMIO_PROXY_PROTOCOL' as const;
  /** Why, in a word: `'untrusted'`, `'malformed'`, `'oversize'`, `'version'`, `'timeout'` or `'closed'`. */
  readonly reason: ProxyProtocolFailure;

  constructor(message: string, options?: { reason?: ProxyProtocolFailure; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.reason = options?.reason ?? 'malformed';
  }
}

/** The reasons a PROXY protocol check fails (`ProxyProtocolError.reason`). */
export type ProxyProtocolFailure = 'untrusted' | 'malformed' | 'oversize' | 'version' | 'timeout' | 'closed';

/**
 * A read of the promise or stream API (`@commio/core/promises`, the stream
 * adapters) made no progress for the state's read timeout (seconds); the
 * callback API reports this as `readStatus === 'timeout'` instead.
 */
export class ReadTimeoutError extends CommioError {
  readonly code = 'ERR_COMMIO_READ_TIMEOUT' as const;
}

/**
 * A write of the promise or stream API did not complete within the state's
 * write timeout (seconds); the callback API reports this as `writeStatus ===
 * 'timeout'`. `bytesWritten` is what is known to have reached the kernel (0
 * when unknown); the rest may still be sent.
 */
export class WriteTimeoutError extends CommioError {
  readonly code = 'ERR_COMMIO_WRITE_TIMEOUT' as const;
  /** Bytes known to have been handed to the kernel before the timeout. */
  readonly bytesWritten: number;

  constructor(message: string, options?: { cause?: unknown; bytesWritten?: number }) {
    super(message, options);
    this.bytesWritten = options?.bytesWritten ?? 0;
  }
}

/** The `code` of an error-like value, if it has a string one. */
export function errorCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/** Turns anything thrown or emitted into an `Error` (sockets sometimes emit non-errors). */
export function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

/** What an `OsError` carries besides its message. */
export interface OsErrorDetails {
  /** The OS error code, for example `EADDRINUSE`, `ENOTSOCK`, `ENOTFOUND`. */
  code: string;
  /** libuv's (negative) error number, when there is one. */
  errno?: number;
  /** The call that failed: `bind`, `listen`, `getaddrinfo`. */
  syscall: string;
  /** The address (or `fd N`) the call was about. */
  address?: string;
  /** The port the call was about. */
  port?: number;
}

/**
 * An operating-system error that commio reports itself, where it calls the
 * OS through Node.js internals rather than a public API that would make the
 * error (binding and listening through the server-handle factory, adopting a
 * descriptor, a host name that resolves to no address). Shaped like Node's
 * own system errors (`code`, `errno`, `syscall`, `address`, `port`). Not a
 * `CommioError`: it is the `cause` of one (`BindFailedError`,
 * `BindTimeoutError`), and its `code` is the OS's.
 */
export class OsError extends Error {
  readonly code: string;
  readonly errno: number | undefined;
  readonly syscall: string;
  readonly address: string | undefined;
  readonly port: number | undefined;

  constructor(message: string, details: OsErrorDetails) {
    super(message);
    this.name = 'OsError';
    this.code = details.code;
    this.errno = details.errno;
    this.syscall = details.syscall;
    this.address = details.address;
    this.port = details.port;
  }
}

/**
 * A status error of a connection that commio makes itself, named with the
 * OS-style code a socket would give (`error.code`, e.g. `'ECONNRESET'`), so
 * programs test one code whether the OS or commio saw the problem. Not a
 * `CommioError`: it reports what happened to the connection, not a misuse.
 */
export abstract class ConnectionStatusError extends Error {
  /** The OS-style code. */
  abstract readonly code: string;

  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A direction's status when the connection went away under it: code `'ECONNRESET'`. */
export class ConnectionClosedError extends ConnectionStatusError {
  readonly code = 'ECONNRESET' as const;
}

/** A write after `shutdown('output')`: code `'EPIPE'`. */
export class WriteAfterShutdownError extends ConnectionStatusError {
  readonly code = 'EPIPE' as const;
}

/** A UDP state's status when its socket closed under it: code `'ERR_SOCKET_DGRAM_NOT_RUNNING'` (Node's code for it). */
export class DgramSocketClosedError extends ConnectionStatusError {
  readonly code = 'ERR_SOCKET_DGRAM_NOT_RUNNING' as const;
}

/** The peer closed the connection during a TLS handshake (the cause of a `HandshakeFailedError`): code `'ECONNRESET'`. */
export class PeerClosedError extends ConnectionStatusError {
  readonly code = 'ECONNRESET' as const;
}
