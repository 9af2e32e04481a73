/**
 * createSslServerContext: LispWorks 8's server "abstract context". Key and
 * certificate from files or PEM (checked at creation), CA bundle, ciphers,
 * minimum version, ALPN, client-certificate verification, an SNI map of
 * host names to contexts, on-demand self-signed key and certificate, and
 * reload (on request or when the files change).
 */
import fs from 'node:fs';
import path from 'node:path';
import type tls from 'node:tls';
import { InvalidArgumentError, type SslConnectionSettings } from '@commio/core';
import { checkKeyword, checkOptions, invalid, keys, logger } from '@commio/core/internal';
import { COMMON_KEYS, checkCommonOptions, type SslContextCommonOptions } from './context-options.js';
import { SslContextBase } from './ssl-context-base.js';
import { checkSelfSignedOptions, generateSelfSignedCertificate, type SelfSignedOptions } from './self-signed.js';

const log = logger('ssl');

/** How a server treats client certificates. */
export type ClientCertificateMode = 'none' | 'request' | 'require';

/** Options of createSslServerContext. */
export interface SslServerContextOptions extends SslContextCommonOptions {
  /**
   * `'none'`: do not ask; `'request'`: ask, accept clients without a valid
   * one (`state.ssl.authorized` tells); `'require'`: refuse clients without a
   * certificate that verifies against `ca`/`caFile`. @default 'none'
   */
  clientCertificate?: ClientCertificateMode;
  /**
   * Contexts by SNI host name (exact, or `*.example.com` for one label);
   * values are server contexts or their options. Unknown names get this
   * context.
   */
  sni?: Record<string, SslServerContext | SslServerContextOptions>;
  /**
   * When `keyFile` and `certFile` are both missing, generate a key and a
   * self-signed certificate, write them there (the key with mode 0600) and
   * use them; without files, generate them in memory. `true` for the defaults.
   */
  selfSigned?: boolean | SelfSignedOptions;
}

const SERVER_KEYS = keys(...COMMON_KEYS, 'clientCertificate', 'sni', 'selfSigned');

function exists(file: string): boolean {
  try {
    fs.statSync(file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new InvalidArgumentError('options', `${file} cannot be checked: ${(error as Error).message}`, { cause: error });
  }
}

/** Writes the generated files: the key 0600, the certificate 0644; never over an existing file. */
function writeGenerated(keyFile: string, certFile: string, key: string, cert: string): void {
  for (const file of [keyFile, certFile]) fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true, mode: 0o700 });
  let wroteKey = false;
  try {
    fs.writeFileSync(keyFile, key, { mode: 0o600, flag: 'wx' });
    wroteKey = true;
    fs.chmodSync(keyFile, 0o600);
    fs.writeFileSync(certFile, cert, { mode: 0o644, flag: 'wx' });
  } catch (error) {
    // Leave no half of a pair behind.
    if (wroteKey) fs.rmSync(keyFile, { force: true });
    throw new InvalidArgumentError('options.selfSigned', `could not write the generated key and certificate: ${(error as Error).message}`, { cause: error });
  }
}

