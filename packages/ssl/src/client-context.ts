/**
 * createSslClientContext: LispWorks 8's client "abstract context".
 * Verification of the server's certificate (chain and host name) is on by
 * default; `verify: false` is the opt-out.
 */
import type tls from 'node:tls';
import type { SslConnectionSettings } from '@commio/core';
import { checkBoolean, checkOptions, checkString, keys, optionalFunction } from '@commio/core/internal';
import { COMMON_KEYS, checkCommonOptions, type SslContextCommonOptions } from './context-options.js';
import { SslContextBase } from './ssl-context-base.js';

/** Options of createSslClientContext. */
export interface SslClientContextOptions extends SslContextCommonOptions {
  /**
   * Verify the server's certificate: its chain against `ca`/`caFile` (or the
   * system's roots) and its host name. `false` turns verification off
   * (testing only: it allows anyone in the middle). @default true
   */
  verify?: boolean;
  /** The host name to send as SNI and to check the certificate against when the connect or attach call gives none. */
  servername?: string;
  /** Checks the server's certificate against the expected host name. @default tls.checkServerIdentity */
  checkServerIdentity?: ((hostname: string, cert: tls.PeerCertificate) => Error | undefined) | null;
}

const CLIENT_KEYS = keys(...COMMON_KEYS, 'verify', 'servername', 'checkServerIdentity');

/** A client abstract context (see createSslClientContext). */
export class SslClientContext extends SslContextBase {
  readonly side = 'client' as const;
  readonly #verify: boolean;
  readonly #servername: string | undefined;
  readonly #checkServerIdentity: ((hostname: string, cert: tls.PeerCertificate) => Error | undefined) | null;

  /** @internal use createSslClientContext */
  constructor(options: unknown) {
    const o = checkOptions(options, CLIENT_KEYS);
    super(checkCommonOptions(o, 'client'));
    this.#verify = checkBoolean(o['verify'], 'options.verify', true);
    this.#servername = o['servername'] === undefined ? undefined : checkString(o['servername'], 'options.servername');
    this.#checkServerIdentity = optionalFunction(o['checkServerIdentity'], 'options.checkServerIdentity');
    this.start();
  }

  /** True when the server's certificate is verified. */
  get verify(): boolean {
    return this.#verify;
  }

  protected connectionSettings(secureContext: tls.SecureContext): SslConnectionSettings {
    const settings: { -readonly [K in keyof SslConnectionSettings]: SslConnectionSettings[K] } = { secureContext, rejectUnauthorized: this.#verify };
    if (this.common.alpnProtocols !== undefined) settings.ALPNProtocols = this.common.alpnProtocols;
    if (this.#servername !== undefined) settings.servername = this.#servername;
    if (this.#checkServerIdentity !== null) settings.checkServerIdentity = this.#checkServerIdentity;
    return settings;
  }
}

/**
 * A client context for connecting with TLS (`sslCtx` of
 * createAsyncIoStateAndConnectedTcpSocket, or of asyncIoStateAttachSsl with
 * `sslSide: 'client'`). A client certificate (key and cert) is optional.
 * Defaults: verification on, TLS 1.2 minimum, modern AEAD ciphers only.
 */
export function createSslClientContext(options?: SslClientContextOptions): SslClientContext {
  return new SslClientContext(options);
}
