/**
 * The public callback API the promise and stream layers are built on, in one
 * place: these are the functions `@commio/core` exports (no second I/O path),
 * imported from their modules rather than from the package index so that the
 * index can re-export the stream adapters without an import circle.
 */
export { AsyncIoState } from '../state/async-io-state.js';
export {
  asyncIoStateReadBuffer,
  asyncIoStateReadWithChecking,
  asyncIoStateFinish,
} from '../state/reading.js';
export { asyncIoStateWriteBuffer } from '../state/writing.js';
export { asyncIoStateAbort, asyncIoStateShutdown, closeAsyncIoState } from '../state/ending.js';
export type { Direction } from '../state/ending.js';
export { createAsyncIoStateAndConnectedTcpSocket } from '../connect/connect-tcp.js';
export type { ConnectOptions } from '../connect/connect-tcp.js';
export { asyncIoStateAttachSsl } from '../tls/state-ssl.js';
export type { AttachSslOptions } from '../tls/state-ssl.js';
export { asyncIoStateReceiveMessage } from '../udp/receive-message.js';
export { asyncIoStateSendMessage, asyncIoStateSendMessageToAddress } from '../udp/send-message.js';
export type { WaitStateCollection } from '../collection/wait-state-collection.js';
