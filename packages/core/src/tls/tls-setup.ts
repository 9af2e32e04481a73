/**
 * The TLS options shared by accept, connect and attach (`sslCtx`,
 * `ctxConfigureCallback`, `sslConfigureCallback`, `handshakeTimeout`,
 * `tlsextHostName`, `sslSide`): checking them, and turning them into the
 * settings each new connection uses.
 */
import tls from 'node:tls';
import { InvalidArgumentError, UnsupportedError } from '../errors.js';
import { checkKeyword, checkSeconds, invalid, optionalFunction, type CheckedOptions } from '../options/validate.js';
import { MIN_TLS_VERSION, MODERN_CIPHERS, REFUSED_VERSIONS, SECURE_OPTIONS } from './modern-defaults.js';
import { isSslAbstractContext, type SniCallback, type SslAbstractContext, type SslConnectionSettings } from './ssl-context.js';

/**
 * What `sslCtx` takes: `true`/`'default'` (a fresh context with modern
 * defaults, TLS 1.2 minimum; `'v23'` is the same), `'tls-v1-2'` or
 * `'tls-v1-3'` (that version only), a `tls.SecureContext` (used as is), or an
 * abstract context from `@commio/ssl`. `null`/`false`/absent: no TLS.
 */
export type SslCtx = true | 'default' | 'v23' | 'tls-v1-2' | 'tls-v1-3' | tls.SecureContext | SslAbstractContext;

/** The TLS role: `'both'` attaches without a handshake; the role is chosen later. */
export type SslSideChoice = 'client' | 'server' | 'both';

/**
 * The mutable options `ctxConfigureCallback` fills before commio builds the
 * context: `tls.SecureContextOptions` (key, cert, ca, ciphers, versions, ...)
 * plus the connection settings commio reads afterwards.
 */
export interface SslContextOptions extends tls.SecureContextOptions {
  /** Client: refuse a server whose certificate does not verify; `false` is the opt-out. Server: refuse bad client certificates. @default true */
  rejectUnauthorized?: boolean;
  /** Server: ask clients for a certificate. @default false */
  requestCert?: boolean;
  /** ALPN protocol names, most preferred first. */
  ALPNProtocols?: string[];
  /** Server: chooses a context per SNI host name. */
  SNICallback?: SniCallback;
  /** Client: checks the server's certificate against the expected host name. @default tls.checkServerIdentity */
  checkServerIdentity?: (hostname: string, cert: tls.PeerCertificate) => Error | undefined;
}

/** Called with the options before commio builds a context from a keyword `sslCtx`. */
export type CtxConfigureCallback = (options: SslContextOptions) => void;
/** Called with each new TLS socket before its handshake starts. */
export type SslConfigureCallback = (ssl: tls.TLSSocket) => void;

/** The default `handshakeTimeout`, in seconds (LispWorks has none, Node.js 120 s; bounded as in Netty). */
export const DEFAULT_HANDSHAKE_TIMEOUT = 10;

const KEYWORDS = ['default', 'v23', 'tls-v1-2', 'tls-v1-3'] as const;
const SIDES: readonly SslSideChoice[] = ['client', 'server', 'both'];

/** The checked TLS options of one call, before any context is built. */
export interface TlsRequest {
  sslCtx: SslCtx;
  side: SslSideChoice;
  ctxConfigureCallback: CtxConfigureCallback | null;
  sslConfigureCallback: SslConfigureCallback | null;
  /** Seconds, or null for no limit. */
  handshakeTimeout: number | null;
  tlsextHostName: string | true | null;
}

/** Checks an `sslCtx` value; returns null for "no TLS". */
export function checkSslCtx(value: unknown, name: string): SslCtx | null {
  if (value === undefined || value === null || value === false) return null;
  if (value === true) return true;
  if (typeof value === 'string') {
    const why = REFUSED_VERSIONS[value];
    if (why !== undefined) throw new UnsupportedError(`${name} ${JSON.stringify(value)} is refused: ${why}; use true, 'tls-v1-2' or 'tls-v1-3'`);
    if ((KEYWORDS as readonly string[]).includes(value)) return value as SslCtx;
    invalid(name, "true, 'default', 'tls-v1-2', 'tls-v1-3', a tls.SecureContext or a context from @commio/ssl", value);
  }
  if (isSecureContextLike(value)) return value as tls.SecureContext;
  if (isSslAbstractContext(value)) return value;
  return invalid(name, "true, 'default', 'tls-v1-2', 'tls-v1-3', a tls.SecureContext or a context from @commio/ssl", value);
}

function isSecureContextLike(value: unknown): boolean {
  // Node.js does not export the SecureContext class: recognise what tls.createSecureContext returns.
  return typeof value === 'object' && value !== null && typeof (value as { context?: unknown }).context === 'object' && (value as { context?: unknown }).context !== null && !isSslAbstractContext(value);
}

/** Checks a `tlsextHostName` value. */
export function checkTlsextHostName(value: unknown, name: string): string | true | null {
  if (value === undefined || value === null) return null;
  if (value === true) return true;
  if (typeof value === 'string' && value.length > 0) return value;
  return invalid(name, 'a host name, true or null', value);
}

