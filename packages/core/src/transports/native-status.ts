/**
 * The `transport` option (`'node' | 'native'`) and whether the native
 * transport is available in this process.
 */
import { UnsupportedError } from '../errors.js';
import { checkKeyword } from '../options/validate.js';
import { nativeDriver, nativeUnavailable } from './native-driver.js';

/** The stream transport a state or listener asks for: Node's sockets, or the `@commio/native` addon. */
export type TransportChoice = 'node' | 'native';

/** Whether the native transport can be used in this process, and if not, why. */
export interface NativeTransportStatus {
  /** True when `transport: 'native'` really runs on the addon. */
  readonly available: boolean;
  /** Why it cannot (package not installed, not Linux, addon not built, ...), or null when available. */
  readonly reason: string | null;
}

/**
 * Whether `transport: 'native'` would run on the native addon in this
 * process (loading `@commio/native` to find out, once). When `available`
 * is false, states and listeners that ask for it use the Node transport,
 * and `reason` says why. Never throws.
 */
export function nativeTransportStatus(): NativeTransportStatus {
  const loaded = nativeDriver();
  return { available: loaded !== null, reason: loaded === null ? nativeUnavailable() : null };
}

/** @internal Checks the `transport` option (default `'node'`); `'native'` with TLS is refused. */
export function checkTransport(value: unknown, argument: string, withTls: boolean): TransportChoice {
  const choice = checkKeyword<TransportChoice>(value, argument, ['node', 'native'], 'node');
  if (choice === 'native' && withTls) throw new UnsupportedError(`${argument} 'native' is plain TCP only: TLS (sslCtx) needs the Node transport`);
  return choice;
}
