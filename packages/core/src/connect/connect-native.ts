/**
 * Connecting on the native transport (`transport: 'native'`): the same
 * contract as the Node path in connect-tcp.ts (the state is returned at
 * once; a failure or the connect timeout closes the state before the
 * callback runs), on a socket of the `@commio/native` addon.
 */
import net from 'node:net';
import { logger } from '../debug.js';
import { clearTimer, setTimer, type Timer } from '../clock.js';
import { ConnectTimeoutError } from '../errors.js';
import type { WaitStateCollection } from '../collection/wait-state-collection.js';
import { secondsToMs } from '../options/validate.js';
import type { AsyncIoState, StateSettings } from '../state/async-io-state.js';
import { stateOnTransport } from '../state/create-state.js';
import type { NativeDriver } from '../transports/native-driver.js';
import { connectSettled, deliverConnectResult, type ConnectCallback } from './connect-result.js';
import { LOOKUP_TRANSPORT, lookupAndConnect, PendingNativeConnection, replayPending } from './native-lookup.js';

const log = logger('connect');

/** @internal The checked options of a native connect. */
export interface NativeConnectPlan {
  readonly host: string;
  readonly port: number;
  readonly localAddress: string | undefined;
  readonly localPort: number | undefined;
  readonly keepalive: boolean;
  readonly nodelay: boolean;
  /** For a host name: 0 either family, 4 or 6 (the Node path's `ipv6` option). */
  readonly family: 0 | 4 | 6;
  /** Seconds, or null. */
  readonly connectTimeout: number | null;
  readonly settings: StateSettings;
}

/**
 * @internal Starts a native connect. An IP literal is connected at once (the
 * state's object is its native id); a host name is looked up first
 * (native-lookup.ts: the state's object is null until it connected).
 */
export function connectNative(c: WaitStateCollection, driver: NativeDriver, plan: NativeConnectPlan, cb: ConnectCallback): AsyncIoState {
  const { host, port, connectTimeout } = plan;
  const options: { noDelay: boolean; keepAlive: boolean; localAddress?: string; localPort?: number } = { noDelay: plan.nodelay, keepAlive: plan.keepalive };
  if (plan.localAddress !== undefined) options.localAddress = plan.localAddress;
  if (plan.localPort !== undefined) options.localPort = plan.localPort;
  let state: AsyncIoState;
  let settled = false;
  let timer: Timer | null = null;
  const settle = (failure: Error | null): void => {
    if (settled) return;
    settled = true;
    if (timer !== null) clearTimer(timer);
    if (connectSettled(state, host, port, failure, cb, log)) deliverConnectResult(state, cb, null);
  };
  if (net.isIP(host) !== 0) {
    // The state's sink replaces this one at once; awaitConnect below hears the outcome.
    const id = driver.loop.connect(host, port, options, { onData() {}, onEnd() {}, onError() {}, onWritten() {}, onConnect() {}, onOutputShut() {} });
    state = stateOnTransport(c, driver.transport, id, plan.settings);
    driver.transport.awaitConnect(id, settle);
  } else {
    const pending = new PendingNativeConnection();
    state = stateOnTransport(c, LOOKUP_TRANSPORT, pending, plan.settings);
    // No connection to show yet; the handle stays the pending record (set again: it now differs from the object).
    state.object = null;
    state.handle = pending;
    const connected = (id: number): void => {
      if (settled || state.transport !== LOOKUP_TRANSPORT) {
        driver.loop.close(id);
        return;
      }
      state.attachTransport(id, driver.transport);
      state.object = id;
      replayPending(driver, id, pending, state);
      settle(null);
    };
    pending.onCancel = () => settle(new Error('closed while connecting'));
    lookupAndConnect(driver, pending, { host, port, family: plan.family, options }, connected, settle);
  }
  if (connectTimeout !== null && connectTimeout > 0) {
    timer = setTimer(
      (seconds) => settle(new ConnectTimeoutError(`connecting to ${host}:${port} took more than ${seconds} s`)),
      secondsToMs(connectTimeout),
      connectTimeout,
    );
  }
  if (log.enabled) log('%s: connecting to %s:%d (native)', state, host, port);
  return state;
}
