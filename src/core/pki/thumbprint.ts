import { createHash, X509Certificate } from 'node:crypto';

/** RFC 8705 §3.1: base64url (unpadded) SHA-256 of the certificate's DER: the `cnf` `x5t#S256`. */
export function x5tS256(cert: X509Certificate | Buffer): string {
  const der = cert instanceof X509Certificate ? cert.raw : cert;
  return createHash('sha256').update(der).digest('base64url');
}

/** SHA-256 fingerprint as colon-separated upper-case hex, as openssl and browsers show it. */
export function sha256Fingerprint(cert: X509Certificate | Buffer): string {
  const der = cert instanceof X509Certificate ? cert.raw : cert;
  return createHash('sha256').update(der).digest('hex').toUpperCase().match(/../g)!.join(':');
}
