/**
 * The address family of a UDP socket, and how destinations are resolved in
 * it: a host name is looked up in the socket's family (as LispWorks does);
 * an IPv4 destination on an IPv6 socket becomes its IPv4-mapped form
 * (`::ffff:a.b.c.d`), which a dual-stack socket can reach.
 */
import net from 'node:net';
import type dns from 'node:dns';

/** The family a UDP state's socket was made in. */
export interface UdpFamily {
  /** 4 for `udp4`, 6 for `udp6`. */
  readonly family: 4 | 6;
  /** An IPv6 socket that also takes IPv4 (`ipv6: 'both'`): host names resolve in either family. */
  readonly dualStack: boolean;
}

const LOOKUP_ANY: dns.LookupOneOptions = Object.freeze({ family: 0 });
const LOOKUP_V4: dns.LookupOneOptions = Object.freeze({ family: 4 });
const LOOKUP_V6: dns.LookupOneOptions = Object.freeze({ family: 6 });

/** The `dns.lookup` options for host names sent to from a socket of `f`. */
export function lookupOptions(f: UdpFamily): dns.LookupOneOptions {
  if (f.dualStack) return LOOKUP_ANY;
  return f.family === 6 ? LOOKUP_V6 : LOOKUP_V4;
}

/** `address` (an IP literal) in the form a socket of `f` sends to. */
export function inSocketFamily(address: string, ipVersion: number, f: UdpFamily): string {
  return ipVersion === 4 && f.family === 6 ? `::ffff:${address}` : address;
}

/** The literal to send to for `host`, or `null` when `host` is a name that needs a lookup. */
export function literalDestination(host: string, f: UdpFamily): string | null {
  const version = net.isIP(host);
  return version === 0 ? null : inSocketFamily(host, version, f);
}
