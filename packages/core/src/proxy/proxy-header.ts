/**
 * The PROXY protocol header (HAProxy's, versions 1 and 2): a pure parser.
 *
 * A proxy that speaks it sends one header at the very start of the
 * connection saying whom it is relaying: v1 is one text line
 * (`PROXY TCP4 <src> <dst> <sport> <dport>\r\n`, at most 107 bytes), v2 a
 * 16-byte binary prefix whose last two bytes give the length of the
 * addresses and TLVs that follow.
 *
 * `parseProxyHeader` is given every byte received so far and says whether
 * they hold a complete header, need more, or can never become one. It is
 * bounded: it looks at no more than the longest possible header (107 bytes
 * for v1, 16 + 65535 for v2), rejects as soon as the bytes cannot start a
 * valid header (the first wrong signature byte, a non-printable byte in a
 * v1 line), and never throws on any input.
 */
import { formatIpv4, formatIpv6 } from './ip-text.js';
import type { SocketAddress } from '../transports/stream-transport.js';

/** An address in a PROXY header: the shape of `state.peerAddress`. */
export type ProxyAddress = SocketAddress;

/**
 * A parsed PROXY header (`state.proxyHeader`). `source`/`destination` are
 * the client's and the proxy's listening addresses as the proxy saw them;
 * both `null` for a `LOCAL` command (a health check by the proxy itself), a
 * v1 `UNKNOWN` line, and v2 headers for non-IP families. `tlvs` holds the v2
 * type-length-value extensions by type (empty for v1).
 */
export interface ProxyHeader {
  /** The protocol version of the header: 1 (text) or 2 (binary). */
  readonly version: 1 | 2;
  /** `'proxy'`: relayed for a client; `'local'`: the proxy's own connection (a health check). */
  readonly command: 'proxy' | 'local';
  /** The client's address as the proxy saw it; `null` for LOCAL, UNKNOWN and non-IP families. */
  readonly source: ProxyAddress | null;
  /** The address the client connected to on the proxy; `null` as for `source`. */
  readonly destination: ProxyAddress | null;
  /** v2 type-length-value extensions by type (ALPN, authority, ...); empty for v1. */
  readonly tlvs: Map<number, Uint8Array>;
}

/** Why bytes can never become a header (see `ProxyProtocolError.reason`). */
export type ProxyHeaderProblem = 'malformed' | 'oversize' | 'version';

/** What `parseProxyHeader` found. */
export type ProxyParse =
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'header'; readonly header: ProxyHeader; /** Bytes the header took; what follows belongs to the connection. */ readonly length: number }
  | { readonly kind: 'invalid'; readonly problem: ProxyHeaderProblem; readonly message: string };

/** Longest v1 header, CRLF included (the protocol's own bound). */
export const MAX_V1_HEADER_BYTES = 107;
/** Longest v2 header: the fixed 16 bytes plus the largest 16-bit length. */
export const MAX_V2_HEADER_BYTES = 16 + 0xffff;

const V1_SIGNATURE = Buffer.from('PROXY ', 'latin1');
const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V2_FIXED_BYTES = 16;
const CR = 0x0d;
const LF = 0x0a;
/** Bytes of the v2 address block for each family (UNSPEC, INET, INET6, UNIX). */
const V2_ADDRESS_BYTES = [0, 12, 36, 216] as const;
const INCOMPLETE: ProxyParse = Object.freeze({ kind: 'incomplete' });

function invalid(problem: ProxyHeaderProblem, message: string): ProxyParse {
  return { kind: 'invalid', problem, message };
}

/** True when `bytes` starts with as much of `signature` as it holds. */
function prefixMatches(bytes: Uint8Array, signature: Uint8Array): boolean {
  const n = Math.min(bytes.length, signature.length);
  for (let i = 0; i < n; i++) if (bytes[i] !== signature[i]) return false;
  return true;
}

