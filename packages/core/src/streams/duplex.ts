/**
 * asyncIoStateToDuplex: a state as a Node.js `stream.Duplex`, for pipes,
 * `node:stream/promises.pipeline`, `node:zlib` and any stream library.
 * Built on the promise layer (itself on the callback API): one read runs
 * only when the readable side wants more, one write at a time.
 */
import dgram from 'node:dgram';
import { Duplex } from 'node:stream';
import { InvalidArgumentError, StateClosedError, UnsupportedError } from '../errors.js';
import { AsyncIoState, closeAsyncIoState } from '../promises/callback-api.js';
import { readSome } from '../promises/read-some.js';
import { shutdown } from '../promises/shutdown.js';
import { write } from '../promises/write.js';

/** Throws unless `state` is an open TCP state (shared by both adapters). */
export function checkStreamableState(state: unknown): AsyncIoState {
  if (!(state instanceof AsyncIoState)) throw new InvalidArgumentError('state', 'must be an AsyncIoState');
  if (state.closed) throw new StateClosedError(`${String(state)} is closed`);
  // A datagram socket has no byte stream to adapt.
  if (state.object instanceof dgram.Socket) throw new UnsupportedError(`${String(state)} is a UDP state: streams need a TCP state`);
  return state;
}

class StateDuplex extends Duplex {
  readonly #state: AsyncIoState;
  /** Aborts the read in flight, if any. */
  #reading: AbortController | null = null;

  constructor(state: AsyncIoState) {
    // Half-open: the peer's FIN ends the readable side only, end() the writable side only.
    super({ allowHalfOpen: true });
    this.#state = state;
  }

  override _read(): void {
    if (this.#reading !== null) return;
    const reading = new AbortController();
    this.#reading = reading;
    readSome(this.#state, { signal: reading.signal }).then(
      (chunk) => {
        this.#reading = null;
        if (!this.destroyed) this.push(chunk);
      },
      (error: unknown) => {
        this.#reading = null;
        if (!this.destroyed) this.destroy(error as Error);
      },
    );
  }

  override _write(chunk: Uint8Array, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    write(this.#state, chunk).then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    shutdown(this.#state, 'output').then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#reading?.abort(error ?? undefined);
    this.#reading = null;
    if (!this.#state.closed) closeAsyncIoState(this.#state);
    callback(error);
  }
}

/**
 * A `stream.Duplex` over the state. The readable side reads only while it is
 * below its `highWaterMark` (16 KiB): a consumer that stops reading stops the
 * reading, the state reads ahead at most 64 KiB and TCP holds the peer back.
 * The writable side writes one chunk at a time, each once the previous was
 * handed to the kernel, so `write()` returns false and 'drain' follows as
 * the peer takes the bytes. The peer's FIN ends the readable side; `end()`
 * shuts the state's output down once everything was written (FIN), the
 * readable side staying open (half-open). A read timeout
 * (`ERR_COMMIO_READ_TIMEOUT`, after the state's `readTimeout` seconds), a
 * write timeout or a connection error destroys the stream with that error.
 * `destroy()`, and the end of both sides, close the state. The state must
 * be an open TCP state (else `ERR_COMMIO_STATE_CLOSED`,
 * `ERR_COMMIO_UNSUPPORTED` for UDP, thrown at once) and must not be used
 * through other functions meanwhile.
 */
export function asyncIoStateToDuplex(state: AsyncIoState): Duplex {
  return new StateDuplex(checkStreamableState(state));
}
