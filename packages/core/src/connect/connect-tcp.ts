/** createAsyncIoStateAndConnectedTcpSocket: a state for an outgoing TCP connection. */
import net from 'node:net';
import { logger } from '../debug.js';
import { clearTimer, setTimer, type Timer } from '../clock.js';
import { ConnectTimeoutError } from '../errors.js';
import { checkCollection, type WaitStateCollection } from '../collection/wait-state-collection.js';
import {
  checkBoolean,
  checkFunction,
  checkKeyword,
  checkOptions,
  checkSeconds,
  checkString,
  invalid,
  keys,
  secondsToMs,
} from '../options/validate.js';
import { resolveStateSettings, STATE_OPTION_KEYS, type StateOptions } from '../options/state-options.js';
import { resolveService } from '../options/service.js';
import type { AsyncIoState } from '../state/async-io-state.js';
import { adoptTcpSocket } from '../state/create-state.js';
import { transportClosedError } from '../state/status.js';
import { prepareConnectTls } from '../tls/connect-tls.js';
import { checkTransport, type TransportChoice } from '../transports/native-status.js';
import { nativeDriver } from '../transports/native-driver.js';
import { connectSettled, deliverConnectResult, type ConnectCallback } from './connect-result.js';
import { connectNative } from './connect-native.js';
import type { ConnectTlsOptions } from '../tls/tls-options.js';

const log = logger('connect');

export type { ConnectCallback } from './connect-result.js';

/** Options of createAsyncIoStateAndConnectedTcpSocket. */
export interface ConnectOptions extends StateOptions, ConnectTlsOptions {
  /** Seconds the TCP connection may take (the TLS handshake has `handshakeTimeout`); `null`: the system's limit. @default null */
  connectTimeout?: number | null;
  /** Local address to bind before connecting. */
  localAddress?: string | null;
  /** Local port (or service) to bind before connecting. */
  localPort?: number | string | null;
  /** SO_KEEPALIVE. @default false */
  keepalive?: boolean;
  /** TCP_NODELAY. @default true */
  nodelay?: boolean;
  /** Address family for a host name: `false` IPv4, `true` IPv6, `'any'` either. @default 'any' */
  ipv6?: 'any' | boolean;
  /**
   * What moves the bytes: `'node'` (a `net.Socket`) or `'native'` (the
   * optional `@commio/native` addon; plain TCP only: with `sslCtx` it
   * throws `ERR_COMMIO_UNSUPPORTED`; a host name is looked up as on the
   * Node transport, and `state.object` is null until connected). When the addon
   * is unavailable the Node transport is used (see `nativeTransportStatus`).
   * @default 'node'
   */
  transport?: TransportChoice;
}

/** @internal Every option key the connect function knows (TLS keys included). */
export const CONNECT_KEYS = keys(
  ...STATE_OPTION_KEYS,
  'connectTimeout',
  'localAddress',
  'localPort',
  'keepalive',
  'nodelay',
  'ipv6',
  'sslCtx',
  'ctxConfigureCallback',
  'sslConfigureCallback',
  'handshakeTimeout',
  'tlsextHostName',
  'transport',
);

/**
 * Returns a new state at once and connects it to `hostspec:service`.
 * `callback(state, null)` runs once connected, `callback(state, error)` on
 * failure or after `connectTimeout` seconds (`ERR_COMMIO_CONNECT_TIMEOUT`);
 * after a failure the state is already closed.
 */
export function createAsyncIoStateAndConnectedTcpSocket(
  collection: WaitStateCollection,
  hostspec: string,
  service: number | string,
  callback: ConnectCallback,
  options?: ConnectOptions,
): AsyncIoState {
  const c = checkCollection(collection);
  const host = checkString(hostspec, 'hostspec');
  const port = resolveService(service, 'service');
  const cb = checkFunction<ConnectCallback>(callback, 'callback');
  const o = checkOptions(options, CONNECT_KEYS);
  const settings = resolveStateSettings(o);
  const connectTimeout = o['connectTimeout'] === undefined ? null : checkSeconds(o['connectTimeout'], 'options.connectTimeout');
  const localAddress = o['localAddress'] === undefined || o['localAddress'] === null ? undefined : checkString(o['localAddress'], 'options.localAddress');
  // Node.js binds the local end to an IP literal only.
  if (localAddress !== undefined && net.isIP(localAddress) === 0) invalid('options.localAddress', 'an IP address literal', localAddress);
  const localPort = o['localPort'] === undefined || o['localPort'] === null ? undefined : resolveService(o['localPort'], 'options.localPort');
  const keepalive = checkBoolean(o['keepalive'], 'options.keepalive', false);
  const nodelay = checkBoolean(o['nodelay'], 'options.nodelay', true);
  const ipv6 = checkKeyword<'any' | boolean>(o['ipv6'], 'options.ipv6', ['any', true, false], 'any');
  const tlsConnect = prepareConnectTls(o, host);
  const transport = checkTransport(o['transport'], 'options.transport', tlsConnect !== null);
  c.assertAlive();
  const driver = transport === 'native' ? nativeDriver() : null;
  if (driver !== null) {
    return connectNative(c, driver, { host, port, localAddress, localPort, keepalive, nodelay, family: ipv6 === 'any' ? 0 : ipv6 ? 6 : 4, connectTimeout, settings }, cb);
  }

  const socket = new net.Socket({ allowHalfOpen: true });
  // Set before connecting (applied once connected): socket.connect() ignores these options on Node.js 20.
  socket.setNoDelay(nodelay);
  socket.setKeepAlive(keepalive);
  const state = adoptTcpSocket(c, socket, socket, settings);
  tlsConnect?.reserve(state);
  let settled = false;
  let timer: Timer | null = null;
  const settle = (failure: Error | null): void => {
    if (settled) return;
    settled = true;
    if (timer !== null) clearTimer(timer);
    socket.removeListener('connect', onConnect);
    socket.removeListener('error', onError);
    socket.removeListener('close', onClose);
    if (!connectSettled(state, host, port, failure, cb, log)) return;
    if (tlsConnect !== null) {
      // The callback waits for the TLS handshake; a failed one closes the state.
      tlsConnect.start(state, (tlsFailure) => {
        if (tlsFailure !== null) state.close(false);
        deliverConnectResult(state, cb, tlsFailure);
      });
      return;
    }
    deliverConnectResult(state, cb, null);
  };
  const onConnect = (): void => settle(null);
  const onError = (error: Error): void => settle(error);
  const onClose = (): void => settle(transportClosedError());
  socket.once('connect', onConnect);
  socket.once('error', onError);
  socket.once('close', onClose);
  if (connectTimeout !== null && connectTimeout > 0) {
    // Through commio's clock (unref'd: the connecting socket keeps the process up), so a fake clock drives it.
    timer = setTimer(
      (seconds) => settle(new ConnectTimeoutError(`connecting to ${host}:${port} took more than ${seconds} s`)),
      secondsToMs(connectTimeout),
      connectTimeout,
    );
  }
  const connectOptions: net.TcpSocketConnectOpts = { host, port };
  if (localAddress !== undefined) connectOptions.localAddress = localAddress;
  if (localPort !== undefined) connectOptions.localPort = localPort;
  if (ipv6 !== 'any') connectOptions.family = ipv6 ? 6 : 4;
  if (log.enabled) log('%s: connecting to %s:%d', state, host, port);
  socket.connect(connectOptions);
  return state;
}
