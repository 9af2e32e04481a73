/** The TLS options of the accept function, as a typed interface. */
import type { CtxConfigureCallback, SslConfigureCallback, SslCtx, SslSideChoice } from '../tls/tls-setup.js';
import type { AcceptingHandle } from './accepting-handle.js';

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
