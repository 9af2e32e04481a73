/**
 * @commio/ssl: TLS contexts and certificates for commio. Server and client
 * "abstract contexts" (LispWorks 8's create-ssl-server-context and
 * create-ssl-client-context) accepted wherever `@commio/core` takes an
 * `sslCtx`, on-demand self-signed key and certificate, reload, and SNI.
 */
export { createSslServerContext, SslServerContext } from './server-context.js';
export type { SslServerContextOptions, ClientCertificateMode } from './server-context.js';
export { createSslClientContext, SslClientContext } from './client-context.js';
export type { SslClientContextOptions } from './client-context.js';
export { SslContextBase } from './ssl-context-base.js';
export type { SslContextCommonOptions, TlsVersion } from './context-options.js';
export { generateSelfSignedCertificate } from './self-signed.js';
export type { SelfSignedOptions, KeyAndCertificate } from './self-signed.js';
