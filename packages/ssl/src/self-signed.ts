/**
 * On-demand self-signed key and certificate (what LuCId's px5g does): an EC
 * P-256 (default) or RSA key and a self-signed X.509 v3 certificate for it,
 * made synchronously with Node's crypto and the @peculiar ASN.1 schemas.
 */
import crypto from 'node:crypto';
import net from 'node:net';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  AttributeTypeAndValue,
  AttributeValue,
  BasicConstraints,
  Certificate,
  ExtendedKeyUsage,
  Extension,
  Extensions,
  GeneralName,
  KeyUsage,
  KeyUsageFlags,
  Name,
  RelativeDistinguishedName,
  SubjectAlternativeName,
  SubjectKeyIdentifier,
  SubjectPublicKeyInfo,
  TBSCertificate,
  Validity,
  Version,
  id_ce_basicConstraints,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  id_ce_subjectAltName,
  id_ce_subjectKeyIdentifier,
  id_kp_clientAuth,
  id_kp_serverAuth,
} from '@peculiar/asn1-x509';
import { ecdsaWithSHA256 } from '@peculiar/asn1-ecc';
import { id_sha256WithRSAEncryption } from '@peculiar/asn1-rsa';
import { checkInteger, checkKeyword, checkOptions, checkString, invalid, keys } from '@commio/core/internal';

/** What to generate. */
export interface SelfSignedOptions {
  /** `'ec'` (P-256) or `'rsa'`. @default 'ec' */
  keyType?: 'ec' | 'rsa';
  /** RSA key size in bits. @default 2048 */
  rsaBits?: number;
  /** The subject's common name. @default 'localhost' */
  commonName?: string;
  /** Host names and IP addresses the certificate is valid for. @default [commonName, 'localhost', '127.0.0.1', '::1'] */
  altNames?: string[];
  /** Days of validity from now. @default 365 */
  days?: number;
}

/** A key and its certificate, both PEM. */
export interface KeyAndCertificate {
  /** The private key, PKCS#8 PEM, unencrypted. */
  key: string;
  /** The self-signed certificate, PEM. */
  cert: string;
}

/** @internal The option keys of SelfSignedOptions. */
export const SELF_SIGNED_KEYS = keys('keyType', 'rsaBits', 'commonName', 'altNames', 'days');

/** @internal Checks SelfSignedOptions (`name` is its path, e.g. `options.selfSigned`). */
export function checkSelfSignedOptions(value: unknown, name: string): Required<SelfSignedOptions> {
  const o = checkOptions(value, SELF_SIGNED_KEYS, name);
  const keyType = checkKeyword<'ec' | 'rsa'>(o['keyType'], `${name}.keyType`, ['ec', 'rsa'], 'ec');
  const rsaBits = checkInteger(o['rsaBits'], `${name}.rsaBits`, 2048, 16384, 2048);
  const commonName = o['commonName'] === undefined ? 'localhost' : checkString(o['commonName'], `${name}.commonName`);
  let altNames: string[];
  if (o['altNames'] === undefined) altNames = [commonName, 'localhost', '127.0.0.1', '::1'];
  else {
    const given = o['altNames'];
    if (!Array.isArray(given) || given.length === 0) invalid(`${name}.altNames`, 'a non-empty array of host names and IP addresses', given);
    altNames = given.map((n: unknown, i: number) => checkString(n, `${name}.altNames[${i}]`));
  }
  const days = checkInteger(o['days'], `${name}.days`, 1, 36500, 365);
  return { keyType, rsaBits, commonName, altNames: [...new Set(altNames)], days };
}

function pem(label: string, der: ArrayBuffer | Buffer): string {
  const body = Buffer.from(der as ArrayBuffer).toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${body}${body.endsWith('\n') ? '' : '\n'}-----END ${label}-----\n`;
}

function extension(id: string, critical: boolean, value: unknown): Extension {
  return new Extension({ extnID: id, critical, extnValue: new OctetString(AsnConvert.serialize(value)) });
}

function toArrayBuffer(bytes: Buffer): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer;
}

/**
 * Generates a key and a self-signed certificate for it (synchronously: an
 * EC key takes about a millisecond, an RSA 2048 key a fraction of a second).
 */
export function generateSelfSignedCertificate(options?: SelfSignedOptions): KeyAndCertificate {
  const o = checkSelfSignedOptions(options, 'options');
  const { privateKey, publicKey } =
    o.keyType === 'ec'
      ? crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : crypto.generateKeyPairSync('rsa', { modulusLength: o.rsaBits });
  const spkiDer = publicKey.export({ type: 'spki', format: 'der' });
  const spki = AsnConvert.parse(spkiDer, SubjectPublicKeyInfo);
  const subject = new Name([
    new RelativeDistinguishedName([new AttributeTypeAndValue({ type: '2.5.4.3', value: new AttributeValue({ utf8String: o.commonName }) })]),
  ]);
  const serial = crypto.randomBytes(16);
  // A positive INTEGER in minimal DER: high bit clear, and a first byte that
  // is not zero (a leading zero would be padding, which OpenSSL refuses).
  serial[0] = ((serial[0] as number) & 0x7f) | 0x01;
  const now = Date.now();
  const keyId = crypto.createHash('sha1').update(Buffer.from(spki.subjectPublicKey)).digest();
  const usage = KeyUsageFlags.digitalSignature | KeyUsageFlags.keyCertSign | (o.keyType === 'rsa' ? KeyUsageFlags.keyEncipherment : 0);
  const names = o.altNames.map((n) => (net.isIP(n) !== 0 ? new GeneralName({ iPAddress: n }) : new GeneralName({ dNSName: n })));
  // Built from the OID: the package's own sha256WithRSAEncryption constant names SHA-512/256 in 2.11.
  const signature = o.keyType === 'ec' ? ecdsaWithSHA256 : new AlgorithmIdentifier({ algorithm: id_sha256WithRSAEncryption, parameters: null });
  const tbs = new TBSCertificate({
    version: Version.v3,
    serialNumber: toArrayBuffer(serial),
    signature,
    issuer: subject,
    subject,
    // An hour of slack for clocks that lag.
    validity: new Validity({ notBefore: new Date(now - 3600_000), notAfter: new Date(now + o.days * 86400_000) }),
    subjectPublicKeyInfo: spki,
    extensions: new Extensions([
      // Self-signed: the certificate is its own trust anchor, so it may sign (itself).
      extension(id_ce_basicConstraints, true, new BasicConstraints({ cA: true })),
      extension(id_ce_keyUsage, true, new KeyUsage(usage)),
      extension(id_ce_extKeyUsage, false, new ExtendedKeyUsage([id_kp_serverAuth, id_kp_clientAuth])),
      extension(id_ce_subjectKeyIdentifier, false, new SubjectKeyIdentifier(toArrayBuffer(keyId))),
      extension(id_ce_subjectAltName, false, new SubjectAlternativeName(names)),
    ]),
  });
  const tbsDer = Buffer.from(AsnConvert.serialize(tbs));
  const signatureValue = crypto.sign('sha256', tbsDer, privateKey);
  const certificate = new Certificate({ tbsCertificate: tbs, signatureAlgorithm: signature, signatureValue: toArrayBuffer(signatureValue) });
  return {
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    cert: pem('CERTIFICATE', AsnConvert.serialize(certificate)),
  };
}
