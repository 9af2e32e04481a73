import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import tls from 'node:tls';
import {
  acceptTcpConnectionsCreatingAsyncIoStates,
  asyncIoStateWriteBuffer,
  closeAcceptingHandle,
  closeAsyncIoState,
  type AsyncIoState,
  type AcceptingHandle,
} from '@commio/core';
import { createSslServerContext, createSslClientContext, generateSelfSignedCertificate, type SslServerContext } from '@commio/ssl';
import { checkNoLeaksAfterAll } from './helpers/leaks.js';
import { withCollection, deferred } from './helpers/fixtures.js';
import { keyPair, tempDir, writePair, until } from './helpers/tls-fixtures.js';

checkNoLeaksAfterAll(test);

/** A TLS server saying 'hi' to every client, with `ctx`. */
async function hiServer(t: import('ava').ExecutionContext, ctx: SslServerContext, errors: Error[] = []): Promise<AcceptingHandle> {
  const c = withCollection(t);
  const handle = await acceptTcpConnectionsCreatingAsyncIoStates(
    c,
    0,
    (_h, s) => {
      const state = s as AsyncIoState;
      asyncIoStateWriteBuffer(state, Buffer.from('hi'), (st) => closeAsyncIoState(st));
    },
    { address: '127.0.0.1', sslCtx: ctx, sslErrorCallback: (e) => errors.push(e) },
  );
  t.teardown(() => closeAcceptingHandle(handle));
  return handle;
}

/** Connects with node:tls; resolves with the server's certificate fingerprint (or rejects). */
function peerFingerprint(t: import('ava').ExecutionContext, port: number, options: tls.ConnectionOptions): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ...options }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.destroy();
    });
    socket.on('error', reject);
    t.teardown(() => socket.destroy());
  });
}

const fingerprint = (pem: string): string => new crypto.X509Certificate(pem).fingerprint256;

test('self-signed generation writes usable files, the key with mode 0600', async (t) => {
  const dir = tempDir(t);
  const keyFile = path.join(dir, 'sub', 'server.key');
  const certFile = path.join(dir, 'sub', 'server.crt');
  const ctx = createSslServerContext({ keyFile, certFile, selfSigned: { commonName: 'example.test', altNames: ['example.test', '127.0.0.1'], days: 30 } });
  t.teardown(() => ctx.close());
  t.is(fs.statSync(keyFile).mode & 0o777, 0o600);
  const cert = fs.readFileSync(certFile, 'utf8');
  const x509 = new crypto.X509Certificate(cert);
  t.is(x509.subject, 'CN=example.test');
  t.is(x509.subjectAltName, 'DNS:example.test, IP Address:127.0.0.1');
  t.true(x509.checkPrivateKey(crypto.createPrivateKey(fs.readFileSync(keyFile))));
  t.true(Date.parse(x509.validTo) - Date.now() < 31 * 86400_000);
  const handle = await hiServer(t, ctx);
  t.is(await peerFingerprint(t, handle.localPort, { ca: cert, servername: 'example.test' }), x509.fingerprint256);
  // Existing files are used as they are, not regenerated.
  const again = createSslServerContext({ keyFile, certFile, selfSigned: true });
  t.teardown(() => again.close());
  t.is(again.certificate?.fingerprint256, x509.fingerprint256);
  // RSA keys too.
  const rsa = generateSelfSignedCertificate({ keyType: 'rsa' });
  t.is(crypto.createPrivateKey(rsa.key).asymmetricKeyType, 'rsa');
  t.true(new crypto.X509Certificate(rsa.cert).verify(crypto.createPublicKey(rsa.key)));
});

