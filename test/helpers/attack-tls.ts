/**
 * TLS for the attack tests: one self-signed server context (made in memory
 * once per process), TLS clients, and a captured ClientHello to trickle.
 */
import net from 'node:net';
import tls from 'node:tls';
import { createSslServerContext, generateSelfSignedCertificate, type KeyAndCertificate, type SslServerContext } from '@commio/ssl';

let pair: KeyAndCertificate | null = null;
let context: SslServerContext | null = null;

/** A self-signed key and certificate for localhost, PEM (made once). */
export function keyAndCertificate(): KeyAndCertificate {
  pair ??= generateSelfSignedCertificate();
  return pair;
}

/** A server context with that certificate (made once). */
export function serverContext(): SslServerContext {
  const { key, cert } = keyAndCertificate();
  context ??= createSslServerContext({ key, cert });
  return context;
}

/** A TLS client connected to 127.0.0.1:port with the handshake done (the test's certificate is not verified). */
export function connectTls(port: number, options: tls.ConnectionOptions & { allowHalfOpen?: boolean } = {}): Promise<tls.TLSSocket> {
  return new Promise<tls.TLSSocket>((resolve, reject) => {
    const socket = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false, servername: 'localhost', ...options });
    const onError = (error: Error): void => reject(error);
    socket.once('error', onError);
    socket.once('secureConnect', () => {
      socket.removeListener('error', onError);
      socket.on('error', () => {});
      resolve(socket);
    });
  });
}

let hello: Buffer | null = null;

/** The first flight of a real TLS client (its ClientHello), captured once from a raw listener. */
export async function clientHello(): Promise<Buffer> {
  if (hello !== null) return hello;
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const got = new Promise<Buffer>((resolve) => server.once('connection', (s) => s.once('data', (chunk: Buffer) => {
    resolve(chunk);
    s.destroy();
  })));
  const client = tls.connect({ port: (server.address() as net.AddressInfo).port, host: '127.0.0.1', rejectUnauthorized: false, servername: 'localhost' });
  client.on('error', () => {});
  hello = await got;
  client.destroy();
  server.close();
  return hello;
}
