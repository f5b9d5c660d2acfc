// Distinguished names as RFC 4514 strings: most specific RDN first (`CN=kong,O=Example,C=US`),
// with `, + " \ < > ;`, a leading `#` or space and a trailing space escaped. This is the exact
// string an IdP wants in `tls_client_auth_subject_dn`; Node's X509Certificate.subject is not it.

import { usageError } from '../errors.ts';
import forge, { type Asn1 as ForgeAsn1 } from './forge-lite.ts';
import { type Dn, type DnAttribute, escapeValue, formatDn, RFC4514_SHORT } from './rfc4514.ts';

export type { Dn, DnAttribute };
export { formatDn };

const { asn1 } = forge;

// RFC 4514 §3 names, plus the ones OpenSSL and Java print and users type.
const NAMES: Record<string, string> = {
  CN: '2.5.4.3',
  SERIALNUMBER: '2.5.4.5',
  C: '2.5.4.6',
  L: '2.5.4.7',
  ST: '2.5.4.8',
  STREET: '2.5.4.9',
  O: '2.5.4.10',
  OU: '2.5.4.11',
  TITLE: '2.5.4.12',
  GIVENNAME: '2.5.4.42',
  SN: '2.5.4.4',
  DC: '0.9.2342.19200300.100.1.25',
  UID: '0.9.2342.19200300.100.1.1',
  EMAILADDRESS: '1.2.840.113549.1.9.1',
  E: '1.2.840.113549.1.9.1',
};
/** Friendlier labels for display only (never for the RFC 4514 string). */
const LABELS: Record<string, string> = {
  ...RFC4514_SHORT,
  '2.5.4.5': 'serialNumber',
  '1.2.840.113549.1.9.1': 'emailAddress',
  '2.5.4.12': 'title',
  '2.5.4.42': 'GN',
  '2.5.4.4': 'SN',
};

export function attributeLabel(oid: string): string {
  return LABELS[oid] ?? oid;
}

function split(s: string, sep: string): string[] {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\' && i + 1 < s.length) {
      cur += c + s[i + 1];
      i++;
    } else if (c === sep) {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  return parts;
}

function unescapeValue(raw: string, whole: string): string {
  const bytes: number[] = [];
  const push = (str: string) => bytes.push(...Buffer.from(str, 'utf8'));
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c !== '\\') {
      push(c);
      continue;
    }
    const hex = raw.slice(i + 1, i + 3);
    if (/^[0-9a-fA-F]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else if (i + 1 < raw.length) {
      push(raw[i + 1]);
      i++;
    } else {
      throw usageError('BAD_SUBJECT', `dangling backslash in "${whole}"`, {
        hint: 'escape special characters as \\, \\+ \\" \\\\ \\< \\> \\;',
      });
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Parses `CN=kong,O=Example,C=US` (RFC 4514) into DER order. */
export function parseDn(text: string): Dn {
  const whole = text.trim();
  const hint = 'write it as RFC 4514, most specific first: CN=kong,O=Example,C=US';
  if (!whole) throw usageError('BAD_SUBJECT', 'the subject is empty', { hint });
  const rdns = split(whole, ',').map((rdn) =>
    split(rdn, '+').map((pair) => {
      const eq = pair.indexOf('=');
      if (eq <= 0)
        throw usageError('BAD_SUBJECT', `"${pair.trim()}" in subject "${whole}" is not TYPE=value`, { hint });
      const type = pair.slice(0, eq).trim();
      const oid = /^\d+(\.\d+)+$/.test(type) ? type : NAMES[type.toUpperCase()];
      if (!oid) {
        throw usageError('BAD_SUBJECT', `unknown attribute type "${type}" in subject "${whole}"`, {
          hint: `known types: ${Object.keys(NAMES).join(', ')}, or a dotted OID`,
        });
      }
      const value = unescapeValue(pair.slice(eq + 1).trim(), whole);
      if (!value)
        throw usageError('BAD_SUBJECT', `"${type}" has an empty value in subject "${whole}"`, { hint });
      if (oid === '2.5.4.6' && !/^[A-Za-z]{2}$/.test(value)) {
        throw usageError('BAD_SUBJECT', `country "C=${value}" must be a two-letter code`, {
          hint: 'for example C=US',
        });
      }
      return { oid, value };
    }),
  );
  return rdns.reverse();
}

/** Display form with friendly labels (emailAddress=…), most specific first. Not for registration. */
export function displayDn(dn: Dn): string {
  return [...dn]
    .reverse()
    .map((rdn) => rdn.map((a) => `${attributeLabel(a.oid)}=${escapeValue(a.value)}`).join('+'))
    .join(', ');
}

function stringTagFor(oid: string): number {
  if (oid === '2.5.4.6' || oid === '2.5.4.5') return asn1.Type.PRINTABLESTRING;
  if (oid === '1.2.840.113549.1.9.1' || oid === '0.9.2342.19200300.100.1.25') return asn1.Type.IA5STRING;
  return asn1.Type.UTF8;
}

/** DER-ready ASN.1 Name for a DN. */
export function dnToAsn1(dn: Dn): ForgeAsn1 {
  const U = asn1.Class.UNIVERSAL;
  return asn1.create(
    U,
    asn1.Type.SEQUENCE,
    true,
    dn.map((rdn) =>
      asn1.create(
        U,
        asn1.Type.SET,
        true,
        rdn
          .map((a) => {
            const tag = stringTagFor(a.oid);
            const value = tag === asn1.Type.UTF8 ? forge.util.encodeUtf8(a.value) : a.value;
            return asn1.create(U, asn1.Type.SEQUENCE, true, [
              asn1.create(U, asn1.Type.OID, false, asn1.oidToDer(a.oid).getBytes()),
              asn1.create(U, tag, false, value),
            ]);
          })
          // DER sorts the members of a SET OF by their encodings (X.690 §11.6).
          .map((node) => ({ node, der: asn1.toDer(node).getBytes() }))
          .sort((x, y) => (x.der < y.der ? -1 : x.der > y.der ? 1 : 0))
          .map((x) => x.node),
      ),
    ),
  );
}
