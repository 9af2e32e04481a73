/** readChunks: the bytes of a state as an async iterable. */
import dgram from 'node:dgram';
import { checkInteger, checkOptions, keys } from '../options/validate.js';
import { AsyncIoState } from './callback-api.js';
import { checkSignal } from './operation.js';
import { readSome } from './read-some.js';
import { InvalidArgumentError, StateClosedError, UnsupportedError } from '../errors.js';

/** Options of readChunks. */
export interface ReadChunksOptions {
  /** Most bytes per chunk; also sets `state.maxRead`, as in the callback API. @default state.maxRead (65536) */
  maxRead?: number;
  /** Aborts the pending read (as asyncIoStateAbort does); the iteration throws the signal's reason. */
  signal?: AbortSignal;
}

const KEYS = keys('maxRead', 'signal');

/**
 * The bytes of the state as they arrive, for `for await`: each chunk (at
 * most `maxRead` bytes) is the caller's to keep. Ends at EOF; throws
 * ReadTimeoutError after the state's `readTimeout` seconds without bytes,
 * the state's error when the connection fails, and the signal's reason when
 * `signal` is aborted.
 *
 * A read runs only while the consumer waits for the next chunk, so a
 * consumer that stops pulling stops the reading: the state reads ahead at
 * most 64 KiB and TCP holds the peer back. Leaving the loop (`break`,
 * `return`, a throw) leaves the state open with no read active; bytes not
 * yet returned stay buffered for the next read of any kind.
 *
 * Not a promise: misuse (not a state, a closed or UDP state, bad options)
 * throws the typed error at once; a read already active throws from the
 * first step.
 */
export function readChunks(state: AsyncIoState, options?: ReadChunksOptions): AsyncIterable<Uint8Array> {
  if (!(state instanceof AsyncIoState)) throw new InvalidArgumentError('state', 'must be an AsyncIoState');
  if (state.closed) throw new StateClosedError(`${String(state)} is closed`);
  if (state.object instanceof dgram.Socket) throw new UnsupportedError(`${String(state)} is a UDP state: use receiveMessage`);
  const o = checkOptions(options, KEYS);
  const maxRead = checkInteger(o['maxRead'], 'options.maxRead', 1, 0x7fffffff);
  const signal = checkSignal(o['signal']);
  const stepOptions = { ...(maxRead === undefined ? {} : { maxRead }), ...(signal === undefined ? {} : { signal }) };
  return chunksOf(state, stepOptions);
}

async function* chunksOf(state: AsyncIoState, stepOptions: { maxRead?: number; signal?: AbortSignal }): AsyncGenerator<Uint8Array, void, undefined> {
  for (;;) {
    const chunk = await readSome(state, stepOptions);
    if (chunk === null) return;
    yield chunk;
  }
}
