/**
 * The native transport on demand: `@commio/native` is an optional peer of
 * core, loaded the first time a state or listener asks for
 * `transport: 'native'` (never at import, so core works without it). When
 * it is missing or its addon is unavailable, callers fall back to the Node
 * transport; `nativeTransportStatus()` and `DEBUG=commio:transport` say why.
 */
import { createRequire } from 'node:module';
import type * as NativePackage from '@commio/native';
import { logger } from '../debug.js';
import { UnsupportedError } from '../errors.js';
import { checkKeyword } from '../options/validate.js';
import { NativeStreamTransport } from './native-stream-transport.js';

const log = logger('transport');

/** The stream transport a state or listener asks for: Node's sockets, or the `@commio/native` addon. */
export type TransportChoice = 'node' | 'native';

/** Whether the native transport can be used in this process, and if not, why. */
export interface NativeTransportStatus {
  /** True when `transport: 'native'` really runs on the addon. */
  readonly available: boolean;
  /** Why it cannot (package not installed, not Linux, addon not built, ...), or null when available. */
  readonly reason: string | null;
}

/** @internal The loaded addon's loop and its stream driver. */
export interface NativeDriver {
  readonly loop: NativeLoop;
  readonly transport: NativeStreamTransport;
}
type NativeLoop = NativePackage.NativeLoop;

let driver: NativeDriver | null | undefined;
let unavailableReason: string | null = null;

/** @internal Loads `@commio/native` once; null (with the reason logged and kept) when it cannot be used. */
export function nativeDriver(): NativeDriver | null {
  if (driver !== undefined) return driver;
  let native: typeof NativePackage;
  try {
    // Synchronous (accept and connect are), and only here: the package is optional.
    native = createRequire(import.meta.url)('@commio/native') as typeof NativePackage;
  } catch (error) {
    const message = error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
    unavailableReason = `@commio/native is not installed (${message})`;
    log('native transport unavailable, using the Node transport: %s', unavailableReason);
    driver = null;
    return driver;
  }
  const loop = native.nativeLoop();
  if (loop === null) {
    unavailableReason = native.nativeUnavailableReason ?? 'the native addon did not load';
    log('native transport unavailable, using the Node transport: %s', unavailableReason);
    driver = null;
    return driver;
  }
  driver = { loop, transport: new NativeStreamTransport(loop) };
  log('native transport loaded');
  return driver;
}

/**
 * Whether `transport: 'native'` would run on the native addon in this
 * process (loading `@commio/native` to find out, once). When `available`
 * is false, states and listeners that ask for it use the Node transport,
 * and `reason` says why. Never throws.
 */
export function nativeTransportStatus(): NativeTransportStatus {
  const loaded = nativeDriver();
  return { available: loaded !== null, reason: loaded === null ? unavailableReason : null };
}

/** @internal Checks the `transport` option (default `'node'`); `'native'` with TLS is refused. */
export function checkTransport(value: unknown, argument: string, withTls: boolean): TransportChoice {
  const choice = checkKeyword<TransportChoice>(value, argument, ['node', 'native'], 'node');
  if (choice === 'native' && withTls) throw new UnsupportedError(`${argument} 'native' is plain TCP only: TLS (sslCtx) needs the Node transport`);
  return choice;
}
