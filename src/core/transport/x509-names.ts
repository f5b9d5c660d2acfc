// RFC 4514 strings for the names the transport sees on the wire: certificate subjects and issuers,
// and the distinguished names in a CertificateRequest's certificate_authorities.
//
// A small DER reader of its own rather than node-forge: loading forge costs a one-probe run of the
// CLI 25-40 ms, more than the TLS handshake. The output is the same string src/core/pki/dn.ts
// prints (formatDn over dnFromAsn1): test/unit/transport-x509-names.test.ts holds the two
// side by side on generated names.

import { type Dn, type DnAttribute, formatDn } from '../pki/rfc4514.ts';

interface Tlv {
  tag: number;
  /** the whole encoding: tag, length, content */
  der: Buffer;
  content: Buffer;
}

function readTlv(buf: Buffer, offset: number): Tlv & { end: number } {
  if (offset + 2 > buf.length) throw new Error('truncated DER');
  const tag = buf[offset];
  if ((tag & 0x1f) === 0x1f) throw new Error('high tag numbers are not used in names');
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

function children(content: Buffer): Tlv[] {
  const out: Tlv[] = [];
  for (let o = 0; o < content.length; ) {
    const t = readTlv(content, o);
    out.push(t);
    o = t.end;
  }
  return out;
}

function expect(t: Tlv | undefined, tag: number, what: string): Tlv {
  if (!t || t.tag !== tag) throw new Error(`expected ${what}`);
  return t;
}

const SEQUENCE = 0x30;
const SET = 0x31;
const OID = 0x06;
const UTF8STRING = 0x0c;
const BMPSTRING = 0x1e;

function oidOf(content: Buffer): string {
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

function stringOf(t: Tlv): string {
  if (t.tag === UTF8STRING) return t.content.toString('utf8');
  if (t.tag === BMPSTRING) {
    let s = '';
    for (let i = 0; i + 1 < t.content.length; i += 2) s += String.fromCharCode(t.content.readUInt16BE(i));
    return s;
  }
  return t.content.toString('latin1');
}

/** A DER Name as a Dn (DER order) and each value's DER (for OID=#hex). */
function readName(name: Tlv): { dn: Dn; raw: Map<DnAttribute, string> } {
  expect(name, SEQUENCE, 'a Name (SEQUENCE)');
  const raw = new Map<DnAttribute, string>();
  const dn: Dn = children(name.content).map((set) =>
    children(expect(set, SET, 'an RDN (SET)').content).map((atv) => {
      const [type, value] = children(expect(atv, SEQUENCE, 'an attribute (SEQUENCE)').content);
      if (!value) throw new Error('attribute without a value');
      const attr = {
        oid: oidOf(expect(type, OID, 'an attribute type (OID)').content),
        value: stringOf(value),
      };
      raw.set(attr, value.der.toString('hex'));
      return attr;
    }),
  );
  return { dn, raw };
}

function format({ dn, raw }: { dn: Dn; raw: Map<DnAttribute, string> }): string {
  return formatDn(dn, raw);
}

/** RFC 4514 string of a DER-encoded X.501 Name. Undecodable input gives `#<hex>`. */
export function dnFromDer(der: Buffer): string {
  try {
    const t = readTlv(der, 0);
    if (t.end !== der.length) throw new Error('trailing bytes');
    return format(readName(t));
  } catch {
    return `#${der.toString('hex')}`;
  }
}

/** RFC 4514 subject and issuer of a DER certificate (throws on a malformed certificate). */
export function certificateNames(der: Buffer): { subject: string; issuer: string } {
  const cert = expect(readTlv(der, 0), SEQUENCE, 'a Certificate (SEQUENCE)');
  const tbs = children(expect(children(cert.content)[0], SEQUENCE, 'a TBSCertificate (SEQUENCE)').content);
  // TBSCertificate: [0] version (optional), serial, signature, issuer, validity, subject, ...
  const i = tbs[0]?.tag === 0xa0 ? 1 : 0;
  return { issuer: format(readName(tbs[i + 2])), subject: format(readName(tbs[i + 4])) };
}
