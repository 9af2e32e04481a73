/** The callback shapes of stream reads and writes, and of wait-for-input. */
import type { AsyncIoState } from './async-io-state.js';

/** `(state, buffer, count)`: the callback of read-buffer, read-with-checking and write-buffer. */
export type BufferCallback<B = Uint8Array> = (state: AsyncIoState, buffer: B, count: number) => void;
/** `(state)`: wait-for-input's callback (and other callbacks that only get the state). */
export type StateCallback = (state: AsyncIoState) => void;
