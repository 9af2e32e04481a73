/**
 * What an accepting handle needs of each of its listening sockets, whatever
 * transport they are on: a Node `Listener` (listener.ts) or a
 * `NativeListener` (native-listener.ts).
 */
import type net from 'node:net';

/** One listening socket of an accepting handle. */
export interface AcceptListener {
  /** Its `net.Server`, or null when it has none (a native listener). */
  readonly server: net.Server | null;
  /** True when holds stop accepting (new connections wait in the kernel backlog). */
  readonly pausable: boolean;
  /** The port it is bound to (0 when unknown). */
  readonly port: number;
  /** True while it accepts. */
  readonly accepting: boolean;
  /** Puts a hold on (HOLD_* of listener.ts). */
  hold(reason: number): void;
  /** Takes a hold off. */
  release(reason: number): void;
  /** Closes the listening socket (the port is free when this returns). */
  close(): void;
}

/**
 * What a listening socket of either transport reports to its accepting
 * handle, for the statistics: pauses for want of descriptors and accept
 * errors.
 */
export interface AcceptEventsOwner {
  /** `listener` stopped accepting for want of file descriptors (every listener of the process is told). */
  descriptorsExhausted(listener: AcceptListener): void;
  /** Accepting failed on `listener`. */
  acceptFailed(listener: AcceptListener, error: Error): void;
}
