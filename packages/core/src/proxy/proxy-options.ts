/**
 * The accept options of the PROXY protocol: `proxyProtocol` and
 * `proxyErrorCallback`, checked before anything is opened.
 */
import { checkSeconds, invalid, optionalFunction, type CheckedOptions } from '../options/validate.js';
import { TrustedSources } from './trusted-sources.js';

/** The `proxyProtocol` accept option. */
export interface ProxyProtocolOptions {
  /** Addresses and CIDR ranges of the proxies whose headers are believed (`'10.0.0.0/8'`, `'::1'`). A connection from anywhere else is refused. */
  trusted: string[];
  /** Seconds a connection may take to send its complete header before it is refused. @default 5 */
  timeout?: number;
}

/** The checked `proxyProtocol` option. */
export interface ProxySettings {
  readonly trusted: TrustedSources;
  /** Seconds. */
  readonly timeout: number;
  /** `proxyErrorCallback(error, handle)`, or null for the collection's handler. */
  readonly errorCallback: ((error: Error, handle: unknown) => void) | null;
}

/** Default seconds to wait for a complete header. */
export const DEFAULT_PROXY_HEADER_TIMEOUT = 5;

const PROXY_KEYS = new Set(['trusted', 'timeout']);

/** Checks `proxyProtocol` (null when absent or null); throws `ERR_COMMIO_INVALID_ARGUMENT`. */
export function resolveProxySettings(o: CheckedOptions): ProxySettings | null {
  const value = o['proxyProtocol'];
  const errorCallback = optionalFunction<(error: Error, handle: unknown) => void>(o['proxyErrorCallback'], 'options.proxyErrorCallback');
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) invalid('options.proxyProtocol', 'null or { trusted: string[], timeout?: seconds }', value);
  const given = value as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!PROXY_KEYS.has(key)) invalid(`options.proxyProtocol.${key}`, 'absent (known keys: trusted, timeout)', given[key]);
  }
  const trusted = new TrustedSources(given['trusted'], 'options.proxyProtocol.trusted');
  const timeoutValue = given['timeout'];
  const timeout = timeoutValue === undefined ? DEFAULT_PROXY_HEADER_TIMEOUT : checkSeconds(timeoutValue, 'options.proxyProtocol.timeout');
  if (timeout === null || timeout === 0) invalid('options.proxyProtocol.timeout', 'a positive number of seconds (a header must arrive in bounded time)', timeoutValue);
  if (o['createState'] === false) {
    invalid('options.proxyProtocol', 'absent with createState: false (the client address from the header lives on the state)', value);
  }
  return { trusted, timeout, errorCallback };
}
