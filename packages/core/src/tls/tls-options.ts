/** The TLS options of the accept and connect functions, as typed interfaces. */
import type { AcceptingHandle } from '../accept/accepting-handle.js';
import type { CtxConfigureCallback, SslConfigureCallback, SslCtx, SslSideChoice } from './tls-setup.js';

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

/** TLS options of acceptTcpConnectionsCreatingAsyncIoStates. */
export interface AcceptTlsOptions {
  /** Give every accepted connection TLS with this context; the connection function runs after the handshake. */
  sslCtx?: SslCtx | null;
  /** The TLS role of accepted connections; `'both'`: no handshake, the program chooses the role. @default 'server' */
  sslSide?: SslSideChoice;
  /** Fills the options of a context commio builds (keyword `sslCtx` only), once per accept call. */
  ctxConfigureCallback?: CtxConfigureCallback | null;
  /** Called with each new TLS socket before its handshake. */
  sslConfigureCallback?: SslConfigureCallback | null;
  /** Seconds a handshake may take; `null` for no limit (LispWorks' default, not recommended). @default 10 */
  handshakeTimeout?: number | null;
  /** Called through the collection after a failed handshake (socket already destroyed); default: the collection's handler gets the error. */
  sslErrorCallback?: ((error: Error, handle: AcceptingHandle) => void) | null;
}