test('a key or certificate that cannot be read or does not match throws at creation, naming the path and the reason', (t) => {
  const dir = tempDir(t);
  const a = writePair(dir, keyPair('a.test'), 'a-');
  const b = writePair(dir, keyPair('b.test'), 'b-');
  const missing = path.join(dir, 'nope.pem');
  const e1 = t.throws(() => createSslServerContext({ keyFile: missing, certFile: a.certFile }), { code: 'ERR_COMMIO_INVALID_ARGUMENT' });
  t.true(e1.message.includes(missing) && e1.message.includes('does not exist'));
  const e2 = t.throws(() => createSslServerContext({ keyFile: a.keyFile, certFile: b.certFile }), { code: 'ERR_COMMIO_INVALID_ARGUMENT' });
  t.true(e2.message.includes(a.keyFile) && e2.message.includes(b.certFile) && e2.message.includes('does not match'));
  fs.writeFileSync(path.join(dir, 'junk.pem'), 'not a certificate');
  const e3 = t.throws(() => createSslServerContext({ keyFile: a.keyFile, certFile: path.join(dir, 'junk.pem') }), { code: 'ERR_COMMIO_INVALID_ARGUMENT' });
  t.true(e3.message.includes('junk.pem'));
  const encrypted = crypto.createPrivateKey(keyPair('a.test').key).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'sesame' });
  const encryptedFile = path.join(dir, 'enc.pem');
  fs.writeFileSync(encryptedFile, encrypted);
  t.throws(() => createSslServerContext({ keyFile: encryptedFile, certFile: a.certFile }), { message: /encrypted and no passphrase/ });
  t.throws(() => createSslServerContext({ keyFile: encryptedFile, certFile: a.certFile, passphrase: 'wrong' }), { message: /passphrase/ });
  const ok = createSslServerContext({ keyFile: encryptedFile, certFile: a.certFile, passphrase: 'sesame' });
  t.is(ok.certificate?.subject, 'CN=a.test');
  // Only one of the pair missing with selfSigned: refuse to generate over an existing key.
  t.throws(() => createSslServerContext({ keyFile: a.keyFile, certFile: missing, selfSigned: true }), { message: /refusing/ });
});

test('SNI picks the right certificate; unknown names get the default', async (t) => {
  const ctx = createSslServerContext({
    key: keyPair('default.test').key,
    cert: keyPair('default.test').cert,
    sni: {
      'a.test': { key: keyPair('a.test').key, cert: keyPair('a.test').cert },
      '*.wild.test': createSslServerContext({ key: keyPair('x.wild.test').key, cert: keyPair('x.wild.test').cert }),
    },
  });
  const handle = await hiServer(t, ctx);
  const port = handle.localPort;
  const loose = { rejectUnauthorized: false };
  t.is(await peerFingerprint(t, port, { ...loose, servername: 'a.test' }), fingerprint(keyPair('a.test').cert));
  t.is(await peerFingerprint(t, port, { ...loose, servername: 'x.wild.test' }), fingerprint(keyPair('x.wild.test').cert));
  t.is(await peerFingerprint(t, port, { ...loose, servername: 'other.test' }), fingerprint(keyPair('default.test').cert));
  t.is(await peerFingerprint(t, port, { ca: keyPair('a.test').cert, servername: 'a.test' }), fingerprint(keyPair('a.test').cert));
});

test('reload serves the new certificate to new connections; on request and when the files change', async (t) => {
  const dir = tempDir(t);
  const files = writePair(dir, keyPair('one.test'));
  const reloads: (Error | null)[] = [];
  const ctx = createSslServerContext({ ...files, watch: true, onReload: (e) => reloads.push(e) });
  t.teardown(() => ctx.close());
  const handle = await hiServer(t, ctx);
  const port = handle.localPort;
  const loose = { rejectUnauthorized: false };
  // A live connection keeps its certificate across the reload.
  const live = await new Promise<tls.TLSSocket>((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => resolve(s));
    s.on('error', reject);
    t.teardown(() => s.destroy());
  });
  t.is(live.getPeerCertificate().fingerprint256, fingerprint(keyPair('one.test').cert));

  // On request.
  fs.writeFileSync(files.keyFile, keyPair('two.test').key);
  fs.writeFileSync(files.certFile, keyPair('two.test').cert);
  ctx.reload();
  t.is(await peerFingerprint(t, port, loose), fingerprint(keyPair('two.test').cert));
  t.is(live.getPeerCertificate().fingerprint256, fingerprint(keyPair('one.test').cert));
  await until(() => reloads.length > 0, 500);

  // When the files change (written by renaming, as renewal tools do).
  const before = reloads.length;
  writePair(dir, keyPair('three.test'), 'new-');
  fs.renameSync(path.join(dir, 'new-key.pem'), files.keyFile);
  fs.renameSync(path.join(dir, 'new-cert.pem'), files.certFile);
  await until(() => reloads.length > before && ctx.certificate?.subject === 'CN=three.test');
  t.is(reloads.at(-1), null);
  t.is(await peerFingerprint(t, port, loose), fingerprint(keyPair('three.test').cert));

  // A reload that fails keeps the old certificate.
  fs.writeFileSync(files.certFile, keyPair('four.test').cert);
  t.throws(() => ctx.reload(), { message: /does not match/ });
  t.is(await peerFingerprint(t, port, loose), fingerprint(keyPair('three.test').cert));
});

