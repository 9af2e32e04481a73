/**
 * How commio listens to a Node socket it reads from (the Node transport,
 * the PROXY header read, the TLS record feeder): four stream listeners
 * shared by every socket, added and taken off together, each finding its
 * owner through a property of the socket (no closure per connection); and
 * the one listener that keeps a socket nobody reads any more from crashing
 * the process with a late error.
 */
import type { EventEmitter } from 'node:events';
import type net from 'node:net';

/** The listeners one kind of reader puts on the `net.Socket`s it reads ('data', 'end', 'error', 'close'). */
export class SocketListeners {
  constructor(
    readonly onData: (this: net.Socket, chunk: Buffer) => void,
    readonly onEnd: (this: net.Socket) => void,
    readonly onError: (this: net.Socket, error: Error) => void,
    readonly onClose: (this: net.Socket) => void,
  ) {}

  /** Adds the four listeners to `socket`. */
  add(socket: net.Socket): void {
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
  }

  /** Takes them off `socket` again (other listeners stay). */
  remove(socket: net.Socket): void {
    socket.removeListener('data', this.onData);
    socket.removeListener('end', this.onEnd);
    socket.removeListener('error', this.onError);
    socket.removeListener('close', this.onClose);
  }
}

function ignoreError(): void {
  // Reported after its owner let go: of no use to anyone, and must not crash the process.
}

/**
 * Drops the errors `emitter` (a socket handed back, torn down or destroyed,
 * that nobody listens to any more) may still report: an 'error' event
 * without a listener would crash the process.
 */
export function ignoreLateErrors(emitter: EventEmitter): void {
  emitter.on('error', ignoreError);
}
