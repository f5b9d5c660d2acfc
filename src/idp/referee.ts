// The embedded IdP is the referee for a client certificate's subject DN and SANs: it computes the
// RFC 4514 string of the peer certificate's subject itself, on the ASN.1 reader alone, independently
// of src/core/pki/dn.ts (the client side's formatter), and compares it character for character
// with tls_client_auth_subject_dn, as a real IdP would.

import { X509Certificate } from 'node:crypto';
import { type Asn1, asn1, fromDer, Type, toDer } from '../core/pki/asn1.ts';
// RFC 4514 §3's table of short names is data, shared; the reading and escaping here are not.
import { RFC4514_SHORT as SHORT } from '../core/pki/rfc4514.ts';

function decodeString(node: Asn1): string {
  const raw = Buffer.from(node.value as string, 'binary');
  switch (node.type as number) {
    case Type.UTF8:
      return raw.toString('utf8');
    case Type.BMPSTRING:
      return Buffer.from(raw).swap16().toString('utf16le');
    case 28: {
      // UniversalString: UCS-4 big-endian
      let s = '';
      for (let i = 0; i + 3 < raw.length; i += 4) s += String.fromCodePoint(raw.readUInt32BE(i));
      return s;
    }
    default:
      return raw.toString('latin1'); // Printable, IA5, Teletex, Visible, Numeric
  }
}

/** RFC 4514 §2.4 escaping: `" + , ; < > \` anywhere, a leading space or `#`, a trailing space, NUL. */
function escape4514(v: string): string {
  let out = v.replace(/["+,;<>\\]/g, (c) => `\\${c}`).replace(/\u0000/g, '\\00');
  if (out.startsWith(' ') || out.startsWith('#')) out = `\\${out}`;
  if (out.length > 1 && out.endsWith(' ') && !out.endsWith('\\ ')) out = `${out.slice(0, -1)}\\ `;
  return out;
}

/** The RFC 4514 string of a certificate's subject: most specific RDN first. */
export function rfc4514Subject(cert: X509Certificate | Buffer | string): string {
  const der =
    typeof cert === 'string'
      ? new X509Certificate(cert).raw
      : cert instanceof X509Certificate
        ? cert.raw
        : cert;
  const root = fromDer(der);
  const tbs = (root.value as Asn1[])[0].value as Asn1[];
  const off = tbs[0].tagClass === asn1.Class.CONTEXT_SPECIFIC ? 1 : 0; // [0] version
  const subject = tbs[off + 4]; // serialNumber, signature, issuer, validity, subject
  const rdns = (subject.value as Asn1[]).map((set) =>
    (set.value as Asn1[])
      .map((atv) => {
        const [typeNode, valueNode] = atv.value as Asn1[];
        const oid = asn1.derToOid(typeNode.value as string);
        const short = SHORT[oid];
        if (!short) return `${oid}=#${toDer(valueNode).toString('hex')}`;
        return `${short}=${escape4514(decodeString(valueNode))}`;
      })
      .join('+'),
  );
  return rdns.reverse().join(',');
}

/** An IP address as one spelling: IPv6 compressed and lower case (IPv4 as is). */
export function canonicalIp(ip: string): string {
  if (!ip.includes(':')) return ip;
  try {
    return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  } catch {
    return ip.toLowerCase();
  }
}

/** SANs by type, from Node's own parser (not src/core/pki/san.ts). */
export function sansOf(cert: X509Certificate): {
  dns: string[];
  uri: string[];
  ip: string[];
  email: string[];
} {
  const out = { dns: [] as string[], uri: [] as string[], ip: [] as string[], email: [] as string[] };
  // Node quotes an entry as a JSON string when it contains a comma or a quote.
  const re = /(DNS|URI|IP Address|email):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/g;
  for (const m of (cert.subjectAltName ?? '').matchAll(re)) {
    const value = m[2].startsWith('"') ? (JSON.parse(m[2]) as string) : m[2];
    if (m[1] === 'DNS') out.dns.push(value);
    else if (m[1] === 'URI') out.uri.push(value);
    else if (m[1] === 'email') out.email.push(value);
    else out.ip.push(canonicalIp(value));
  }
  return out;
}

/** Whether `cert` matches a registered tls_client_auth_* value (RFC 8705 §2.1.2). */
export function certificateMatches(cert: X509Certificate, property: string, expected: string): boolean {
  const sans = sansOf(cert);
  switch (property) {
    case 'tls_client_auth_subject_dn':
      return rfc4514Subject(cert) === expected;
    case 'tls_client_auth_san_dns':
      return sans.dns.includes(expected);
    case 'tls_client_auth_san_uri':
      return sans.uri.includes(expected);
    case 'tls_client_auth_san_ip':
      return sans.ip.includes(canonicalIp(expected));
    case 'tls_client_auth_san_email':
      return sans.email.includes(expected);
    default:
      return false;
  }
}
