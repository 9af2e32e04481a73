/**
 * What a state with TLS keeps in its `tls` slot: the side, the context, the
 * TLS socket and the TCP socket under it, plus what the TLS module needs to
 * run its handshake and (for detachable sessions) its detach.
 */
import type net from 'node:net';
import type tls from 'node:tls';
import type { AsyncIoState, SslSide, StateTlsInfo } from '../state/async-io-state.js';
import type { RecordFeeder } from './record-feeder.js';
import type { TlsSetup } from './tls-setup.js';

/** The TLS facts and machinery of one state. */
export class TlsAttachment implements StateTlsInfo {
  readonly side: SslSide;
  ctx: unknown = null;
  socket: tls.TLSSocket | null = null;
  readonly tcp: net.Socket;
  readonly setup: TlsSetup;
  /** The role of the handshake; null while a `'both'` attachment waits for it. */
  role: 'server' | 'client' | null;
  /** True when TLS runs over a RecordFeeder and can be detached again. */
  readonly detachable: boolean;
  /** The feeder under a detachable session, once it started. */
  feeder: RecordFeeder | null = null;
  /** The SNI host name a client sends (null: none). */
  servername: string | null;
  /** The host name a client checks the server's certificate against (null: the peer's IP address). */
  verifyHost: string | null;
  /** Stops watching the handshake under way. */
  cancelHandshake: (() => void) | null = null;

  constructor(options: {
    side: SslSide;
    tcp: net.Socket;
    setup: TlsSetup;
    detachable: boolean;
    servername: string | null;
    verifyHost: string | null;
  }) {
    this.side = options.side;
    this.tcp = options.tcp;
    this.setup = options.setup;
    this.role = options.side === 'both' ? null : options.side;
    this.detachable = options.detachable;
    this.servername = options.servername;
    this.verifyHost = options.verifyHost;
  }

  /** True for a `'both'` attachment whose handshake has not started. */
  get waitingForRole(): boolean {
    return this.socket === null;
  }
}

/** The TLS attachment of `state`, or null without TLS. */
export function tlsOf(state: AsyncIoState): TlsAttachment | null {
  return state.tls instanceof TlsAttachment ? state.tls : null;
}
