/** TLS fixtures for the tests: key material generated at test time, and TLS peers. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import net from 'node:net';
import { Duplex } from 'node:stream';
import { asyncIoStateFinish, asyncIoStateReadWithChecking, asyncIoStateWriteBuffer } from '@commio/core';
import type { ExecutionContext } from 'ava';
import { generateSelfSignedCertificate, type KeyAndCertificate } from '@commio/ssl';

const cache = new Map<string, KeyAndCertificate>();

/** A self-signed EC key and certificate for `commonName` (valid for it, localhost, 127.0.0.1 and ::1); cached per name. */
export function keyPair(commonName = 'localhost', altNames?: string[]): KeyAndCertificate {
  const id = `${commonName}|${altNames?.join(',') ?? ''}`;
  let pair = cache.get(id);
  if (pair === undefined) {
    pair = generateSelfSignedCertificate(altNames === undefined ? { commonName } : { commonName, altNames });
    cache.set(id, pair);
  }
  return pair;
}

/** A fresh temporary directory, removed when the test ends. */
export function tempDir(t: ExecutionContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'commio-tls-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes a key pair into `dir`; returns the paths. */
export function writePair(dir: string, pair: KeyAndCertificate, prefix = ''): { keyFile: string; certFile: string } {
  const keyFile = path.join(dir, `${prefix}key.pem`);
  const certFile = path.join(dir, `${prefix}cert.pem`);
  fs.writeFileSync(keyFile, pair.key, { mode: 0o600 });
  fs.writeFileSync(certFile, pair.cert);
  return { keyFile, certFile };
}

/** A `node:tls` client to 127.0.0.1:port, destroyed when the test ends; resolves once secure (or rejects). */
export function tlsClient(t: ExecutionContext, port: number, options: tls.ConnectionOptions = {}): Promise<tls.TLSSocket> {
  return new Promise<tls.TLSSocket>((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: keyPair().cert, ...options }, () => resolve(socket));
    t.teardown(() => socket.destroy());
    socket.once('error', reject);
  });
}

/** A plain TCP client that stays silent, destroyed when the test ends. */
export function silentClient(t: ExecutionContext, port: number): Promise<net.Socket> {
  return new Promise<net.Socket>((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true }, () => resolve(socket));
    socket.on('error', () => {});
    t.teardown(() => socket.destroy());
    socket.once('error', reject);
  });
}

/** Resolves when the peer ended or reset the connection of `socket` (or it closed). */
export function closed(socket: net.Socket): Promise<void> {
  return new Promise<void>((resolve) => {
    if (socket.destroyed || socket.readableEnded) resolve();
    else {
      socket.once('end', () => resolve());
      socket.once('close', () => resolve());
      socket.resume();
    }
  });
}

/** A `node:tls` echo server on 127.0.0.1 port 0, closed when the test ends; `servernames` collects the SNI names seen. */
export async function tlsEchoServer(
  t: ExecutionContext,
  options: tls.TlsOptions = {},
): Promise<{ server: tls.Server; port: number; servernames: (string | false)[]; errors: Error[] }> {
  const pair = keyPair();
  const servernames: (string | false)[] = [];
  const errors: Error[] = [];
  const sockets = new Set<net.Socket>();
  const server = tls.createServer({ key: pair.key, cert: pair.cert, ...options }, (socket) => {
    servernames.push(socket.servername ?? false);
    socket.on('error', () => {});
    socket.pipe(socket);
  });
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('tlsClientError', (error) => errors.push(error));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  return { server, port: (server.address() as net.AddressInfo).port, servernames, errors };
}

/** Waits (polling every few milliseconds, at most `withinMs`) until `condition()` holds. */
export async function until(condition: () => boolean, withinMs = 2000): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
}

/**
 * Reads with read-with-checking until `marker` arrived; resolves with the
 * bytes up to and including it and leaves the rest buffered in the state.
 */
export function readUntil(state: import('@commio/core').AsyncIoState, marker: string): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    asyncIoStateReadWithChecking(state, (s, view, end) => {
      const bytes = Buffer.from(view.buffer, view.byteOffset, end);
      const at = bytes.indexOf(marker);
      if (at >= 0) {
        const upTo = at + Buffer.byteLength(marker);
        resolve(Buffer.from(bytes.subarray(0, upTo)));
        asyncIoStateFinish(s, upTo);
        return;
      }
      if (s.readStatus !== null) reject(new Error(`read ended with ${String(s.readStatus)} after ${end} bytes`));
    });
  });
}

/** Writes `buffer` on `state`; resolves with the count once written. */
export function writeAll(state: import('@commio/core').AsyncIoState, buffer: Uint8Array): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    asyncIoStateWriteBuffer(state, buffer, (s, _b, count) => {
      if (s.writeStatus === null) resolve(count);
      else reject(new Error(`write ended with ${String(s.writeStatus)}`));
    });
  });
}

/**
 * A Duplex over a raw socket for a `node:tls` client in tests: the first
 * write goes out with `prefix` in front of it (one TCP write), and
 * `appendToNextWrite` glues plain bytes behind the next TLS write (for
 * example close_notify); ending it does not end the TCP connection.
 */
export class SpliceDuplex extends Duplex {
  readonly raw: net.Socket;
  #prefix: Buffer | null;
  #suffix: Buffer | null = null;

  constructor(raw: net.Socket, prefix: Buffer | null) {
    super();
    this.raw = raw;
    this.#prefix = prefix;
    raw.on('data', (chunk: Buffer) => this.push(chunk));
    raw.on('end', () => this.push(null));
  }

  appendToNextWrite(bytes: Buffer): void {
    this.#suffix = bytes;
  }

  override _read(): void {
    // Data is pushed as it arrives.
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const parts = [chunk];
    if (this.#prefix !== null) parts.unshift(this.#prefix);
    if (this.#suffix !== null) parts.push(this.#suffix);
    this.#prefix = null;
    this.#suffix = null;
    this.raw.write(parts.length === 1 ? chunk : Buffer.concat(parts), callback);
  }

  override _final(callback: () => void): void {
    callback();
  }
}
