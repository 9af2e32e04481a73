/**
 * @commio/core: LispWorks-style asynchronous TCP, TLS and UDP I/O on Node.js.
 * The free functions keep the LispWorks names in camelCase and are the
 * canonical API; see the package README for the mapping table.
 */

// errors
export {
  CommioError,
  InvalidArgumentError,
  OperationInProgressError,
  NotInCallbackError,
  StateClosedError,
  BindTimeoutError,
  BindFailedError,
  HandshakeTimeoutError,
  HandshakeFailedError,
  ConnectTimeoutError,
  BufferOverflowError,
  OutputOverflowError,
  UnsupportedError,
  CollectionClosedError,
} from './errors.js';
export type { CommioErrorCode } from './errors.js';

// collections
export {
  WaitStateCollection,
  makeWaitStateCollection,
  createAndRunWaitStateCollection,
  loopProcessingWaitStateCollection,
  waitForWaitStateCollection,
  callWaitStateCollection,
  waitStateCollectionStopLoop,
  waitStateCollectionAliveP,
  applyInWaitStateCollectionProcess,
  closeWaitStateCollection,
} from './collection/wait-state-collection.js';
export type { CreateAndRunOptions } from './collection/wait-state-collection.js';
export type { Handler, WithBacktrace } from './collection/handler.js';

// states
export { AsyncIoState } from './state/async-io-state.js';
export type { SocketAddress, SslSide } from './state/async-io-state.js';
export type { IoStatus } from './state/status.js';
export type { StateOptions } from './options/state-options.js';
export { createAsyncIoState } from './state/create-state.js';
export type { CreateAsyncIoStateOptions } from './state/create-state.js';
export {
  asyncIoStateCollection,
  asyncIoStateObject,
  asyncIoStateName,
  asyncIoStateUserInfo,
  asyncIoStateReadTimeout,
  asyncIoStateWriteTimeout,
  asyncIoStateMaxRead,
  asyncIoStateOldLength,
  asyncIoStateReadStatus,
  asyncIoStateWriteStatus,
  asyncIoStateAddress,
  asyncIoStatePeerAddress,
  asyncIoStateSslSide,
  asyncIoStateCtx,
  asyncIoStateSsl,
} from './state/readers.js';

// reading
export {
  asyncIoStateReadBuffer,
  asyncIoStateReadWithChecking,
  asyncIoStateDiscard,
  asyncIoStateFinish,
  asyncIoStateWaitForInput,
  asyncIoStateGetBufferedData,
  asyncIoStateBufferedDataLength,
} from './state/reading.js';
export type { ReadBufferOptions, ReadWithCheckingOptions, WaitForInputOptions } from './state/reading.js';
export type { BufferCallback, StateCallback } from './state/callbacks.js';
export type { ElementType } from './state/checking-read.js';

// writing
export { asyncIoStateWriteBuffer } from './state/writing.js';
export type { WriteBufferOptions } from './state/writing.js';

// ending
export { asyncIoStateAbort, asyncIoStateAbortAndClose, closeAsyncIoState, asyncIoStateShutdown } from './state/ending.js';
export type { Direction, ShutdownCallback } from './state/ending.js';

// accepting
export { acceptTcpConnectionsCreatingAsyncIoStates } from './accept/accept-tcp-connections.js';
export type { AcceptOptions, Ipv6Choice } from './accept/accept-options.js';
export type { ConnectionFunction } from './accept/accepting-handle.js';
export { systemdListenFds, systemdListenFd } from './accept/systemd.js';
export type { InheritedSocket } from './accept/systemd.js';
export {
  AcceptingHandle,
  closeAcceptingHandle,
  acceptingHandleCollection,
  acceptingHandleSocket,
  acceptingHandleName,
  acceptingHandleUserInfo,
  acceptingHandleLocalPort,
} from './accept/accepting-handle.js';

// connecting
export { createAsyncIoStateAndConnectedTcpSocket } from './connect/connect-tcp.js';
export type { ConnectOptions, ConnectCallback } from './connect/connect-tcp.js';
export { nativeTransportStatus } from './transports/native-status.js';
export type { NativeTransportStatus, TransportChoice } from './transports/native-status.js';

// UDP
export { createAsyncIoStateAndUdpSocket, createAsyncIoStateAndConnectedUdpSocket } from './udp/create-udp-socket.js';
export type { UdpSocketOptions, ConnectedUdpSocketOptions } from './udp/create-udp-socket.js';
export { asyncIoStateReceiveMessage } from './udp/receive-message.js';
export type { ReceiveMessageOptions } from './udp/receive-message.js';
export type { ReceiveCallback } from './udp/udp-transport.js';
export { asyncIoStateSendMessage, asyncIoStateSendMessageToAddress } from './udp/send-message.js';
export type { SendMessageOptions } from './udp/send-message.js';

// TLS on states
export {
  asyncIoStateAttachSsl,
  asyncIoStateDetachSsl,
  asyncIoStateHandshake,
  asyncIoStateSslSetAcceptState,
  asyncIoStateSslSetConnectState,
  asyncIoSslFailureIndicatorFromFailureArgs,
} from './tls/state-ssl.js';
export type { AttachSslOptions, SslCallback } from './tls/state-ssl.js';
export type { SslCtx, SslSideChoice, SslContextOptions, CtxConfigureCallback, SslConfigureCallback } from './tls/tls-setup.js';
export { DEFAULT_HANDSHAKE_TIMEOUT } from './tls/tls-setup.js';
export type { ConnectTlsOptions } from './tls/tls-options.js';
export type { AcceptTlsOptions } from './accept/accept-tls-options.js';
export type { SslErrorCallback } from './accept/accept-tls.js';
export { SSL_CONTEXT, isSslAbstractContext } from './tls/ssl-context.js';
export type { SslAbstractContext, SslConnectionSettings, SniCallback } from './tls/ssl-context.js';
export { MIN_TLS_VERSION, MODERN_CIPHERS, SECURE_OPTIONS } from './tls/modern-defaults.js';

// PROXY protocol, drain, worker processes
export { ProxyProtocolError } from './errors.js';
export type { ProxyProtocolFailure } from './errors.js';
export type { ProxyHeader, ProxyAddress } from './proxy/proxy-header.js';
export type { ProxyProtocolOptions } from './proxy/proxy-options.js';
export { drainAcceptingHandle } from './accept/drain.js';
export type { DrainOptions, DrainResult } from './accept/drain.js';
export { drainWaitStateCollection } from './accept/drain-collection.js';
export { startWorkerProcesses } from './workers/worker-group.js';
export type { WorkerGroup } from './workers/worker-group.js';
export type { WorkerProcessesOptions } from './workers/worker-options.js';
// streams (the promise API is the subpath export '@commio/core/promises')
export { asyncIoStateToDuplex } from './streams/duplex.js';
export { asyncIoStateToWebStreams } from './streams/web-streams.js';
export type { AsyncIoStateWebStreams } from './streams/web-streams.js';
export { ReadTimeoutError, WriteTimeoutError } from './errors.js';

// statistics
export { acceptingHandleStats, waitStateCollectionStats } from './stats/snapshots.js';
export type { ClosedCounts, CloseReason, ConnectionStats } from './stats/snapshots.js';
