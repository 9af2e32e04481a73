/**
 * The PROXY protocol parser and the trusted-address list, without sockets:
 * v1 and v2 headers as HAProxy sends them, every way a header can be wrong,
 * and a fast-check fuzz suite (random bytes, truncations, byte-by-byte
 * feeding, mutations of valid headers): the parser never throws, never
 * reads past its bound, and agrees with itself however the bytes arrive.
 * The addresses and ports in these headers are field values, what a proxy
 * says of its client (documentation ranges 192.0.2.0/24, 198.51.100.0/24,
 * 203.0.113.0/24, 2001:db8::/32 and loopback): nothing here binds a port.
 */
import test from 'ava';
import fc from 'fast-check';
import {
  MAX_V1_HEADER_BYTES,
  MAX_V2_HEADER_BYTES,
  parseIpv6Text,
  parseProxyHeader,
  type ProxyParse,
} from '../packages/core/src/proxy/proxy-header.js';
import { formatIpv6 } from '../packages/core/src/proxy/ip-text.js';
import { TrustedSources } from '../packages/core/src/proxy/trusted-sources.js';
import { resolveProxySettings } from '../packages/core/src/proxy/proxy-options.js';

const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

/** A v2 header: command 0 LOCAL / 1 PROXY, family byte, body (addresses + TLVs). */
function v2(command: number, family: number, body: Buffer, version = 2): Buffer {
  const fixed = Buffer.alloc(4);
  fixed[0] = (version << 4) | command;
  fixed[1] = family;
  fixed.writeUInt16BE(body.length, 2);
  return Buffer.concat([V2_SIGNATURE, fixed, body]);
}

function tlv(type: number, value: Buffer): Buffer {
  const head = Buffer.alloc(3);
  head[0] = type;
  head.writeUInt16BE(value.length, 1);
  return Buffer.concat([head, value]);
}

function inet4(src: number[], dst: number[], sport: number, dport: number): Buffer {
  const b = Buffer.alloc(12);
  Buffer.from(src).copy(b, 0);
  Buffer.from(dst).copy(b, 4);
  b.writeUInt16BE(sport, 8);
  b.writeUInt16BE(dport, 10);
  return b;
}

function header(result: ProxyParse): Extract<ProxyParse, { kind: 'header' }> {
  if (result.kind !== 'header') throw new Error(`expected a header, got ${JSON.stringify(result)}`);
  return result;
}

test('v1 TCP4 and TCP6: addresses, ports, length; the bytes after it are not part of it', (t) => {
  const line = 'PROXY TCP4 192.0.2.10 198.51.100.1 56324 443\r\n';
  const r = header(parseProxyHeader(Buffer.from(`${line}GET / HTTP/1.0\r\n`)));
  t.is(r.length, line.length);
  t.deepEqual(r.header, {
    version: 1,
    command: 'proxy',
    source: { address: '192.0.2.10', port: 56324, family: 'IPv4' },
    destination: { address: '198.51.100.1', port: 443, family: 'IPv4' },
    tlvs: new Map(),
  });
  const r6 = header(parseProxyHeader(Buffer.from('PROXY TCP6 2001:DB8:0:0:0:0:0:1 ::1 1 65535\r\n')));
  t.deepEqual(r6.header.source, { address: '2001:db8::1', port: 1, family: 'IPv6' });
  t.deepEqual(r6.header.destination, { address: '::1', port: 65535, family: 'IPv6' });
});

test('v1 UNKNOWN: no addresses (the proxy keeps its own)', (t) => {
  const r = header(parseProxyHeader(Buffer.from('PROXY UNKNOWN whatever follows\r\nrest')));
  t.is(r.header.source, null);
  t.is(r.header.destination, null);
  t.is(r.length, 'PROXY UNKNOWN whatever follows\r\n'.length);
});

