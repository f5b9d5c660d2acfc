// The certificate as a JWKS with x5c: what an IdP takes as the client's `jwks` when it registers
// under `self_signed_tls_client_auth` (RFC 8705 §2.2) — the IdP matches the presented
// certificate against the first x5c entry.

import type { X509Certificate } from 'node:crypto';
import { x5tS256 } from './thumbprint.ts';

export interface CertificateJwk {
  kty: string;
  crv?: string;
  x?: string;
  y?: string;
  n?: string;
  e?: string;
  kid: string;
  'x5t#S256': string;
  x5c: string[];
}

/** The leaf's public key as a JWK, with kid = x5t#S256 and x5c = [leaf, ...chain] (base64 DER). */
export function certificateJwk(leaf: X509Certificate, chain: X509Certificate[] = []): CertificateJwk {
  const jwk = leaf.publicKey.export({ format: 'jwk' }) as Record<string, string>;
  const thumb = x5tS256(leaf);
  return {
    ...jwk,
    kty: jwk.kty,
    kid: thumb,
    'x5t#S256': thumb,
    x5c: [leaf, ...chain].map((c) => c.raw.toString('base64')),
  };
}

export function certificateJwks(
  leaf: X509Certificate,
  chain: X509Certificate[] = [],
): { keys: CertificateJwk[] } {
  return { keys: [certificateJwk(leaf, chain)] };
}
