/**
 * The `node:diagnostics_channel` channels commio publishes on, so tracing
 * and metrics libraries can subscribe without commio knowing them. A
 * message is built only when the channel has subscribers (one property
 * read otherwise).
 *
 * - `commio:state:open` `{ state }`: a state was made (its transport is
 *   attached right after: read addresses from the first callback on).
 * - `commio:state:close` `{ state, reason, code, bytesRead, bytesWritten }`:
 *   a state closed; `reason` a `CloseReason`, `code` the error code for
 *   `'error'` (else null).
 * - `commio:accept:error` `{ handle, error }`: a listening socket's accept
 *   failed, or an accepted connection was refused for its PROXY header.
 * - `commio:handshake:failure` `{ state, error }`: a TLS handshake failed
 *   or timed out (accepted, connected or attached).
 */
import diagnosticsChannel from 'node:diagnostics_channel';

/** `commio:state:open` */
export const stateOpenChannel = diagnosticsChannel.channel('commio:state:open');
/** `commio:state:close` */
export const stateCloseChannel = diagnosticsChannel.channel('commio:state:close');
/** `commio:accept:error` */
export const acceptErrorChannel = diagnosticsChannel.channel('commio:accept:error');
/** `commio:handshake:failure` */
export const handshakeFailureChannel = diagnosticsChannel.channel('commio:handshake:failure');
