/** attachSsl: asyncIoStateAttachSsl (STARTTLS) as a promise. */
import { asyncIoStateAttachSsl, closeAsyncIoState, type AsyncIoState, type AttachSslOptions } from './callback-api.js';
import { operation } from './operation.js';

/** Options of attachSsl: those of asyncIoStateAttachSsl, and `signal`. */
export interface PromiseAttachSslOptions extends AttachSslOptions {
  /** Gives up the handshake: the state is closed and the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Attaches TLS to a live plain TCP state (STARTTLS) and resolves once the
 * handshake succeeded (at once with `sslSide: 'both'`). Rejects with the
 * failure (`HandshakeFailedError` with the TLS error as `cause`,
 * `HandshakeTimeoutError` after `handshakeTimeout` seconds); the connection
 * is then destroyed, as with the callback. The state must be idle. Aborting
 * `signal` closes the state (a half-done handshake leaves nothing usable)
 * and rejects with the signal's reason.
 */
export function attachSsl(state: AsyncIoState, options?: PromiseAttachSslOptions): Promise<void> {
  return operation(
    options,
    null,
    (other, settle) => {
      asyncIoStateAttachSsl(
        state,
        (_s, failure) => {
          if (failure === null) settle.resolve();
          else settle.reject(failure);
        },
        other,
      );
    },
    (reason, settle) => {
      closeAsyncIoState(state);
      settle.reject(reason);
    },
  );
}
