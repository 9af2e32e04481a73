/** TLS fixtures for the tests: key material generated at test time, and TLS peers. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import net from 'node:net';
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
