/** The TLS options of the connect functions, as a typed interface (the accept ones are in accept/accept-tls-options.ts). */
import type { CtxConfigureCallback, SslConfigureCallback, SslCtx } from './tls-setup.js';

/** TLS options of createAsyncIoStateAndConnectedTcpSocket. */
export interface ConnectTlsOptions {
  /** Connect with TLS (as the client) using this context; `null`/absent: plain TCP. */
  sslCtx?: SslCtx | null;
  /** Fills the options of a context commio builds (keyword `sslCtx` only), before it is built. */
  ctxConfigureCallback?: CtxConfigureCallback | null;
  /** Called with the new TLS socket before its handshake. */
  sslConfigureCallback?: SslConfigureCallback | null;
  /** Seconds the TLS handshake may take; `null` for no limit. @default 10 */
  handshakeTimeout?: number | null;
  /**
   * The SNI host name to send (also the name the server's certificate must
   * match); `true`: the host connected to (not for IP literals); absent or
   * `null`: no SNI, and the certificate must match the host connected to.
   */
  tlsextHostName?: string | true | null;
}
