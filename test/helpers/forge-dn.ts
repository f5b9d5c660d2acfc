// A second, independent reading of DER names for the tests: node-forge's ASN.1 parser, printed
// with the project's RFC 4514 formatter. src/core/pki/der.ts must print exactly the same.

import forge from 'node-forge';
import { type Dn, type DnAttribute, formatDn } from '../../src/core/pki/rfc4514.ts';

const { asn1 } = forge;

/** RFC 4514 string of a DER Name, read by forge. */
export function dnViaForge(der: Buffer): string {
  const name = asn1.fromDer(forge.util.createBuffer(der.toString('binary')));
  const raw = new Map<DnAttribute, string>();
  const dn: Dn = (name.value as forge.asn1.Asn1[]).map((set) =>
    (set.value as forge.asn1.Asn1[]).map((seq) => {
      const [oidNode, valNode] = seq.value as forge.asn1.Asn1[];
      const oid = asn1.derToOid(forge.util.createBuffer(oidNode.value as string));
      const bytes = valNode.value as string;
      // forge has already decoded a BMPString's UTF-16 code units
      const value =
        valNode.type === asn1.Type.BMPSTRING
          ? bytes
          : Buffer.from(bytes, 'binary').toString(valNode.type === asn1.Type.UTF8 ? 'utf8' : 'latin1');
      const attr = { oid, value };
      raw.set(attr, Buffer.from(asn1.toDer(valNode).getBytes(), 'binary').toString('hex'));
      return attr;
    }),
  );
  return formatDn(dn, raw);
}
