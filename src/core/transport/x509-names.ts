// RFC 4514 strings for the names the transport sees on the wire: certificate subjects and issuers,
// and the distinguished names in a CertificateRequest's certificate_authorities.

import forge from 'node-forge';
import { dnFromAsn1, formatDn } from '../pki/dn.ts';

const { asn1 } = forge;

function fromDer(der: Buffer): forge.asn1.Asn1 {
  return asn1.fromDer(forge.util.createBuffer(der.toString('binary')));
}

/** RFC 4514 string of a DER-encoded X.501 Name. Undecodable input gives `#<hex>`. */
export function dnFromDer(der: Buffer): string {
  try {
    const { dn, raw } = dnFromAsn1(fromDer(der));
    return formatDn(dn, raw);
  } catch {
    return `#${der.toString('hex')}`;
  }
}

/** RFC 4514 subject and issuer of a DER certificate. */
export function certificateNames(der: Buffer): { subject: string; issuer: string } {
  const cert = fromDer(der);
  const tbs = (cert.value as forge.asn1.Asn1[])[0].value as forge.asn1.Asn1[];
  // TBSCertificate: [0] version (optional), serial, signature, issuer, validity, subject, ...
  const i = tbs[0].tagClass === asn1.Class.CONTEXT_SPECIFIC ? 1 : 0;
  const name = (n: forge.asn1.Asn1) => {
    const { dn, raw } = dnFromAsn1(n);
    return formatDn(dn, raw);
  };
  return { issuer: name(tbs[i + 2]), subject: name(tbs[i + 4]) };
}
