/**
 * The PROXY protocol on the native transport: the same header read as on
 * the Node path (proxy/proxy-reader.ts), fed by a sink of its own attached
 * to the native connection. When the header is complete the state is made
 * on that same attach (no second attach: no report of the connection can
 * fall between the two), the sink forwarding every report to it from then
 * on, and the bytes that followed the header become the state's first
 * input.
 */
import type { ProxyProtocolError } from '../errors.js';
import type { ProxyHeader } from '../proxy/proxy-header.js';
import type { ProxySettings } from '../proxy/proxy-options.js';
import { ProxyHeaderRead, untrustedPeer } from '../proxy/proxy-reader.js';
import type { StreamSink, StreamTransport } from '../transports/stream-transport.js';

/**
 * Called once: with the header and the bytes after it (the read is then the
 * connection's sink until `forwardTo`), with the error (the connection
 * destroyed), or with neither (abandoned, or the peer left without a byte).
 */
export type NativeHeaderDone = (header: ProxyHeader | null, error: ProxyProtocolError | null, rest: Buffer | null) => void;

/** The header read of one native connection; afterwards, the sink that passes its reports to its state. */
export class NativeHeaderRead extends ProxyHeaderRead implements StreamSink {
  readonly #transport: StreamTransport<number>;
  readonly #id: number;
  readonly #done: NativeHeaderDone;
  /** The state made after the header: every report goes to it. */
  #state: StreamSink | null = null;

  constructor(transport: StreamTransport<number>, id: number, settings: ProxySettings, done: NativeHeaderDone) {
    super(settings);
    this.#transport = transport;
    this.#id = id;
    this.#done = done;
    transport.attach(id, this);
    transport.setReading(id, true);
  }

  /** From now on the connection's reports go to `state` (made on this attach: see the module comment). */
  forwardTo(state: StreamSink): void {
    this.#state = state;
  }

  override received(chunk: Buffer): void {
    if (this.#state !== null) this.#state.received(chunk);
    else super.received(chunk);
  }

  override ended(): void {
    if (this.#state !== null) this.#state.ended();
    else super.ended();
  }

  failed(error: Error): void {
    if (this.#state !== null) this.#state.failed(error);
    else super.ended();
  }

  disconnected(): void {
    if (this.#state !== null) this.#state.disconnected();
    else super.ended();
  }

  written(error: Error | null): void {
    this.#state?.written(error);
  }

  outputShut(result: true | string): void {
    this.#state?.outputShut(result);
  }

  protected stopListening(): void {
    // The state turns reading on when a read wants bytes.
    if (this.#transport.isOpen(this.#id)) this.#transport.setReading(this.#id, false);
  }

  protected handOn(header: ProxyHeader, rest: Buffer | null): void {
    this.#done(header, null, rest);
  }

  protected destroy(): void {
    this.#transport.destroy(this.#id);
  }

  protected refused(error: ProxyProtocolError | null): void {
    this.#done(null, error, null);
  }

  protected peer(): string {
    const address = this.#transport.peerAddress(this.#id);
    return address === null ? '?:?' : `${address.address}:${address.port}`;
  }
}

/**
 * Starts reading the header of native connection `id` from a peer
 * `settings.trusted` allows; from any other peer the connection is closed
 * at once and `done` gets the error (before this returns).
 */
export function readNativeProxyHeader(transport: StreamTransport<number>, id: number, settings: ProxySettings, done: NativeHeaderDone): NativeHeaderRead | null {
  const untrusted = untrustedPeer(settings, transport.peerAddress(id)?.address);
  if (untrusted !== null) {
    transport.destroy(id);
    done(null, untrusted, null);
    return null;
  }
  return new NativeHeaderRead(transport, id, settings, done);
}
