// The one reader of DER certificates and names: the transport (subjects and issuers of the
// certificates on the wire, the CA names of a CertificateRequest) and `certs inspect` (every field
// of a certificate) read through it, so a name prints the same wherever it is read.
//
// A small strict reader of its own rather than node-forge: loading forge costs a one-probe run of
// the CLI 25-40 ms, more than the TLS handshake. Names print as src/core/pki/dn.ts prints them
// (formatDn); test/unit/pki-der.test.ts holds the reader against forge's and openssl's readings.

import { type Dn, type DnAttribute, formatDn } from './rfc4514.ts';

export interface Tlv {
  /** the identifier octet: class (2 bits), constructed (1 bit), tag number (5 bits) */
  tag: number;
  /** the whole encoding: tag, length, content */
  der: Buffer;
  content: Buffer;
}

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  BMP_STRING: 0x1e,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

const CONTEXT = 0x80;
const CONSTRUCTED = 0x20;

/** [n] (context-specific), constructed or not. */
export const isContext = (t: Tlv | undefined, n: number): t is Tlv =>
  !!t && (t.tag & ~CONSTRUCTED) === (CONTEXT | n);
export const isContextClass = (t: Tlv) => (t.tag & 0xc0) === CONTEXT;
export const tagNumber = (t: Tlv) => t.tag & 0x1f;

function readTlv(buf: Buffer, offset: number): Tlv & { end: number } {
  if (offset + 2 > buf.length) throw new Error('truncated DER');
  const tag = buf[offset];
  if ((tag & 0x1f) === 0x1f) throw new Error('high tag numbers are not used in certificates');
  let len = buf[offset + 1];
  let o = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || o + n > buf.length) throw new Error('bad DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[o + i];
    o += n;
  }
  const end = o + len;
  if (end > buf.length) throw new Error('truncated DER');
  return { tag, der: buf.subarray(offset, end), content: buf.subarray(o, end), end };
}

/** One DER element filling the whole buffer (throws on anything else). */
export function readDer(der: Buffer): Tlv {
  const t = readTlv(der, 0);
  if (t.end !== der.length) throw new Error('trailing bytes after the DER element');
  const { end: _, ...tlv } = t;
  return tlv;
}

/** The elements inside a constructed element ([] for a primitive one or none). */
export function children(t: Tlv | undefined): Tlv[] {
  if (!t || !(t.tag & CONSTRUCTED)) return [];
  const out: Tlv[] = [];
  for (let o = 0; o < t.content.length; ) {
    const { end, ...c } = readTlv(t.content, o);
    out.push(c);
    o = end;
  }
  return out;
}

function expect(t: Tlv | undefined, tag: number, what: string): Tlv {
  if (!t || t.tag !== tag) throw new Error(`expected ${what}`);
  return t;
}

/** The bytes of a primitive element; a constructed one's parts concatenated (BER strings). */
export function bytesOf(t: Tlv | undefined): Buffer {
  if (!t) return Buffer.alloc(0);
  return t.tag & CONSTRUCTED ? Buffer.concat(children(t).map(bytesOf)) : t.content;
}

/** The dotted form of an OBJECT IDENTIFIER's content octets. */
export function oidFromBytes(content: Buffer): string {
  if (content.length === 0) throw new Error('empty OID');
  const arcs: number[] = [];
  let v = 0;
  for (const b of content) {
    v = v * 128 + (b & 0x7f);
    if (!(b & 0x80)) {
      arcs.push(v);
      v = 0;
    }
  }
  const first = arcs.shift()!;
  const head = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80];
  return [...head, ...arcs].join('.');
}

export function oidOf(t: Tlv | undefined): string | undefined {
  return t?.tag === TAG.OID && t.content.length ? oidFromBytes(t.content) : undefined;
}

/** A small INTEGER (up to 6 bytes); undefined for anything else. */
export function intOf(t: Tlv | undefined): number | undefined {
  if (t?.tag !== TAG.INTEGER || t.content.length > 6) return undefined;
  return t.content.length === 0 ? 0 : t.content.readIntBE(0, t.content.length);
}

export const boolOf = (t: Tlv | undefined): boolean | undefined =>
  t?.tag === TAG.BOOLEAN ? t.content[0] !== 0 : undefined;