/** Applies `selfSigned` to the options: generates files (or PEM) when needed. Returns the options to use. */
function withSelfSigned(o: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> {
  const selfSigned = o['selfSigned'];
  if (selfSigned === undefined || selfSigned === false) return o;
  if (selfSigned !== true && (typeof selfSigned !== 'object' || selfSigned === null)) invalid('options.selfSigned', 'true, false or the generation options', selfSigned);
  const generation = checkSelfSignedOptions(selfSigned === true ? undefined : selfSigned, 'options.selfSigned');
  const keyFile = o['keyFile'];
  const certFile = o['certFile'];
  if (o['key'] !== undefined || o['cert'] !== undefined) throw new InvalidArgumentError('options.selfSigned', 'cannot be combined with key or cert given as PEM');
  if (keyFile === undefined && certFile === undefined) {
    const made = generateSelfSignedCertificate(generation);
    log('generated a self-signed %s certificate in memory for %s', generation.keyType, generation.commonName);
    return { ...o, key: made.key, cert: made.cert };
  }
  if (typeof keyFile !== 'string' || keyFile.length === 0) return invalid('options.keyFile', 'a file path (selfSigned writes the key there)', keyFile);
  if (typeof certFile !== 'string' || certFile.length === 0) return invalid('options.certFile', 'a file path (selfSigned writes the certificate there)', certFile);
  const haveKey = exists(keyFile);
  const haveCert = exists(certFile);
  if (haveKey && haveCert) return o;
  if (haveKey !== haveCert) {
    const [missing, present] = haveKey ? ['options.certFile', keyFile] : ['options.keyFile', certFile];
    throw new InvalidArgumentError(missing, `${haveKey ? certFile : keyFile} is missing while ${present} exists: refusing to generate a new pair over an existing file`);
  }
  const made = generateSelfSignedCertificate(generation);
  // Check every other option against the new pair in memory first: a call
  // refused for another reason must leave no files behind.
  // (`watch: true` needs files, which do not exist yet: checked as `false`.)
  const { keyFile: _k, certFile: _c, selfSigned: _s, ...rest } = o;
  new SslServerContext({ ...rest, ...(rest['watch'] === true ? { watch: false } : {}), key: made.key, cert: made.cert }).close();
  writeGenerated(keyFile, certFile, made.key, made.cert);
  log('generated a self-signed %s key and certificate for %s: %s, %s', generation.keyType, generation.commonName, keyFile, certFile);
  return o;
}

function sniKey(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/** A server abstract context (see createSslServerContext). */
export class SslServerContext extends SslContextBase {
  readonly side = 'server' as const;
  readonly #clientCertificate: ClientCertificateMode;
  readonly #sni: Map<string, SslServerContext> | null;
  readonly #ownedSni: SslServerContext[] = [];
  readonly #sniCallback: ((servername: string, callback: (error: Error | null, context?: tls.SecureContext) => void) => void) | null;

  /** @internal use createSslServerContext */
  constructor(options: unknown) {
    const given = checkOptions(options, SERVER_KEYS);
    const o = withSelfSigned(given);
    const common = checkCommonOptions(o, 'server');
    if (common.keySource === null) {
      throw new InvalidArgumentError('options.keyFile', 'and options.certFile (or key and cert, or selfSigned) are needed: a server must present a certificate');
    }
    super(common);
    this.#clientCertificate = checkKeyword<ClientCertificateMode>(o['clientCertificate'], 'options.clientCertificate', ['none', 'request', 'require'], 'none');
    if (this.#clientCertificate === 'require' && common.caSources.length === 0) {
      throw new InvalidArgumentError('options.clientCertificate', "'require' needs options.ca or options.caFile to verify client certificates against");
    }
    const sni = o['sni'];
    if (sni === undefined) {
      this.#sni = null;
      this.#sniCallback = null;
    } else {
      if (typeof sni !== 'object' || sni === null || Array.isArray(sni)) invalid('options.sni', 'an object of host names to contexts', sni);
      this.#sni = new Map();
      try {
        for (const [host, value] of Object.entries(sni as Record<string, unknown>)) {
          if (host.length === 0) invalid('options.sni', 'keys that are host names', host);
          let child: SslServerContext;
          if (value instanceof SslServerContext) child = value;
          else {
            try {
              child = new SslServerContext(value);
            } catch (error) {
              if (error instanceof InvalidArgumentError) throw new InvalidArgumentError(`options.sni[${JSON.stringify(host)}]`, `is not usable: ${error.message}`, { cause: error });
              throw error;
            }
            this.#ownedSni.push(child);
          }
          this.#sni.set(sniKey(host), child);
        }
      } catch (error) {
        for (const child of this.#ownedSni) child.close();
        throw error;
      }
      this.#sniCallback = (servername, callback) => callback(null, this.contextForName(servername)?.secureContext);
    }
    this.start();
  }

  /** The SNI context for `servername` (exact name, then `*.` wildcard), or null for the default. */
  contextForName(servername: string): SslServerContext | null {
    const map = this.#sni;
    if (map === null) return null;
    const name = sniKey(servername);
    const exact = map.get(name);
    if (exact !== undefined) return exact;
    const dot = name.indexOf('.');
    return dot < 0 ? null : (map.get(`*${name.slice(dot)}`) ?? null);
  }

  override reload(): void {
    super.reload();
    for (const child of this.#ownedSni) child.reload();
  }

  protected override closeChildren(): void {
    for (const child of this.#ownedSni) child.close();
  }

  protected connectionSettings(secureContext: tls.SecureContext): SslConnectionSettings {
    const settings: { -readonly [K in keyof SslConnectionSettings]: SslConnectionSettings[K] } = { secureContext };
    if (this.common.alpnProtocols !== undefined) settings.ALPNProtocols = this.common.alpnProtocols;
    if (this.#clientCertificate !== 'none') {
      settings.requestCert = true;
      settings.rejectUnauthorized = this.#clientCertificate === 'require';
    }
    if (this.#sniCallback !== null) settings.SNICallback = this.#sniCallback;
    return settings;
  }
}

/**
 * A server context for accepting with TLS (`sslCtx` of
 * acceptTcpConnectionsCreatingAsyncIoStates or of asyncIoStateAttachSsl on
 * the server side). Key and certificate are read and checked now: a file
 * that cannot be read, or a key that does not match its certificate, throws
 * `ERR_COMMIO_INVALID_ARGUMENT` naming the option, the path and the reason.
 * Defaults: TLS 1.2 minimum, modern AEAD ciphers only.
 */
export function createSslServerContext(options: SslServerContextOptions): SslServerContext {
  return new SslServerContext(options);
}