test('v1: incomplete until CRLF; the longest legal line passes, one byte more is oversize', (t) => {
  t.is(parseProxyHeader(Buffer.from('PRO')).kind, 'incomplete');
  t.is(parseProxyHeader(Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r')).kind, 'incomplete');
  const longest = `PROXY UNKNOWN ${'x'.repeat(MAX_V1_HEADER_BYTES - 16)}\r\n`;
  t.is(longest.length, MAX_V1_HEADER_BYTES);
  t.is(parseProxyHeader(Buffer.from(longest)).kind, 'header');
  const over = parseProxyHeader(Buffer.from(`PROXY UNKNOWN ${'x'.repeat(MAX_V1_HEADER_BYTES)}`));
  t.like(over, { kind: 'invalid', problem: 'oversize' });
});

test('v1: every malformed line is refused', (t) => {
  const bad = [
    'PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n',
    'PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX',
    'PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n',
    'PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n',
    'PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n',
    'PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n',
    'PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n',
    'PROXY TCP4 ::1 5.6.7.8 1 2\r\n',
    'PROXY TCP6 1.2.3.4 ::1 1 2\r\n',
    'PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n',
    'PROXY TCP6 1::2::3 ::1 1 2\r\n',
    'PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n',
    'PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n',
    'PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n',
    'PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n',
    'PROXY TCP4 1.2.3.4 5.6.7.8 1 2\u0000\r\n',
    'PROXX TCP4 1.2.3.4 5.6.7.8 1 2\r\n',
    'GET / HTTP/1.1\r\n',
  ];
  for (const text of bad) t.is(parseProxyHeader(Buffer.from(text)).kind, 'invalid', JSON.stringify(text));
});

test('v2 PROXY over IPv4 and IPv6, with TLVs kept by type', (t) => {
  const body = Buffer.concat([inet4([192, 0, 2, 10], [10, 0, 0, 1], 56324, 443), tlv(0x01, Buffer.from('h2')), tlv(0x05, Buffer.from('id-1'))]);
  const bytes = v2(1, 0x11, body);
  const r = header(parseProxyHeader(Buffer.concat([bytes, Buffer.from('leftover')])));
  t.is(r.length, bytes.length);
  t.deepEqual(r.header.source, { address: '192.0.2.10', port: 56324, family: 'IPv4' });
  t.deepEqual(r.header.destination, { address: '10.0.0.1', port: 443, family: 'IPv4' });
  t.deepEqual([...r.header.tlvs.keys()], [1, 5]);
  t.is(Buffer.from(r.header.tlvs.get(5) ?? []).toString(), 'id-1');
  const six = Buffer.alloc(36);
  six[15] = 1;
  six.writeUInt16BE(0xffff, 26);
  six.writeUInt32BE(0x7f000001, 28);
  six.writeUInt16BE(4000, 32);
  six.writeUInt16BE(80, 34);
  const r6 = header(parseProxyHeader(v2(1, 0x21, six)));
  t.deepEqual(r6.header.source, { address: '::1', port: 4000, family: 'IPv6' });
  t.deepEqual(r6.header.destination, { address: '::ffff:127.0.0.1', port: 80, family: 'IPv6' });
});

test('v2 LOCAL (a health check), UNSPEC and UNIX: no addresses', (t) => {
  const local = header(parseProxyHeader(v2(0, 0x11, inet4([1, 2, 3, 4], [5, 6, 7, 8], 1, 2))));
  t.like(local.header, { version: 2, command: 'local', source: null, destination: null });
  t.like(header(parseProxyHeader(v2(0, 0x00, Buffer.alloc(0)))).header, { command: 'local', source: null });
  t.like(header(parseProxyHeader(v2(1, 0x31, Buffer.alloc(216)))).header, { command: 'proxy', source: null });
});

test('v2: incomplete until its length arrived; every malformed header is refused', (t) => {
  const full = v2(1, 0x11, inet4([1, 2, 3, 4], [5, 6, 7, 8], 1, 2));
  for (let n = 1; n < full.length; n++) t.is(parseProxyHeader(full.subarray(0, n)).kind, 'incomplete', `${n} bytes`);
  t.like(parseProxyHeader(v2(1, 0x11, Buffer.alloc(12), 3)), { kind: 'invalid', problem: 'version' });
  t.like(parseProxyHeader(v2(1, 0x11, Buffer.alloc(12), 1)), { kind: 'invalid', problem: 'version' });
  t.like(parseProxyHeader(v2(2, 0x11, Buffer.alloc(12))), { kind: 'invalid', problem: 'malformed' });
  t.like(parseProxyHeader(v2(1, 0x41, Buffer.alloc(12))), { kind: 'invalid', problem: 'malformed' });
  t.like(parseProxyHeader(v2(1, 0x13, Buffer.alloc(12))), { kind: 'invalid', problem: 'malformed' });
  t.like(parseProxyHeader(v2(1, 0x11, Buffer.alloc(11))), { kind: 'invalid', problem: 'malformed' });
  t.like(parseProxyHeader(v2(1, 0x21, Buffer.alloc(35))), { kind: 'invalid', problem: 'malformed' });
  // A TLV whose length runs past the header.
  const lying = Buffer.concat([inet4([1, 2, 3, 4], [5, 6, 7, 8], 1, 2), Buffer.from([0x05, 0x00, 0x09, 0x41])]);
  t.like(parseProxyHeader(v2(1, 0x11, lying)), { kind: 'invalid', problem: 'malformed' });
  t.like(parseProxyHeader(v2(1, 0x11, Buffer.concat([inet4([1, 2, 3, 4], [5, 6, 7, 8], 1, 2), Buffer.from([0x05, 0x00])]))), { kind: 'invalid' });
  const wrongSignature = Buffer.from(full);
  wrongSignature[7] = 0x52;
  t.like(parseProxyHeader(wrongSignature), { kind: 'invalid', problem: 'malformed' });
  t.like(parseProxyHeader(wrongSignature.subarray(0, 8)), { kind: 'invalid', problem: 'malformed' }, 'refused at the first wrong byte');
  t.like(parseProxyHeader(Buffer.from([0x16, 0x03, 0x01])), { kind: 'invalid', problem: 'malformed' }, 'a TLS ClientHello is no header');
});

test('IPv6 text: parsed and printed as Node.js prints addresses', (t) => {
  const cases: [string, string][] = [
    ['::', '::'],
    ['::1', '::1'],
    ['2001:db8::', '2001:db8::'],
    ['2001:0db8:0000:0000:0001:0000:0000:0001', '2001:db8::1:0:0:1'],
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ['1:0:3:4:5:6:7:8', '1:0:3:4:5:6:7:8'],
    ['::ffff:10.1.2.3', '::ffff:10.1.2.3'],
    ['64:ff9b::192.0.2.1', '64:ff9b::c000:201'],
  ];
  for (const [text, canonical] of cases) {
    const bytes = parseIpv6Text(text);
    t.not(bytes, null, text);
    if (bytes !== null) t.is(formatIpv6(bytes), canonical, text);
  }
  for (const bad of ['', ':', ':::', '1:2:3:4:5:6:7:8:9', '1::2::3', '12345::', '1.2.3.4::', '::1.2.3', 'g::1', '1:2:3:4:5:6:7::8:9']) t.is(parseIpv6Text(bad), null, bad);
});

test('trusted: addresses and CIDR ranges of both families; IPv4-mapped peers match IPv4 entries', (t) => {
  const trusted = new TrustedSources(['127.0.0.1', '10.0.0.0/8', '::1', 'fd00::/8'], 'trusted');
  for (const yes of ['127.0.0.1', '::ffff:127.0.0.1', '10.200.3.4', '::1', 'fd12:3456::9']) t.true(trusted.has(yes), yes);
  for (const no of ['127.0.0.2', '11.0.0.1', '::2', 'fe80::1', 'not an address', undefined]) t.false(trusted.has(no), String(no));
  t.false(new TrustedSources([], 'trusted').has('127.0.0.1'), 'an empty list trusts nobody');
});

test('proxyProtocol option: every bad value is ERR_COMMIO_INVALID_ARGUMENT naming its path', (t) => {
  const bad: [unknown, string][] = [
    ['yes', 'options.proxyProtocol'],
    [{ trusted: '127.0.0.1' }, 'options.proxyProtocol.trusted'],
    [{ trusted: ['127.0.0.1', 7] }, 'options.proxyProtocol.trusted[1]'],
    [{ trusted: ['10.0.0.0/33'] }, 'options.proxyProtocol.trusted[0]'],
    [{ trusted: ['::/129'] }, 'options.proxyProtocol.trusted[0]'],
    [{ trusted: ['10.0.0.0/'] }, 'options.proxyProtocol.trusted[0]'],
    [{ trusted: ['localhost'] }, 'options.proxyProtocol.trusted[0]'],
    [{ trusted: ['fe80::1%eth0'] }, 'options.proxyProtocol.trusted[0]'],
    [{ trusted: [], timeout: 0 }, 'options.proxyProtocol.timeout'],
    [{ trusted: [], timeout: -1 }, 'options.proxyProtocol.timeout'],
    [{ trusted: [], timeout: null }, 'options.proxyProtocol.timeout'],
    [{ trusted: [], extra: 1 }, 'options.proxyProtocol.extra'],
  ];
  for (const [value, argument] of bad) {
    const error = t.throws(() => resolveProxySettings({ proxyProtocol: value }), { code: 'ERR_COMMIO_INVALID_ARGUMENT' });
    t.is((error as { argument?: string } | undefined)?.argument, argument);
  }
  t.throws(() => resolveProxySettings({ proxyProtocol: { trusted: [] }, createState: false }), { code: 'ERR_COMMIO_INVALID_ARGUMENT' });
  t.throws(() => resolveProxySettings({ proxyErrorCallback: 'no' }), { code: 'ERR_COMMIO_INVALID_ARGUMENT' });
  t.is(resolveProxySettings({ proxyProtocol: null }), null);
  t.is(resolveProxySettings({})?.timeout, undefined);
  t.is(resolveProxySettings({ proxyProtocol: { trusted: ['::1'] } })?.timeout, 5);
});

// ------------------------------------------------------------------ fuzzing

/** Feeds `bytes` in the given chunk sizes the way the reader does (accumulating), returning the first decisive result. */
function feed(bytes: Uint8Array, cuts: number[]): ProxyParse {
  let seen = 0;
  for (const cut of [...cuts.filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b), bytes.length]) {
    if (cut <= seen) continue;
    seen = cut;
    const result = parseProxyHeader(bytes.subarray(0, cut));
    if (result.kind !== 'incomplete') return result;
  }
  return parseProxyHeader(bytes);
}

const validHeader = fc.oneof(
  fc
    .tuple(fc.ipV4(), fc.ipV4(), fc.nat(65535), fc.nat(65535))
    .map(([s, d, sp, dp]) => Buffer.from(`PROXY TCP4 ${s} ${d} ${sp} ${dp}\r\n`)),
  fc
    .tuple(fc.uint8Array({ minLength: 12, maxLength: 12 }), fc.array(fc.tuple(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 40 })), { maxLength: 4 }))
    .map(([addresses, tlvs]) => v2(1, 0x11, Buffer.concat([Buffer.from(addresses), ...tlvs.map(([type, value]) => tlv(type, Buffer.from(value)))]))),
  fc.uint8Array({ minLength: 36, maxLength: 36 }).map((addresses) => v2(1, 0x21, Buffer.from(addresses))),
);