/** A UTCTime or GeneralizedTime (RFC 5280 §4.1.2.5: UTC, seconds, "Z"); undefined otherwise. */
export function timeOf(t: Tlv | undefined): Date | undefined {
  if (!t) return undefined;
  const s = t.content.toString('latin1');
  const m =
    t.tag === TAG.UTC_TIME
      ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?Z$/.exec(s)
      : t.tag === TAG.GENERALIZED_TIME
        ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(?:\.\d+)?Z$/.exec(s)
        : null;
  if (!m) return undefined;
  let year = Number(m[1]);
  if (t.tag === TAG.UTC_TIME) year += year < 50 ? 2000 : 1900;
  const d = new Date(
    Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0)),
  );
  return Number.isNaN(d.getTime()) ? undefined : d;
}

function stringOf(t: Tlv): string {
  if (t.tag === TAG.UTF8_STRING) return t.content.toString('utf8');
  if (t.tag === TAG.BMP_STRING) {
    let s = '';
    for (let i = 0; i + 1 < t.content.length; i += 2) s += String.fromCharCode(t.content.readUInt16BE(i));
    return s;
  }
  return t.content.toString('latin1');
}

/** A Name as a Dn (DER order) and each value's DER (for OID=#hex). */
export function readName(name: Tlv | undefined): { dn: Dn; raw: Map<DnAttribute, string> } {
  const raw = new Map<DnAttribute, string>();
  const dn: Dn = children(expect(name, TAG.SEQUENCE, 'a Name (SEQUENCE)')).map((set) =>
    children(expect(set, TAG.SET, 'an RDN (SET)')).map((atv) => {
      const [type, value] = children(expect(atv, TAG.SEQUENCE, 'an attribute (SEQUENCE)'));
      if (!value) throw new Error('attribute without a value');
      const attr = {
        oid: oidFromBytes(expect(type, TAG.OID, 'an attribute type (OID)').content),
        value: stringOf(value),
      };
      raw.set(attr, value.der.toString('hex'));
      return attr;
    }),
  );
  return { dn, raw };
}

/** RFC 4514 string of a Name element. */
export function nameOf(name: Tlv | undefined): string {
  const { dn, raw } = readName(name);
  return formatDn(dn, raw);
}

/** RFC 4514 string of a DER-encoded X.501 Name. Undecodable input gives `#<hex>`. */
export function dnFromDer(der: Buffer): string {
  try {
    return nameOf(readDer(der));
  } catch {
    return `#${der.toString('hex')}`;
  }
}

export interface CertificateParts {
  /** 1, 2 or 3 */
  version: number;
  signatureAlgorithm: Tlv;
  issuer: Tlv;
  validity: Tlv;
  subject: Tlv;
  subjectPublicKeyInfo: Tlv;
  /** each Extension: SEQUENCE { extnID, critical BOOLEAN OPTIONAL, extnValue OCTET STRING } */
  extensions: Tlv[];
}

/** The parts of a DER certificate (throws on a malformed one). */
export function certificateParts(der: Buffer): CertificateParts {
  const [tbs, signatureAlgorithm] = children(expect(readDer(der), TAG.SEQUENCE, 'a Certificate (SEQUENCE)'));
  let fields = children(expect(tbs, TAG.SEQUENCE, 'a TBSCertificate (SEQUENCE)'));
  // TBSCertificate: [0] version (optional), serial, signature, issuer, validity, subject, spki, ...
  let version = 1;
  if (isContext(fields[0], 0)) {
    version = (intOf(children(fields[0])[0]) ?? 0) + 1;
    fields = fields.slice(1);
  }
  const [, , issuer, validity, subject, subjectPublicKeyInfo, ...rest] = fields;
  return {
    version,
    signatureAlgorithm: expect(signatureAlgorithm, TAG.SEQUENCE, 'a signature algorithm (SEQUENCE)'),
    issuer: expect(issuer, TAG.SEQUENCE, 'an issuer Name (SEQUENCE)'),
    validity: expect(validity, TAG.SEQUENCE, 'a Validity (SEQUENCE)'),
    subject: expect(subject, TAG.SEQUENCE, 'a subject Name (SEQUENCE)'),
    subjectPublicKeyInfo: expect(subjectPublicKeyInfo, TAG.SEQUENCE, 'a SubjectPublicKeyInfo (SEQUENCE)'),
    extensions: children(children(rest.find((t) => isContext(t, 3)))[0]),
  };
}

/** RFC 4514 subject and issuer of a DER certificate (throws on a malformed certificate). */
export function certificateNames(der: Buffer): { subject: string; issuer: string } {
  const c = certificateParts(der);
  return { issuer: nameOf(c.issuer), subject: nameOf(c.subject) };
}
