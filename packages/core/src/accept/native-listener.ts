/**
 * One listening socket of an accepting handle on the native transport: a
 * listener of the `@commio/native` addon, held and released like a Node
 * `Listener` (listener.ts). A hold turns the addon's accepting off (new
 * connections wait in the kernel backlog). When accepting fails the addon
 * pauses it and reports (it never accepts and drops, unlike libuv); the
 * error is counted in the handle's statistics, then:
 * - `EMFILE`/`ENFILE`: the process is out of descriptors, so every listener
 *   of the process (Node and native) holds until a probe can open one again
 *   (descriptor-pressure.ts, as on the Node path);
 * - any other error: this listener waits (100 ms, doubling to 1 s) until a
 *   descriptor can be opened again.
 */
import { logger } from '../debug.js';
import { errorCode } from '../errors.js';
import { nextBackoffMs } from './accept-backoff.js';
import type { AcceptEventsOwner, AcceptListener } from './accept-listener.js';
import { descriptorAvailable, descriptorsFine, noDescriptorLeft, unwatchDescriptors, watchDescriptors, type DescriptorWatcher } from './descriptor-pressure.js';
import { HOLD_BACKOFF, HOLD_NO_DESCRIPTOR, HOLD_SETUP } from './listener.js';
import { systemError } from './native-listen.js';
import type { NativeDriver } from '../transports/native-driver.js';

const log = logger('accept');

/** @internal Where accepted native connections go: the accepting handle's native hand-over. */
export type NativeAcceptor = (id: number) => void;

/** @internal A native listening socket. Starts held by `HOLD_SETUP`. */
export class NativeListener implements AcceptListener, DescriptorWatcher {
  readonly server = null;
  readonly pausable = true;
  readonly port: number;
  readonly #driver: NativeDriver;
  readonly #id: number;
  readonly #where: string;
  #acceptor: NativeAcceptor | null = null;
  #owner: AcceptEventsOwner | null = null;
  #holds = HOLD_SETUP;
  #accepting = false;
  #backoffMs = 0;
  #timer: NodeJS.Timeout | null = null;
  #closed = false;
  /**
   * Connections the addon accepted in the same pass after a hold (it accepts
   * until EAGAIN before JavaScript runs): handed over, in order, once the
   * holds are released, so `maxConnections` holds to the connection.
   */
  #early: number[] = [];

  /** Listens on `host:port` (an IP literal), or adopts the listening descriptor `fd` when `host` is null. Throws the OS error when it cannot. */
  constructor(driver: NativeDriver, host: string | null, port: number, fd: number, options: { nodelay: boolean; keepalive: boolean; backlog: number | undefined; ipv6Only: boolean; reusePort: boolean }) {
    this.#driver = driver;
    const nativeOptions = { noDelay: options.nodelay, keepAlive: options.keepalive, backlog: options.backlog ?? 0, ipv6Only: options.ipv6Only, reusePort: options.reusePort };
    const sink = { onAccept: (id: number) => this.#onAccept(id), onAcceptError: (error: NodeJS.ErrnoException) => this.#onAcceptError(error) };
    try {
      this.#id = host === null ? driver.loop.adoptListener(fd, nativeOptions, sink) : driver.loop.listen(host, port, nativeOptions, sink);
    } catch (error) {
      // The OS error as the Node path reports it: with the address and port it was about.
      const { errno, syscall } = error as NodeJS.ErrnoException;
      if (typeof errno !== 'number') throw error;
      throw host === null ? systemError(errno, syscall ?? 'listen', `fd ${fd}`, null) : systemError(errno, syscall ?? 'listen', host, port);
    }
    // Held until the handle is set up: connections wait in the backlog.
    driver.loop.setReading(this.#id, false);
    this.port = driver.loop.address(this.#id, false)?.port ?? 0;
    this.#where = host === null ? `fd ${fd}` : `${host}:${port}`;
    watchDescriptors(this);
  }

  /** @internal Where accepted connections go, and who counts accept errors and pauses (set once by the handle's maker). */
  handOverTo(acceptor: NativeAcceptor, owner: AcceptEventsOwner): void {
    this.#acceptor = acceptor;
    this.#owner = owner;
  }

  get accepting(): boolean {
    return this.#accepting && !this.#closed;
  }

  hold(reason: number): void {
    this.#holds |= reason;
    this.#apply();
  }

  release(reason: number): void {
    this.#holds &= ~reason;
    if (this.#holds === 0 && this.#early.length > 0) {
      // Handed over later, as a new accept would be (never inside the caller's close); accepting resumes after them.
      queueMicrotask(() => this.#handOverEarly());
      return;
    }
    this.#apply();
  }

  #handOverEarly(): void {
    while (this.#holds === 0 && this.#early.length > 0 && !this.#closed) this.#handOver(this.#early.shift() as number);
    this.#apply();
  }

  #apply(): void {
    if (this.#closed) return;
    const want = this.#holds === 0;
    if (want === this.#accepting) return;
    this.#accepting = want;
    this.#driver.loop.setReading(this.#id, want);
  }

  #onAccept(id: number): void {
    this.#backoffMs = 0;
    // The addon pauses at EMFILE instead of shedding: nothing to foresee here, only the next episode's delay to reset.
    descriptorsFine();
    if (this.#closed || this.#acceptor === null) {
      this.#driver.loop.close(id);
      return;
    }
    if (this.#holds !== 0 || this.#early.length > 0) {
      this.#early.push(id);
      return;
    }
    this.#handOver(id);
  }

  #handOver(id: number): void {
    if (this.#acceptor === null) this.#driver.loop.close(id);
    else this.#acceptor(id);
  }

  /** @internal DescriptorWatcher: the process is out of descriptors (this or another listener found out). */
  descriptorsExhausted(): void {
    this.#owner?.descriptorsExhausted(this);
    this.hold(HOLD_NO_DESCRIPTOR);
  }

  /** @internal DescriptorWatcher */
  descriptorsAvailable(): void {
    this.release(HOLD_NO_DESCRIPTOR);
  }

  #onAcceptError(error: NodeJS.ErrnoException): void {
    // The addon paused accepting: keep our view in step, then wait for a descriptor.
    this.#accepting = false;
    if (this.#closed) return;
    this.#owner?.acceptFailed(this, error);
    const code = errorCode(error);
    if (code === 'EMFILE' || code === 'ENFILE') {
      // Descriptors are one table for the process: every listener holds, one probe resumes them all.
      noDescriptorLeft(`${this.#where} (native)`);
      return;
    }
    if ((this.#holds & HOLD_BACKOFF) !== 0) return;
    this.#backoffMs = nextBackoffMs(this.#backoffMs);
    log('%s (native): accept failed: %s: not accepting for %d ms', this.#where, error.code ?? error.message, this.#backoffMs);
    this.#holds |= HOLD_BACKOFF;
    this.#timer = setTimeout(() => this.#endBackoff(), this.#backoffMs);
  }

  #endBackoff(): void {
    this.#timer = null;
    if (this.#closed) return;
    if (!descriptorAvailable()) {
      this.#backoffMs = nextBackoffMs(this.#backoffMs);
      this.#timer = setTimeout(() => this.#endBackoff(), this.#backoffMs);
      return;
    }
    log('%s (native): accepting again after an accept error', this.#where);
    this.release(HOLD_BACKOFF);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    unwatchDescriptors(this);
    for (const id of this.#early) this.#driver.loop.close(id);
    this.#early = [];
    this.#driver.loop.close(this.#id);
  }
}