test('fuzz: random bytes never throw, and a verdict never needs more than the bound', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      const result = parseProxyHeader(bytes);
      if (result.kind === 'header') return result.length <= bytes.length && result.length <= MAX_V2_HEADER_BYTES;
      if (result.kind === 'incomplete' && bytes[0] === 0x50) return bytes.length < MAX_V1_HEADER_BYTES;
      return true;
    }),
    { numRuns: 5000 },
  );
  t.pass();
});

test('fuzz: a valid header parses the same whole, trickled byte by byte, or cut anywhere; the leftover is untouched', (t) => {
  fc.assert(
    fc.property(validHeader, fc.uint8Array({ maxLength: 20 }), fc.array(fc.nat(200), { maxLength: 6 }), (bytes, after, cuts) => {
      const whole = Buffer.concat([bytes, after]);
      const once = header(parseProxyHeader(whole));
      if (once.length !== bytes.length) return false;
      const trickled = feed(whole, Array.from({ length: whole.length }, (_, i) => i + 1));
      const cut = feed(whole, cuts);
      return JSON.stringify([trickled, cut].map((r) => r.kind === 'header' && r.length)) === JSON.stringify([bytes.length, bytes.length]);
    }),
    { numRuns: 500 },
  );
  t.pass();
});

test('fuzz: truncated valid headers are incomplete, never accepted; mutated ones never throw', (t) => {
  fc.assert(
    fc.property(validHeader, fc.nat(), fc.nat(), fc.integer({ min: 0, max: 255 }), (bytes, at, position, value) => {
      const truncated = bytes.subarray(0, at % bytes.length);
      if (parseProxyHeader(truncated).kind !== 'incomplete') return false;
      const mutated = Buffer.from(bytes);
      mutated[position % mutated.length] = value;
      const result = parseProxyHeader(mutated);
      return result.kind !== 'header' || result.length <= mutated.length;
    }),
    { numRuns: 2000 },
  );
  t.pass();
});

test('fuzz: hostile v1 lines (long, unprintable, no CRLF) are refused within 107 bytes', (t) => {
  fc.assert(
    fc.property(fc.string({ maxLength: 300 }), (tail) => {
      const bytes = Buffer.from(`PROXY ${tail}`, 'latin1');
      const result = parseProxyHeader(bytes);
      if (result.kind === 'header') return result.length <= MAX_V1_HEADER_BYTES;
      if (result.kind === 'incomplete') return bytes.length < MAX_V1_HEADER_BYTES;
      return true;
    }),
    { numRuns: 3000 },
  );
  t.pass();
});
