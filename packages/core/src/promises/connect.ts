/** connect: createAsyncIoStateAndConnectedTcpSocket as a promise. */
import { closeAsyncIoState, createAsyncIoStateAndConnectedTcpSocket, type AsyncIoState, type ConnectOptions, type WaitStateCollection } from './callback-api.js';
import { operation } from './operation.js';

/** Options of connect: those of createAsyncIoStateAndConnectedTcpSocket, and `signal`. */
export interface PromiseConnectOptions extends ConnectOptions {
  /** Gives up: the connecting state is closed and the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Connects a new state of `collection` to `hostspec:service` (and runs the
 * TLS handshake with `sslCtx`); resolves with the state once connected.
 * Rejects with the failure (`ECONNREFUSED`, `ERR_COMMIO_CONNECT_TIMEOUT`
 * after `connectTimeout` seconds, `ERR_COMMIO_HANDSHAKE_FAILED`, ...), the
 * state already closed. Aborting `signal` closes the state and rejects with
 * the signal's reason.
 */
export function connect(
  collection: WaitStateCollection,
  hostspec: string,
  service: number | string,
  options?: PromiseConnectOptions,
): Promise<AsyncIoState> {
  let state: AsyncIoState | null = null;
  return operation<AsyncIoState>(
    options,
    null,
    (other, settle) => {
      state = createAsyncIoStateAndConnectedTcpSocket(
        collection,
        hostspec,
        service,
        (s, failure) => {
          if (failure === null) settle.resolve(s);
          else settle.reject(failure);
        },
        other,
      );
    },
    (reason, settle) => {
      // A state closed while it connects gets no callback.
      if (state !== null) closeAsyncIoState(state);
      settle.reject(reason);
    },
  );
}
