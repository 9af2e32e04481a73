/**
 * The layer under a detachable TLS session (states given TLS with
 * asyncIoStateAttachSsl): a Duplex between Node's TLS and the raw TCP
 * socket that hands TLS one whole record at a time.
 *
 * Why: Node's native TLS reads straight from the TCP handle and cannot be
 * removed again; after the peer's close_notify, plain bytes that came in the
 * same TCP segment would be swallowed. Here TLS only ever sees complete
 * records, and before each one the feeder checks whether TLS has already
 * seen the peer's close_notify (its readable side ended). Once it has, the
 * feeder stops: what is left is plain text, handed back with `release()`.
 * Records are handed over synchronously (the Duplex is flowing), so at most
 * one record is in flight between the check and TLS.
 *
 * Writing: TLS output goes to the raw socket as is. Ending the TLS output
 * (close_notify) ends the TCP output too, unless a detach is under way.
 * Destroying the feeder destroys the raw socket, unless it was released.
 */
import { Duplex } from 'node:stream';
import type net from 'node:net';
import type tls from 'node:tls';
import { readableEndedNow } from '../node-internals.js';
import { ignoreLateErrors, SocketListeners } from '../transports/socket-events.js';

/** TLS record header: type, version (2), length (2). */
const HEADER = 5;
/** Bytes held back from TLS before the raw socket is paused (TLS is not reading). */
const MAX_PENDING = 64 * 1024;
/** The largest record a peer may send (TLS 1.2 ciphertext: 2^14 + 2048). */
const MAX_RECORD = 16384 + 2048;

/** True when `bytes` starts like a TLS record: content type 20-24, version 3.x, a possible length. */
function plausibleHeader(bytes: Buffer): boolean {
  const type = bytes[0] as number;
  return type >= 20 && type <= 24 && bytes[1] === 3 && bytes.readUInt16BE(3) <= MAX_RECORD;
}

function readableEnded(socket: tls.TLSSocket): boolean {
  // True synchronously when TLS pushes its EOF (the peer's close_notify);
  // the public `readableEnded` only after 'end' was emitted.
  return readableEndedNow(socket);
}

function onRawData(this: net.Socket, chunk: Buffer): void {
  feederOf(this)?.onRawData(chunk);
}
function onRawEnd(this: net.Socket): void {
  feederOf(this)?.onRawEnd();
}
function onRawError(this: net.Socket, error: Error): void {
  feederOf(this)?.destroy(error);
}
function onRawClose(this: net.Socket): void {
  feederOf(this)?.onRawClose();
}

const LISTENERS = new SocketListeners(onRawData, onRawEnd, onRawError, onRawClose);

const kFeeder = Symbol('commio.recordFeeder');
type RawWithFeeder = net.Socket & { [kFeeder]?: RecordFeeder | undefined };

function feederOf(socket: net.Socket): RecordFeeder | undefined {
  return (socket as RawWithFeeder)[kFeeder];
}

/** A record-by-record Duplex over a raw TCP socket (see the module comment). */
export class RecordFeeder extends Duplex {
  /** The raw TCP socket. */
  readonly raw: net.Socket;
  /** Set once the TLS socket over this feeder exists. */
  tls: tls.TLSSocket | null = null;
  /** True while a detach runs: ending TLS output must not end TCP output. */
  detaching = false;
  /** The raw socket's input ended (FIN). */
  rawEnded = false;
  #pending: Buffer | null;
  #wanted = false;
  #stopped = false;
  #released = false;
  #rawPaused = false;

  /** `readAhead`: bytes already read from `raw` that belong to TLS (they go first). */
  constructor(raw: net.Socket, readAhead: Buffer | null) {
    super({ allowHalfOpen: true, readableHighWaterMark: 1, decodeStrings: false });
    this.raw = raw;
    this.#pending = readAhead !== null && readAhead.length > 0 ? readAhead : null;
    (raw as RawWithFeeder)[kFeeder] = this;
    LISTENERS.add(raw);
    raw.resume();
  }

  /** True once TLS has seen the peer's close_notify (the feeder then stops). */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** @internal */
  onRawData(chunk: Buffer): void {
    const pending = this.#pending;
    this.#pending = pending === null ? chunk : Buffer.concat([pending, chunk]);
    this.#pump();
    const left = this.#pending as Buffer | null;
    if (!this.#rawPaused && left !== null && left.length > MAX_PENDING) {
      this.#rawPaused = true;
      this.raw.pause();
    }
  }

  /** @internal */
  onRawEnd(): void {
    this.rawEnded = true;
    this.#pump();
  }

  /** @internal */
  onRawClose(): void {
    this.rawEnded = true;
    if (!this.#released && !this.destroyed) this.destroy();
  }

  override _read(): void {
    this.#wanted = true;
    if (this.#rawPaused && !this.#released) {
      this.#rawPaused = false;
      this.raw.resume();
    }
    this.#pump();
  }

  #pump(): void {
    while (this.#wanted && !this.#stopped && !this.#released) {
      if (this.tls !== null && readableEnded(this.tls)) {
        // The peer's close_notify went in: the rest is not TLS any more.
        this.#stopped = true;
        this.emit('closeNotify');
        return;
      }
      const pending = this.#pending;
      if (pending === null || pending.length < HEADER) {
        if (pending === null && this.rawEnded) {
          this.#wanted = false;
          this.push(null);
        }
        return;
      }
      if (!plausibleHeader(pending)) {
        // Not TLS (a peer speaking something else): let TLS see it all and fail now.
        this.#pending = null;
        this.#wanted = false;
        this.push(pending);
        if (this.readableLength === 0) this.#wanted = true;
        continue;
      }
      const length = HEADER + pending.readUInt16BE(3);
      if (pending.length < length) return;
      this.#pending = pending.length === length ? null : pending.subarray(length);
      this.#wanted = false;
      this.push(pending.subarray(0, length));
      // Delivered at once (TLS is reading): go on with the next record.
      if (this.readableLength === 0) this.#wanted = true;
    }
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.raw.destroyed) {
      callback();
      return;
    }
    this.raw.write(chunk, callback);
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    if (this.raw.destroyed) {
      callback();
      return;
    }
    this.raw.cork();
    for (let i = 0; i < chunks.length - 1; i++) this.raw.write((chunks[i] as { chunk: Buffer }).chunk);
    this.raw.write((chunks[chunks.length - 1] as { chunk: Buffer }).chunk, callback);
    this.raw.uncork();
  }

  override _final(callback: (error?: Error | null) => void): void {
    // close_notify was written: for a detach the TCP output stays open.
    if (!this.detaching && !this.raw.destroyed) this.raw.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.#released) {
      this.#unhook();
      // The raw socket is torn down with the TLS session.
      ignoreLateErrors(this.raw);
      this.raw.destroy();
    }
    callback(error);
  }

  /**
   * Stops using the raw socket and returns it paused, with the bytes read
   * from it that TLS did not take (plain text after the peer's close_notify).
   */
  release(): Buffer | null {
    this.#released = true;
    this.#unhook();
    this.raw.pause();
    const rest = this.#pending;
    this.#pending = null;
    return rest;
  }

  #unhook(): void {
    const raw = this.raw as RawWithFeeder;
    if (raw[kFeeder] !== this) return;
    raw[kFeeder] = undefined;
    LISTENERS.remove(raw);
  }
}