/** Looks at the bytes received so far (from the first byte of the connection). */
export function parseProxyHeader(bytes: Uint8Array): ProxyParse {
  if (bytes.length === 0) return INCOMPLETE;
  if (bytes[0] === V1_SIGNATURE[0]) return parseV1(bytes);
  if (bytes[0] === V2_SIGNATURE[0]) return parseV2(bytes);
  return invalid('malformed', 'the connection does not start with a PROXY protocol signature');
}

// ----------------------------------------------------------------------- v1

const PORT_TEXT = /^(?:0|[1-9][0-9]{0,4})$/;

function parsePort(text: string): number | null {
  if (!PORT_TEXT.test(text)) return null;
  const port = Number(text);
  return port <= 0xffff ? port : null;
}

function parseV1(bytes: Uint8Array): ProxyParse {
  if (!prefixMatches(bytes, V1_SIGNATURE)) return invalid('malformed', 'bad v1 signature (expected "PROXY ")');
  const limit = Math.min(bytes.length, MAX_V1_HEADER_BYTES);
  let end = -1;
  for (let i = V1_SIGNATURE.length; i < limit; i++) {
    const byte = bytes[i] as number;
    if (byte === CR) {
      if (i + 1 >= bytes.length) return INCOMPLETE;
      if (bytes[i + 1] !== LF) return invalid('malformed', 'v1 header: CR not followed by LF');
      end = i;
      break;
    }
    if (byte < 0x20 || byte > 0x7e) return invalid('malformed', 'v1 header: a byte that is not printable ASCII');
  }
  if (end === -1) {
    return bytes.length >= MAX_V1_HEADER_BYTES ? invalid('oversize', `v1 header longer than ${MAX_V1_HEADER_BYTES} bytes`) : INCOMPLETE;
  }
  const line = Buffer.from(bytes.buffer, bytes.byteOffset, end).toString('latin1');
  const header = v1Fields(line.split(' '));
  if (typeof header === 'string') return invalid('malformed', `v1 header: ${header}`);
  return { kind: 'header', header, length: end + 2 };
}

/** The header a v1 line's fields describe, or what is wrong with them. */
function v1Fields(fields: string[]): ProxyHeader | string {
  const protocol = fields[1];
  if (protocol === 'UNKNOWN') return { version: 1, command: 'proxy', source: null, destination: null, tlvs: new Map() };
  if (protocol !== 'TCP4' && protocol !== 'TCP6') return `unknown protocol ${JSON.stringify(protocol ?? '')}`;
  if (fields.length !== 6) return 'expected PROXY TCP4|TCP6 <source> <destination> <source port> <destination port>';
  const family = protocol === 'TCP4' ? 'IPv4' : 'IPv6';
  const source = v1Address(fields[2] as string, fields[4] as string, family);
  const destination = v1Address(fields[3] as string, fields[5] as string, family);
  if (source === null || destination === null) return `bad ${family} address or port`;
  return { version: 1, command: 'proxy', source, destination, tlvs: new Map() };
}

function v1Address(text: string, portText: string, family: 'IPv4' | 'IPv6'): ProxyAddress | null {
  const port = parsePort(portText);
  if (port === null) return null;
  const address = family === 'IPv4' ? canonicalIpv4(text) : canonicalIpv6(text);
  return address === null ? null : { address, port, family };
}

const IPV4_TEXT = /^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$/;

function canonicalIpv4(text: string): string | null {
  return IPV4_TEXT.test(text) ? text : null;
}

/** An IPv6 literal (no zone) in its canonical text form, or null. */
function canonicalIpv6(text: string): string | null {
  const bytes = parseIpv6Text(text);
  return bytes === null ? null : formatIpv6(bytes);
}

