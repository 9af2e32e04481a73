/**
 * asyncIoStateToWebStreams: a state as a pair of WHATWG streams (the
 * `node:stream/web` classes), for `pipeTo`, `pipeThrough` and the web APIs.
 */
import { ReadableStream, WritableStream, type ReadableStreamDefaultController, type WritableStreamDefaultController } from 'node:stream/web';
import { closeAsyncIoState, type AsyncIoState } from '../promises/callback-api.js';
import { readSome } from '../promises/read-some.js';
import { shutdown } from '../promises/shutdown.js';
import { write } from '../promises/write.js';
import { checkStreamableState } from './duplex.js';

/** The two sides of a state as web streams. */
export interface AsyncIoStateWebStreams {
  /** The bytes received; closes at EOF, errors as the state does. */
  readable: ReadableStream<Uint8Array>;
  /** The bytes to send; `close()` shuts the output down (FIN). */
  writable: WritableStream<Uint8Array>;
}

/**
 * A readable and a writable web stream over the state. The readable side is
 * pull-based: a read runs only when the stream's queue (one chunk) wants
 * more, so a consumer that stops reading stops the reading, and TCP holds
 * the peer back once the state has read ahead 64 KiB. The writable side
 * writes one chunk at a time, each once the previous was handed to the
 * kernel, with a queue of 16 KiB (`writer.ready` waits beyond it).
 *
 * The readable closes at EOF and errors with the state's error or
 * `ERR_COMMIO_READ_TIMEOUT` (after the state's `readTimeout` seconds);
 * `cancel()` stops reading. `writable.close()` resolves once FIN was sent;
 * a failed write or `abort()` errors both sides. The state is closed once
 * both sides are done (closed, cancelled or errored). The state must be an
 * open TCP state (else `ERR_COMMIO_STATE_CLOSED`, `ERR_COMMIO_UNSUPPORTED`
 * for UDP, thrown at once) and must not be used through other functions
 * meanwhile.
 */
export function asyncIoStateToWebStreams(state: AsyncIoState): AsyncIoStateWebStreams {
  const s = checkStreamableState(state);
  let readDone = false;
  let writeDone = false;
  let reading: AbortController | null = null;
  let readController: ReadableStreamDefaultController<Uint8Array> | null = null;
  let writeController: WritableStreamDefaultController | null = null;
  const closeWhenBothDone = (): void => {
    if (readDone && writeDone && !s.closed) closeAsyncIoState(s);
  };
  /** The connection is unusable: error whichever side is still open, then close the state. */
  const fail = (error: unknown): void => {
    reading?.abort(error);
    if (!readDone) readController?.error(error);
    if (!writeDone) writeController?.error(error);
    readDone = true;
    writeDone = true;
    closeWhenBothDone();
  };

  const readable = new ReadableStream<Uint8Array>({
    start(controller) {
      readController = controller;
    },
    async pull(controller) {
      reading = new AbortController();
      let chunk: Uint8Array | null;
      try {
        chunk = await readSome(s, { signal: reading.signal });
      } catch (error) {
        if (!readDone) fail(error);
        return;
      } finally {
        reading = null;
      }
      if (chunk !== null) {
        controller.enqueue(chunk);
        return;
      }
      controller.close();
      readDone = true;
      closeWhenBothDone();
    },
    cancel(reason) {
      reading?.abort(reason);
      readDone = true;
      closeWhenBothDone();
    },
  });

  const writable = new WritableStream<Uint8Array>(
    {
      start(controller) {
        writeController = controller;
      },
      async write(chunk) {
        try {
          await write(s, chunk);
        } catch (error) {
          fail(error);
          throw error;
        }
      },
      async close() {
        try {
          await shutdown(s, 'output');
        } catch (error) {
          fail(error);
          throw error;
        }
        writeDone = true;
        closeWhenBothDone();
      },
      abort(reason) {
        fail(reason);
      },
    },
    { highWaterMark: 16384, size: (chunk) => chunk.byteLength },
  );

  return { readable, writable };
}
