/**
 * The `trusted` list of the `proxyProtocol` accept option: addresses and
 * CIDR ranges (`'127.0.0.1'`, `'10.0.0.0/8'`, `'::1'`, `'fd00::/8'`) a PROXY
 * header is believed from. Checked when the accept options are, so a typo
 * fails before anything listens; matched with Node's `net.BlockList`, which
 * also matches IPv4-mapped IPv6 peers (`::ffff:10.1.2.3`, what a dual-stack
 * socket reports) against IPv4 entries.
 */
import net from 'node:net';
import { invalid } from '../options/validate.js';

/** The checked `trusted` list. */
export class TrustedSources {
  readonly #list = new net.BlockList();
  /** The entries as given. */
  readonly entries: readonly string[];

  /** Throws `ERR_COMMIO_INVALID_ARGUMENT` (naming `name[i]`) for an entry that is not an address or a CIDR range. */
  constructor(value: unknown, name: string) {
    if (!Array.isArray(value)) invalid(name, "a list of addresses and CIDR ranges (['127.0.0.1', '10.0.0.0/8', '::1', 'fd00::/8'])", value);
    const entries: string[] = [];
    (value as unknown[]).forEach((entry, i) => {
      if (typeof entry !== 'string') invalid(`${name}[${i}]`, "an address or a CIDR range such as '10.0.0.0/8'", entry);
      this.#add(entry, `${name}[${i}]`);
      entries.push(entry);
    });
    this.entries = Object.freeze(entries);
  }

  #add(entry: string, name: string): void {
    const slash = entry.indexOf('/');
    const address = slash === -1 ? entry : entry.slice(0, slash);
    const version = net.isIP(address);
    // Zones (fe80::1%eth0) name an interface, not a range of peers.
    if (version === 0 || address.includes('%')) invalid(name, "an IPv4 or IPv6 address, optionally /prefix ('10.0.0.0/8')", entry);
    const type = version === 4 ? 'ipv4' : 'ipv6';
    if (slash === -1) {
      this.#list.addAddress(address, type);
      return;
    }
    const prefixText = entry.slice(slash + 1);
    const prefix = /^[0-9]{1,3}$/.test(prefixText) ? Number(prefixText) : -1;
    if (prefix < 0 || prefix > (version === 4 ? 32 : 128)) invalid(name, `a CIDR range with a prefix length of 0 to ${version === 4 ? 32 : 128}`, entry);
    this.#list.addSubnet(address, prefix, type);
  }

  /** True when `address` (a peer address as Node reports it) is in the list. */
  has(address: string | undefined): boolean {
    if (address === undefined) return false;
    const version = net.isIP(address);
    if (version === 0) return false;
    return this.#list.check(address, version === 4 ? 'ipv4' : 'ipv6');
  }
}