test('client certificates: require refuses clients without a valid one; request lets them in', async (t) => {
  const clientPair = keyPair('client.test');
  const errors: Error[] = [];
  const strict = createSslServerContext({ key: keyPair().key, cert: keyPair().cert, clientCertificate: 'require', ca: clientPair.cert });
  const handle = await hiServer(t, strict, errors);
  const port = handle.localPort;
  const base = { ca: keyPair().cert, servername: 'localhost' };
  const got = deferred<string>();
  const good = tls.connect({ host: '127.0.0.1', port, ...base, key: clientPair.key, cert: clientPair.cert }, () => {
    good.once('data', (d) => got.resolve(String(d)));
  });
  good.on('error', (e) => got.reject(e));
  t.teardown(() => good.destroy());
  t.is(await got.promise, 'hi');
  const stranger = keyPair('stranger.test');
  const refused = await new Promise<string>((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port, ...base, key: stranger.key, cert: stranger.cert });
    s.on('data', () => resolve('data'));
    s.on('error', (e) => resolve((e as Error & { code: string }).code));
    s.on('close', () => resolve('closed'));
    t.teardown(() => s.destroy());
  });
  t.not(refused, 'data');
  await until(() => errors.length > 0);
  t.is((errors[0] as Error & { code: string }).code, 'ERR_COMMIO_HANDSHAKE_FAILED');
  const lenient = createSslServerContext({ key: keyPair().key, cert: keyPair().cert, clientCertificate: 'request', ca: clientPair.cert });
  const h2 = await hiServer(t, lenient);
  t.is(typeof (await peerFingerprint(t, h2.localPort, base)), 'string');
});

test('contexts refuse bad options before anything opens', (t) => {
  const { key, cert } = keyPair();
  t.throws(() => createSslServerContext({ key, cert, minVersion: 'TLSv1.1' as never }), { code: 'ERR_COMMIO_UNSUPPORTED' });
  t.throws(() => createSslServerContext({ key, cert, minVersion: 'TLSv9' as never }), { code: 'ERR_COMMIO_INVALID_ARGUMENT', message: /options\.minVersion/ });
  t.throws(() => createSslServerContext({ key, cert, bogus: 1 } as never), { code: 'ERR_COMMIO_INVALID_ARGUMENT', message: /options\.bogus/ });
  t.throws(() => createSslServerContext({ key }), { code: 'ERR_COMMIO_INVALID_ARGUMENT', message: /options\.certFile/ });
  t.throws(() => createSslServerContext({}), { code: 'ERR_COMMIO_INVALID_ARGUMENT' });
  t.throws(() => createSslServerContext({ key, cert, clientCertificate: 'require' }), { message: /options\.clientCertificate/ });
  t.throws(() => createSslServerContext({ key, cert, alpnProtocols: [] }), { message: /options\.alpnProtocols/ });
  t.throws(() => createSslServerContext({ key, cert, ciphers: 'NO-SUCH-CIPHER' }), { code: 'ERR_COMMIO_INVALID_ARGUMENT', message: /options\.ciphers/ });
  t.throws(() => createSslServerContext({ key, cert, sni: { 'a.test': { keyFile: '/nonexistent/key.pem', certFile: '/nonexistent/cert.pem' } } }), { message: /options\.sni/ });
  t.throws(() => createSslServerContext({ key, cert, watch: true }), { message: /options\.watch/ });
  t.throws(() => createSslServerContext({ key, cert, selfSigned: { keyType: 'dsa' } as never }), { message: /options\.selfSigned\.keyType/ });
  t.throws(() => createSslClientContext({ verify: 'no' } as never), { message: /options\.verify/ });
  t.throws(() => createSslClientContext({ ca: 'not pem' }), { message: /options\.ca/ });
  t.throws(() => generateSelfSignedCertificate({ days: 0 }), { message: /options\.days/ });
  const client = createSslClientContext({ verify: false, alpnProtocols: ['h2'] });
  t.false(client.sslConnectionSettings().rejectUnauthorized);
  t.deepEqual(client.sslConnectionSettings().ALPNProtocols, ['h2']);
});
