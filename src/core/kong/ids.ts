// Deterministic entity ids for the Kong configuration: a name-based UUID (version 5, RFC 9562
// §5.5: SHA-1 of a namespace and a name), so that running `mtls-oauth kong` again for the same
// certificate, issuer and client writes the same ids, and `deck gateway sync` or an Admin API PUT
// updates the entities instead of adding copies.

import { createHash } from 'node:crypto';

/** The URL namespace of RFC 9562 §6.6; names are "mtls-oauth:kong:..." URNs under it. */
const NAMESPACE_URL = '6ba7b811-9dad-11d1-80b4-00c04fd430c8';

export function uuidV5(name: string, namespace = NAMESPACE_URL): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const hash = createHash('sha1').update(ns).update(name, 'utf8').digest();
  const b = hash.subarray(0, 16);
  b[6] = (b[6] & 0x0f) | 0x50; // version 5
  b[8] = (b[8] & 0x3f) | 0x80; // variant 10
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The id of the entity of `kind` named by `parts` (a certificate's fingerprint, an issuer...). */
export function entityId(kind: 'certificate' | 'ca_certificate' | 'plugin', ...parts: string[]): string {
  return uuidV5(`mtls-oauth:kong:${kind}:${parts.join(':')}`);
}
