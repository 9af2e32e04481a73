/**
 * Reading a key, a certificate (chain) and CA certificates from files or PEM
 * text, checking them at once: a file that cannot be read, a key that cannot
 * be parsed (or needs another passphrase), a certificate that cannot be
 * parsed, or a key that does not match its certificate throws
 * `ERR_COMMIO_INVALID_ARGUMENT` naming the option, the path and the reason.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { InvalidArgumentError } from '@commio/core';

/** Where a PEM comes from: a file path or the PEM text. */
export interface PemSource {
  /** The option it came from (`options.keyFile`, `options.cert`, ...). */
  option: string;
  /** The file path, or null for PEM text given directly. */
  path: string | null;
  /** The PEM text given directly. */
  text: string | Buffer | null;
}

/** A checked key and certificate chain. */
export interface KeyPair {
  key: Buffer;
  cert: Buffer;
  /** The leaf certificate (the first of the chain). */
  certificate: crypto.X509Certificate;
}

function where(source: PemSource): string {
  return source.path === null ? '' : ` (${source.path})`;
}

/** `source`'s path, or `fallback` for PEM text. */
function label(source: PemSource, fallback: string): string {
  return source.path ?? fallback;
}

/** Reads the bytes of `source`. */
export function readPem(source: PemSource): Buffer {
  if (source.path === null) return Buffer.isBuffer(source.text) ? source.text : Buffer.from(source.text ?? '', 'utf8');
  try {
    return fs.readFileSync(source.path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
    const reason = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable (permission denied)' : `cannot be read (${code})`;
    throw new InvalidArgumentError(source.option, `${source.path} ${reason}`, { cause: error });
  }
}

/** Reads and checks a key and its certificate (chain). */
export function loadKeyPair(keySource: PemSource, certSource: PemSource, passphrase: string | undefined): KeyPair {
  const key = readPem(keySource);
  const cert = readPem(certSource);
  let privateKey: crypto.KeyObject;
  try {
    privateKey = crypto.createPrivateKey(passphrase === undefined ? { key } : { key, passphrase });
  } catch (error) {
    const encrypted = key.includes('ENCRYPTED');
    const reason = !encrypted
      ? `is not a private key in PEM form (${(error as Error).message})`
      : passphrase === undefined
        ? 'is encrypted and no passphrase was given'
        : 'cannot be decrypted with the passphrase given';
    throw new InvalidArgumentError(keySource.option, `${label(keySource, 'the key')} ${reason}`, { cause: error });
  }
  let certificate: crypto.X509Certificate;
  try {
    certificate = new crypto.X509Certificate(cert);
  } catch (error) {
    throw new InvalidArgumentError(certSource.option, `${label(certSource, 'the certificate')} is not a certificate in PEM form (${(error as Error).message})`, {
      cause: error,
    });
  }
  if (!certificate.checkPrivateKey(privateKey)) {
    throw new InvalidArgumentError(
      keySource.option,
      `the key${where(keySource)} does not match the certificate${where(certSource)} (subject ${certificate.subject.replace(/\n/g, ', ')})`,
    );
  }
  return { key, cert, certificate };
}

/** Reads CA certificates (a bundle of PEM certificates) and checks that there is at least one. */
export function loadCa(source: PemSource): Buffer {
  const bytes = readPem(source);
  if (!bytes.includes('-----BEGIN CERTIFICATE-----')) {
    throw new InvalidArgumentError(source.option, `${label(source, 'the CA bundle')} holds no PEM certificate`);
  }
  try {
    new crypto.X509Certificate(bytes);
  } catch (error) {
    throw new InvalidArgumentError(source.option, `${label(source, 'the CA bundle')} is not valid PEM (${(error as Error).message})`, { cause: error });
  }
  return bytes;
}
