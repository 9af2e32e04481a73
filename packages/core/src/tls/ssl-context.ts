/**
 * The interface an "abstract context" implements (LispWorks 8's
 * `ssl-abstract-context`): an object that carries a whole TLS configuration
 * and is accepted wherever an `sslCtx` is. `@commio/ssl` makes them; core
 * never imports that package, it only knows this interface.
 *
 * Core asks the object for its settings once per new connection, so an
 * object that reloads its certificate serves the new one to new connections
 * while live ones keep theirs.
 */
import type tls from 'node:tls';

/** The brand every abstract context carries (shared across copies of commio). */
export const SSL_CONTEXT: unique symbol = Symbol.for('commio.sslContext') as never;

/** Picks the secure context for an SNI host name: `callback(null, context)` or `callback(null, undefined)` for the default. */
export type SniCallback = (servername: string, callback: (error: Error | null, context?: tls.SecureContext) => void) => void;

/** What one new connection uses. Every field but `secureContext` is optional. */
export interface SslConnectionSettings {
  /** The secure context (key, certificate, CA, ciphers, versions). */
  readonly secureContext: tls.SecureContext;
  /** Server side: chooses a context by the host name the client asked for. */
  readonly SNICallback?: SniCallback | undefined;
  /** ALPN protocol names, most preferred first. */
  readonly ALPNProtocols?: readonly string[] | undefined;
  /** Server side: ask the client for a certificate. @default false */
  readonly requestCert?: boolean | undefined;
  /**
   * Client side: refuse a server whose certificate does not verify (chain and
   * host name). Server side with `requestCert`: refuse a client whose
   * certificate does not verify. @default true
   */
  readonly rejectUnauthorized?: boolean | undefined;
  /** Client side: the host name to send as SNI and to check the certificate against, when the call gives none. */
  readonly servername?: string | undefined;
  /** Client side: checks the server's certificate against the expected host name (default `tls.checkServerIdentity`). */
  readonly checkServerIdentity?: ((hostname: string, cert: tls.PeerCertificate) => Error | undefined) | undefined;
}

/**
 * An abstract context: `@commio/ssl`'s `createSslServerContext` and
 * `createSslClientContext` make them. Anything with this shape is accepted.
 */
export interface SslAbstractContext {
  /** The brand. */
  readonly [SSL_CONTEXT]: true;
  /** The side the context is made for. */
  readonly side: 'server' | 'client';
  /** The settings for one new connection; called per connection, so it must be cheap. */
  sslConnectionSettings(): SslConnectionSettings;
}

/** True when `value` is an abstract context. */
export function isSslAbstractContext(value: unknown): value is SslAbstractContext {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[SSL_CONTEXT] === true &&
    typeof (value as { sslConnectionSettings?: unknown }).sslConnectionSettings === 'function'
  );
}
