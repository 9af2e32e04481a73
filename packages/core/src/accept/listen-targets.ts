/**
 * From the `address` and `ipv6` options to the IP literals to bind, one
 * listening socket each:
 * - `null`/`'*'`: all interfaces: `0.0.0.0` (`ipv6: false`), `::` IPv6 only
 *   (`true`), `::` dual stack (`'both'`), or `::` dual stack falling back to
 *   `0.0.0.0` where IPv6 is missing (`'any'`, what Node.js does);
 * - an IP literal: itself (`::` is dual stack unless `ipv6: true`);
 * - `'localhost'`: 127.0.0.1 and ::1 (in the `ipv6` family) where available,
 *   without asking the resolver;
 * - another host name: every address `dns.lookup` gives for it in the `ipv6`
 *   family (`'any'`/`'both'`: both families). When a name gives several,
 *   those that are not available on this machine are skipped as long as one
 *   binds.
 */
import dns from 'node:dns';
import net from 'node:net';
import { OsError } from '../errors.js';

/** Which IP versions a listening socket takes: `false` IPv4, `true` IPv6 only, `'both'` dual stack, `'any'` the system's choice. */
export type Ipv6Choice = 'any' | 'both' | boolean;

/** One socket to bind. */
export interface ListenTarget {
  /** The IP literal to bind. */
  readonly host: string;
  readonly family: 4 | 6;
  /** IPV6_V6ONLY on an IPv6 socket. */
  readonly ipv6Only: boolean;
  /** Bound instead when this family is not available here (the `'any'` wildcard falls back to IPv4). */
  readonly fallback: ListenTarget | null;
  /** The `address` entry this came from. */
  readonly group: number;
  /** May be skipped when its address is not available here, as long as another target of its group binds. */
  readonly lenient: boolean;
}

/** Error codes meaning "this address or family does not exist on this machine". */
const UNAVAILABLE = new Set(['EADDRNOTAVAIL', 'EAFNOSUPPORT', 'EPROTONOSUPPORT']);

/** True when `code` says an address or family is not available here. */
export function isUnavailable(code: string | undefined): boolean {
  return code !== undefined && UNAVAILABLE.has(code);
}

function target(host: string, family: 4 | 6, ipv6Only: boolean, group: number, lenient: boolean, fallback: ListenTarget | null = null): ListenTarget {
  return { host, family, ipv6Only, fallback, group, lenient };
}

function wildcard(ipv6: Ipv6Choice, group: number): ListenTarget {
  switch (ipv6) {
    case false:
      return target('0.0.0.0', 4, false, group, false);
    case true:
      return target('::', 6, true, group, false);
    case 'both':
      return target('::', 6, false, group, false);
    default:
      return target('::', 6, false, group, false, target('0.0.0.0', 4, false, group, false));
  }
}

function localhost(ipv6: Ipv6Choice, group: number): ListenTarget[] {
  if (ipv6 === false) return [target('127.0.0.1', 4, false, group, false)];
  if (ipv6 === true) return [target('::1', 6, true, group, false)];
  return [target('127.0.0.1', 4, false, group, true), target('::1', 6, false, group, true)];
}

function literal(host: string, version: number, ipv6: Ipv6Choice, group: number): ListenTarget {
  return version === 4 ? target(host, 4, false, group, false) : target(host, 6, ipv6 === true, group, false);
}

function isLocalhost(name: string): boolean {
  return name.toLowerCase() === 'localhost';
}

/** True when every entry can be planned without the resolver (literals, wildcards, localhost). */
export function needsLookup(addresses: readonly (string | null)[]): boolean {
  return addresses.some((a) => a !== null && net.isIP(a) === 0 && !isLocalhost(a));
}

/** The targets of entries that need no lookup; `null` when one does. */
export function planWithoutLookup(addresses: readonly (string | null)[], ipv6: Ipv6Choice): ListenTarget[] | null {
  if (needsLookup(addresses)) return null;
  const targets: ListenTarget[] = [];
  addresses.forEach((address, group) => {
    if (address === null) targets.push(wildcard(ipv6, group));
    else if (isLocalhost(address)) targets.push(...localhost(ipv6, group));
    else targets.push(literal(address, net.isIP(address), ipv6, group));
  });
  return targets;
}

/** A host name that could not be resolved, with the resolver's error. */
export class LookupFailure extends Error {
  constructor(
    readonly host: string,
    override readonly cause: unknown,
  ) {
    super(`cannot resolve ${host}: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

/** The targets of every entry, looking host names up; rejects with `LookupFailure`. */
export async function planTargets(addresses: readonly (string | null)[], ipv6: Ipv6Choice): Promise<ListenTarget[]> {
  const direct = planWithoutLookup(addresses, ipv6);
  if (direct !== null) return direct;
  const family = ipv6 === false ? 4 : ipv6 === true ? 6 : 0;
  const targets: ListenTarget[] = [];
  for (let group = 0; group < addresses.length; group++) {
    const address = addresses[group] ?? null;
    if (address === null) targets.push(wildcard(ipv6, group));
    else if (isLocalhost(address)) targets.push(...localhost(ipv6, group));
    else if (net.isIP(address) !== 0) targets.push(literal(address, net.isIP(address), ipv6, group));
    else {
      let found: dns.LookupAddress[];
      try {
        found = await dns.promises.lookup(address, { all: true, family });
      } catch (error) {
        throw new LookupFailure(address, error);
      }
      const unique = [...new Map(found.map((a) => [a.address, a])).values()];
      if (unique.length === 0) throw new LookupFailure(address, new OsError(`${address} has no address`, { code: 'ENOTFOUND', syscall: 'getaddrinfo', address }));
      const lenient = unique.length > 1;
      for (const a of unique) targets.push({ ...literal(a.address, a.family, ipv6, group), lenient });
    }
  }
  return targets;
}