/**
 * Checks the TLS options in already key-checked `o`. Returns null when
 * `sslCtx` asks for no TLS (the other TLS options are still type-checked).
 * `defaultSslCtx`: what an absent `sslCtx` means (attach: true; accept and
 * connect: no TLS). `defaultSide`: the side when `sslSide` is absent or not
 * an option of the call.
 */
export function checkTlsOptions(o: CheckedOptions, defaultSslCtx: SslCtx | null, defaultSide: SslSideChoice, sideOption: boolean): TlsRequest | null {
  const sslCtx = o['sslCtx'] === undefined ? defaultSslCtx : checkSslCtx(o['sslCtx'], 'options.sslCtx');
  const side = sideOption ? checkKeyword(o['sslSide'], 'options.sslSide', SIDES, defaultSide) : defaultSide;
  const ctxConfigureCallback = optionalFunction<CtxConfigureCallback>(o['ctxConfigureCallback'], 'options.ctxConfigureCallback');
  const sslConfigureCallback = optionalFunction<SslConfigureCallback>(o['sslConfigureCallback'], 'options.sslConfigureCallback');
  const timeout = o['handshakeTimeout'] === undefined ? DEFAULT_HANDSHAKE_TIMEOUT : checkSeconds(o['handshakeTimeout'], 'options.handshakeTimeout');
  const tlsextHostName = checkTlsextHostName(o['tlsextHostName'], 'options.tlsextHostName');
  if (sslCtx === null) return null;
  if (isSslAbstractContext(sslCtx) && side !== 'both' && sslCtx.side !== side) {
    throw new InvalidArgumentError('options.sslCtx', `is a ${sslCtx.side} context, but the TLS side here is '${side}'`);
  }
  return {
    sslCtx,
    side,
    ctxConfigureCallback,
    sslConfigureCallback,
    handshakeTimeout: timeout === null || timeout <= 0 ? null : timeout,
    tlsextHostName,
  };
}

/**
 * The TLS configuration of one accept, connect or attach call, resolved once:
 * keyword contexts are built here (after `ctxConfigureCallback`), abstract
 * contexts are asked per connection.
 */
export class TlsSetup {
  readonly request: TlsRequest;
  readonly #fixed: SslConnectionSettings | null;
  readonly #abstract: SslAbstractContext | null;

  constructor(request: TlsRequest) {
    this.request = request;
    const ctx = request.sslCtx;
    if (isSslAbstractContext(ctx)) {
      this.#abstract = ctx;
      this.#fixed = null;
    } else if (typeof ctx === 'object') {
      this.#abstract = null;
      this.#fixed = { secureContext: ctx };
    } else {
      this.#abstract = null;
      this.#fixed = buildKeywordContext(ctx, request);
    }
  }

  /** The settings for one new connection. */
  settings(): SslConnectionSettings {
    return this.#fixed ?? (this.#abstract as SslAbstractContext).sslConnectionSettings();
  }
}

function buildKeywordContext(keyword: Exclude<SslCtx, object>, request: TlsRequest): SslConnectionSettings {
  const options: SslContextOptions = { minVersion: MIN_TLS_VERSION, ciphers: MODERN_CIPHERS, honorCipherOrder: true, secureOptions: SECURE_OPTIONS };
  if (keyword === 'tls-v1-2') {
    options.minVersion = 'TLSv1.2';
    options.maxVersion = 'TLSv1.2';
  } else if (keyword === 'tls-v1-3') {
    options.minVersion = 'TLSv1.3';
    options.maxVersion = 'TLSv1.3';
  }
  request.ctxConfigureCallback?.(options);
  const { rejectUnauthorized, requestCert, ALPNProtocols, SNICallback, checkServerIdentity, ...contextOptions } = options;
  for (const version of [contextOptions.minVersion, contextOptions.maxVersion]) {
    const why = version === undefined ? undefined : REFUSED_VERSIONS[version];
    if (why !== undefined) throw new UnsupportedError(`options.ctxConfigureCallback set ${JSON.stringify(version)}, which is refused: ${why}`);
  }
  if (request.side === 'server' && contextOptions.key === undefined && contextOptions.pfx === undefined && SNICallback === undefined) {
    throw new InvalidArgumentError(
      'options.ctxConfigureCallback',
      "must give the server a key and certificate: set `key` and `cert` (or `pfx`) on the options it receives, or pass a context from @commio/ssl as sslCtx",
    );
  }
  let secureContext: tls.SecureContext;
  try {
    secureContext = tls.createSecureContext(contextOptions);
  } catch (error) {
    throw new InvalidArgumentError('options.sslCtx', `could not be built into a secure context: ${(error as Error).message}`, { cause: error });
  }
  const settings: { -readonly [K in keyof SslConnectionSettings]: SslConnectionSettings[K] } = { secureContext };
  if (rejectUnauthorized !== undefined) settings.rejectUnauthorized = rejectUnauthorized;
  if (requestCert !== undefined) settings.requestCert = requestCert;
  if (ALPNProtocols !== undefined) settings.ALPNProtocols = ALPNProtocols;
  if (SNICallback !== undefined) settings.SNICallback = SNICallback;
  if (checkServerIdentity !== undefined) settings.checkServerIdentity = checkServerIdentity;
  return Object.freeze(settings);
}
