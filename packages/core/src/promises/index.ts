/**
 * `@commio/core/promises`: the async-I/O state operations as promises and an
 * async iterable, for `await` and `for await`, built on the callback API
 * (which stays the canonical one), as `node:fs/promises` is on `node:fs`.
 *
 * Every function takes `signal`: aborting it aborts that operation as
 * asyncIoStateAbort does and rejects with the signal's reason. Misuse (a bad
 * argument, an operation already active, a closed state) rejects the promise
 * with the typed error before anything starts; readChunks, which returns an
 * iterable, throws it. Durations are seconds.
 */
export { readBuffer } from './read-buffer.js';
export type { PromiseReadBufferOptions } from './read-buffer.js';
export { readChunks } from './read-chunks.js';
export type { ReadChunksOptions } from './read-chunks.js';
export { readUntil, DEFAULT_MAX_RECORD_LENGTH } from './read-until.js';
export type { ReadUntilOptions } from './read-until.js';
export { write } from './write.js';
export type { PromiseWriteOptions } from './write.js';
export { shutdown } from './shutdown.js';
export type { PromiseShutdownOptions } from './shutdown.js';
export { connect } from './connect.js';
export type { PromiseConnectOptions } from './connect.js';
export { attachSsl } from './attach-ssl.js';
export type { PromiseAttachSslOptions } from './attach-ssl.js';
export { receiveMessage, sendMessage, sendMessageToAddress } from './datagrams.js';
export type { PromiseReceiveMessageOptions, PromiseSendMessageOptions, ReceivedMessage } from './datagrams.js';
