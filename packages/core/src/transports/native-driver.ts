/**
 * The native transport on demand: `@commio/native` is an optional peer of
 * core, loaded the first time a state or listener asks for
 * `transport: 'native'` (never at import, so core works without it). When
 * it is missing or its addon is unavailable, callers fall back to the Node
 * transport; `nativeTransportStatus()` (native-status.ts) and
 * `DEBUG=commio:transport` say why. Kept apart from native-status.ts so that
 * core's public declarations never name `@commio/native`'s types.
 */
import { createRequire } from 'node:module';
import type * as NativePackage from '@commio/native';
import { logger } from '../debug.js';
import { NativeStreamTransport } from './native-stream-transport.js';

const log = logger('transport');

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

/** @internal Why the native transport is unavailable (after `nativeDriver()` returned null), else null. */
export function nativeUnavailable(): string | null {
  return unavailableReason;
}