/** The 16 bytes of an IPv6 literal (RFC 4291 text, an embedded IPv4 allowed, no zone), or null. */
export function parseIpv6Text(text: string): Uint8Array | null {
  if (text.length < 2 || text.length > 45 || !/^[0-9A-Fa-f:.]+$/.test(text)) return null;
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groups = (half: string): number[] | null => {
    if (half === '') return [];
    const out: number[] = [];
    const parts = half.split(':');
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i] as string;
      if (i === parts.length - 1 && part.includes('.')) {
        if (canonicalIpv4(part) === null) return null;
        const [a, b, c, d] = part.split('.').map(Number) as [number, number, number, number];
        out.push((a << 8) | b, (c << 8) | d);
      } else {
        if (!/^[0-9A-Fa-f]{1,4}$/.test(part)) return null;
        out.push(parseInt(part, 16));
      }
    }
    return out;
  };
  const head = groups(halves[0] as string);
  const tail = halves.length === 2 ? groups(halves[1] as string) : [];
  if (head === null || tail === null) return null;
  // An embedded IPv4 address can only end the text.
  if (halves.length === 2 && (halves[0] as string).includes('.')) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const all = [...head, ...new Array<number>(missing).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  all.forEach((group, i) => {
    bytes[2 * i] = group >> 8;
    bytes[2 * i + 1] = group & 0xff;
  });
  return bytes;
}

// ----------------------------------------------------------------------- v2

function parseV2(bytes: Uint8Array): ProxyParse {
  if (!prefixMatches(bytes, V2_SIGNATURE)) return invalid('malformed', 'bad v2 signature');
  if (bytes.length < V2_FIXED_BYTES) return INCOMPLETE;
  const versionCommand = bytes[12] as number;
  if (versionCommand >> 4 !== 2) return invalid('version', `unknown PROXY protocol version ${versionCommand >> 4}`);
  const commandCode = versionCommand & 0x0f;
  if (commandCode > 1) return invalid('malformed', `v2 header: unknown command ${commandCode}`);
  const familyByte = bytes[13] as number;
  const family = familyByte >> 4;
  const transport = familyByte & 0x0f;
  if (family > 3 || transport > 2) return invalid('malformed', `v2 header: unknown address family/protocol 0x${familyByte.toString(16)}`);
  const length = ((bytes[14] as number) << 8) | (bytes[15] as number);
  const total = V2_FIXED_BYTES + length;
  if (bytes.length < total) return INCOMPLETE;
  const addressBytes = V2_ADDRESS_BYTES[family] as number;
  if (length < addressBytes) return invalid('malformed', `v2 header: length ${length} too short for its addresses (${addressBytes})`);
  const tlvs = parseTlvs(bytes, V2_FIXED_BYTES + addressBytes, total);
  if (tlvs === null) return invalid('malformed', 'v2 header: a TLV runs past the header');
  const command = commandCode === 0 ? 'local' : 'proxy';
  let source: ProxyAddress | null = null;
  let destination: ProxyAddress | null = null;
  if (command === 'proxy' && (family === 1 || family === 2)) {
    const at = V2_FIXED_BYTES;
    const size = family === 1 ? 4 : 16;
    const text = family === 1 ? formatIpv4 : formatIpv6;
    const fam = family === 1 ? 'IPv4' : 'IPv6';
    const ports = at + 2 * size;
    source = { address: text(bytes.subarray(at, at + size)), port: readUint16(bytes, ports), family: fam };
    destination = { address: text(bytes.subarray(at + size, ports)), port: readUint16(bytes, ports + 2), family: fam };
  }
  return { kind: 'header', header: { version: 2, command, source, destination, tlvs }, length: total };
}

function readUint16(bytes: Uint8Array, at: number): number {
  return ((bytes[at] as number) << 8) | (bytes[at + 1] as number);
}

/** The TLVs in `bytes[from, to)` (copies: the header's buffer is not kept), or null if one runs past `to`. */
function parseTlvs(bytes: Uint8Array, from: number, to: number): Map<number, Uint8Array> | null {
  const tlvs = new Map<number, Uint8Array>();
  let at = from;
  while (at < to) {
    if (at + 3 > to) return null;
    const type = bytes[at] as number;
    const size = readUint16(bytes, at + 1);
    const start = at + 3;
    if (start + size > to) return null;
    tlvs.set(type, bytes.slice(start, start + size));
    at = start + size;
  }
  return tlvs;
}
