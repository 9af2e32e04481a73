/** The checked, defaulted options of acceptTcpConnectionsCreatingAsyncIoStates (made by accept-options.ts). */
import type net from 'node:net';
import type { CheckedOptions } from '../options/validate.js';
import type { StateSettings } from '../state/async-io-state.js';
import type { Ipv6Choice } from './listen-targets.js';
import type { ProxySettings } from '../proxy/proxy-options.js';
import type { TransportChoice } from '../transports/native-status.js';

/** What to listen on: a port commio binds, or a socket to adopt. */
export type ListenSource =
  | { readonly kind: 'port'; readonly port: number }
  | { readonly kind: 'fd'; readonly fd: number }
  | { readonly kind: 'server'; readonly server: net.Server };

/**
 * The checked, defaulted accept options. `H` is the accepting handle's type
 * (a parameter, so that this module need not import the handle's).
 */
export interface AcceptSettings<H = never> {
  readonly source: ListenSource;
  readonly initFunction: ((server: net.Server) => void) | null;
  /** Seconds. */
  readonly initTimeout: number;
  readonly backlog: number | undefined;
  /** Each entry: an IP literal, a host name, or `null` for all interfaces. */
  readonly addresses: readonly (string | null)[];
  readonly nodelay: boolean;
  readonly keepalive: boolean;
  readonly maxConnections: number | null;
  readonly ipv6: Ipv6Choice;
  readonly reuseport: boolean;
  readonly createState: boolean;
  readonly listenName: unknown;
  readonly handleName: unknown;
  readonly userInfo: unknown;
  readonly signal: AbortSignal | undefined;
  /** Settings of every accepted state. */
  readonly state: StateSettings;
  /** The options as given, for the TLS seam (it reads the `ssl*` keys). */
  readonly options: CheckedOptions;
  /** The checked `proxyProtocol` option, null when off. */
  readonly proxy: ProxySettings | null;
  /** `drainCallback`, or null. */
  readonly drainCallback: ((handle: H) => void) | null;
  /** The `transport` option: what accepted connections run on. */
  readonly transport: TransportChoice;
}
