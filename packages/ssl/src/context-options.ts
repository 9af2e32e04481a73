/** The options shared by server and client contexts, and their checks. */
import { InvalidArgumentError, UnsupportedError } from '@commio/core';
import { checkBoolean, checkString, invalid, optionalFunction, type CheckedOptions } from '@commio/core/internal';
import type { PemSource } from './key-material.js';

/** A TLS protocol version commio accepts as a bound. */
export type TlsVersion = 'TLSv1.2' | 'TLSv1.3';

/** Options shared by createSslServerContext and createSslClientContext. */
export interface SslContextCommonOptions {
  /** Path of the private key (PEM). */
  keyFile?: string;
  /** Path of the certificate (PEM; may hold the chain, leaf first). */
  certFile?: string;
  /** The private key as PEM text (instead of `keyFile`). */
  key?: string | Buffer;
  /** The certificate (chain) as PEM text (instead of `certFile`). */
  cert?: string | Buffer;
  /** The passphrase of an encrypted key. */
  passphrase?: string;
  /** Path of a CA bundle (PEM): servers verify client certificates with it, clients the server's (instead of the system's roots). */
  caFile?: string;
  /** CA certificates as PEM text (instead of `caFile`). */
  ca?: string | Buffer | (string | Buffer)[];
  /** OpenSSL cipher list (TLS 1.3 suites start with `TLS_`). @default commio's modern list */
  ciphers?: string;
  /** Lowest protocol version. Nothing below TLS 1.2 is accepted. @default 'TLSv1.2' */
  minVersion?: TlsVersion;
  /** Highest protocol version. @default 'TLSv1.3' */
  maxVersion?: TlsVersion;
  /** ALPN protocol names, most preferred first. */
  alpnProtocols?: string[];
  /** Reload key, certificate and CA when their files change. @default false */
  watch?: boolean;
  /** Called after every reload started by `watch`: `error` is null on success; on failure the context keeps what it had. */
  onReload?: ((error: Error | null) => void) | null;
  /** Shown in logs. */
  name?: string;
}

/** The checked common options. */
export interface CommonSettings {
  keySource: PemSource | null;
  certSource: PemSource | null;
  passphrase: string | undefined;
  caSources: PemSource[];
  ciphers: string | undefined;
  minVersion: TlsVersion;
  maxVersion: TlsVersion;
  alpnProtocols: string[] | undefined;
  watch: boolean;
  onReload: ((error: Error | null) => void) | null;
  name: string;
}

/** The keys of SslContextCommonOptions. */
export const COMMON_KEYS = [
  'keyFile',
  'certFile',
  'key',
  'cert',
  'passphrase',
  'caFile',
  'ca',
  'ciphers',
  'minVersion',
  'maxVersion',
  'alpnProtocols',
  'watch',
  'onReload',
  'name',
] as const;

const REFUSED: Readonly<Record<string, string>> = { SSLv3: 'SSL 3.0 is broken', TLSv1: 'TLS 1.0 is deprecated (RFC 8996)', 'TLSv1.1': 'TLS 1.1 is deprecated (RFC 8996)' };

function checkVersion(value: unknown, name: string, fallback: TlsVersion): TlsVersion {
  if (value === undefined) return fallback;
  if (typeof value === 'string' && REFUSED[value] !== undefined) {
    throw new UnsupportedError(`${name} ${JSON.stringify(value)} is refused: ${REFUSED[value]}; the lowest version commio allows is 'TLSv1.2'`);
  }
  if (value !== 'TLSv1.2' && value !== 'TLSv1.3') invalid(name, "'TLSv1.2' or 'TLSv1.3'", value);
  return value;
}

function pemText(value: unknown, name: string): string | Buffer {
  if (typeof value === 'string' && value.length > 0) return value;
  if (Buffer.isBuffer(value) && value.length > 0) return value;
  return invalid(name, 'PEM text (a non-empty string or Buffer)', value);
}

function source(o: CheckedOptions, fileKey: string, textKey: string): PemSource | null {
  const file = o[fileKey];
  const text = o[textKey];
  if (file !== undefined && text !== undefined) throw new InvalidArgumentError(`options.${textKey}`, `and options.${fileKey} cannot both be given`);
  if (file !== undefined) return { option: `options.${fileKey}`, path: checkString(file, `options.${fileKey}`), text: null };
  if (text !== undefined) return { option: `options.${textKey}`, path: null, text: pemText(text, `options.${textKey}`) };
  return null;
}

/** Checks the common options in already key-checked `o`. */
export function checkCommonOptions(o: CheckedOptions, defaultName: string): CommonSettings {
  const keySource = source(o, 'keyFile', 'key');
  const certSource = source(o, 'certFile', 'cert');
  if ((keySource === null) !== (certSource === null)) {
    const missing = keySource === null ? 'options.keyFile' : 'options.certFile';
    throw new InvalidArgumentError(missing, `(or its PEM form) is needed with ${keySource === null ? 'the certificate' : 'the key'}`);
  }
  const passphrase = o['passphrase'] === undefined ? undefined : checkString(o['passphrase'], 'options.passphrase');
  const caSources: PemSource[] = [];
  const caFile = o['caFile'];
  const ca = o['ca'];
  if (caFile !== undefined && ca !== undefined) throw new InvalidArgumentError('options.ca', 'and options.caFile cannot both be given');
  if (caFile !== undefined) caSources.push({ option: 'options.caFile', path: checkString(caFile, 'options.caFile'), text: null });
  else if (Array.isArray(ca)) {
    if (ca.length === 0) invalid('options.ca', 'PEM text or a non-empty array of PEM texts', ca);
    ca.forEach((item: unknown, i: number) => caSources.push({ option: `options.ca[${i}]`, path: null, text: pemText(item, `options.ca[${i}]`) }));
  } else if (ca !== undefined) caSources.push({ option: 'options.ca', path: null, text: pemText(ca, 'options.ca') });
  const ciphers = o['ciphers'] === undefined ? undefined : checkString(o['ciphers'], 'options.ciphers');
  const minVersion = checkVersion(o['minVersion'], 'options.minVersion', 'TLSv1.2');
  const maxVersion = checkVersion(o['maxVersion'], 'options.maxVersion', 'TLSv1.3');
  if (minVersion === 'TLSv1.3' && maxVersion === 'TLSv1.2') throw new InvalidArgumentError('options.maxVersion', 'must not be below options.minVersion');
  let alpnProtocols: string[] | undefined;
  const alpn = o['alpnProtocols'];
  if (alpn !== undefined) {
    if (!Array.isArray(alpn) || alpn.length === 0) invalid('options.alpnProtocols', 'a non-empty array of protocol names', alpn);
    alpnProtocols = alpn.map((p: unknown, i: number) => {
      const name = checkString(p, `options.alpnProtocols[${i}]`);
      if (Buffer.byteLength(name) > 255) invalid(`options.alpnProtocols[${i}]`, 'at most 255 bytes long', p);
      return name;
    });
  }
  return {
    keySource,
    certSource,
    passphrase,
    caSources,
    ciphers,
    minVersion,
    maxVersion,
    alpnProtocols,
    watch: checkBoolean(o['watch'], 'options.watch', false),
    onReload: optionalFunction<(error: Error | null) => void>(o['onReload'], 'options.onReload'),
    name: o['name'] === undefined ? defaultName : checkString(o['name'], 'options.name'),
  };
}
