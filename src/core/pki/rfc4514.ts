// RFC 4514 string form of a distinguished name, without node-forge: shared by pki/dn.ts and the
// one DER reader (pki/der.ts), which must not load forge on every connection.

export interface DnAttribute {
  oid: string;
  value: string;
}
/** RDNs in DER order (least specific first, as they are encoded); each RDN is a set of attributes. */
export type Dn = DnAttribute[][];

// RFC 4514 §3 lists these short names; the others are printed as dotted OID=#hex (§2.4),
// which is how Java's X500Principal and `openssl -nameopt RFC2253` print them too.
export const RFC4514_SHORT: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.6': 'C',
  '2.5.4.9': 'STREET',
  '0.9.2342.19200300.100.1.25': 'DC',
  '0.9.2342.19200300.100.1.1': 'UID',
};

// RFC 4514 §2.4: only these need escaping. `=` does not, and Java's X500Principal and openssl
// do not escape it, so escaping it would break an exact tls_client_auth_subject_dn comparison.
// Control characters are escaped as hex so that a name can never drive a terminal.
export function escapeValue(v: string): string {
  let out = v
    .replace(/[\\,+"<>;]/g, (c) => `\\${c}`)
    .replace(/[\u0000-\u001f]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  if (out.startsWith('#') || out.startsWith(' ')) out = `\\${out}`;
  if (out.endsWith(' ') && out.length > 1) out = `${out.slice(0, -1)}\\ `;
  return out;
}

/** The RFC 4514 string of a DN in DER order. Unknown attribute types print as OID=#hex (RFC 4514 §2.4). */
export function formatDn(dn: Dn, rawValues?: Map<DnAttribute, string>): string {
  return [...dn]
    .reverse()
    .map((rdn) =>
      rdn
        .map((a) => {
          const short = RFC4514_SHORT[a.oid];
          if (short) return `${short}=${escapeValue(a.value)}`;
          const hex = rawValues?.get(a);
          return hex ? `${a.oid}=#${hex}` : `${a.oid}=${escapeValue(a.value)}`;
        })
        .join('+'),
    )
    .join(',');
}
