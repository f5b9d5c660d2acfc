// DPoP (RFC 9449): proof-of-possession of a key pair for each request, so that a token is bound to
// that key (cnf.jkt) instead of, or besides, the client certificate (cnf.x5t#S256). The key is
// generated per run (ES256) or read from --dpop-key; a proof is a JWT signed with it, carrying the
// public key, the method and URL of the request, and for a resource request the hash of the token.
// A server that wants a nonce answers use_dpop_nonce with a DPoP-Nonce header; the nonce is kept
// per origin for the next proofs.

import { createHash, type KeyObject, randomBytes } from 'node:crypto';
import { algFor, readSigningKey } from './client-auth.ts';
import { usageError } from './errors.ts';
import { newKeyPairSync } from './pki/keys.ts';

export interface DpopProofInput {
  /** The HTTP method (htm). */
  method: string;
  /** The request URL; htu is it without query and fragment (RFC 9449 §4.2). */
  url: string;
  /** The access token sent with a resource request: its hash becomes `ath` (§4.2). */
  accessToken?: string;
}

export interface DpopSigner {
  alg: string;
  /**
   * The private key as a JWK when it was made for this run: kept in the token cache beside the
   * token it binds (token-cache.ts), so that `call` can prove possession later. Absent for a key
   * from --dpop-key, which stays in its file.
   */
  generatedKey?: Record<string, string>;
  /** The JWK SHA-256 thumbprint of the public key (RFC 7638): what cnf.jkt must be. */
  jkt: string;
  proof(input: DpopProofInput): Promise<string>;
  /** Keeps a server's DPoP-Nonce for its origin (RFC 9449 §8). */
  rememberNonce(url: string, nonce: string): void;
  /** The nonce the next proof to this URL's origin carries, if any. */
  nonceFor(url: string): string | undefined;
}

/** Algorithms a DPoP key may use (RFC 9449 §4.2: asymmetric, never none). */
const ALGS = new Set(['ES256', 'ES384', 'EdDSA', 'RS256']);

/** A signer with a new ES256 key (never written anywhere), or the key in `keyData`. */
export async function createDpopSigner(keyData?: Buffer, source = 'the DPoP key'): Promise<DpopSigner> {
  const jose = await import('jose');
  let key: KeyObject;
  const generated = !keyData;
  if (keyData) {
    key = (await readSigningKey(keyData, source)).key;
  } else {
    key = newKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  }
  const alg = algFor(key);
  if (!ALGS.has(alg)) {
    throw usageError('SIGNING_KEY_TYPE', `${source}: ${alg} is not a DPoP algorithm`, {
      hint: 'use an EC P-256 key (ES256), the default of DPoP servers',
    });
  }
  // The public half, without private members: it goes into every proof's header.
  const { kty, crv, x, y, n, e } = key.export({ format: 'jwk' }) as Record<string, string | undefined>;
  const jwk = Object.fromEntries(Object.entries({ kty, crv, x, y, n, e }).filter(([, v]) => v !== undefined));
  const jkt = await jose.calculateJwkThumbprint(jwk as import('jose').JWK, 'sha256');
  const nonces = new Map<string, string>();
  const originOf = (url: string) => new URL(url).origin;

  return {
    alg,
    jkt,
    ...(generated ? { generatedKey: key.export({ format: 'jwk' }) as Record<string, string> } : {}),
    rememberNonce(url, nonce) {
      nonces.set(originOf(url), nonce);
    },
    nonceFor(url) {
      return nonces.get(originOf(url));
    },
    async proof({ method, url, accessToken }) {
      const u = new URL(url);
      u.search = '';
      u.hash = '';
      const nonce = nonces.get(u.origin);
      return new jose.SignJWT({
        jti: randomBytes(16).toString('base64url'),
        htm: method.toUpperCase(),
        htu: u.href,
        iat: Math.floor(Date.now() / 1000),
        ...(nonce ? { nonce } : {}),
        ...(accessToken ? { ath: createHash('sha256').update(accessToken).digest('base64url') } : {}),
      })
        .setProtectedHeader({ typ: 'dpop+jwt', alg, jwk })
        .sign(key);
    },
  };
}

/** The hint when a token requested with DPoP is not bound to our key (DPOP_NOT_BOUND). */
export const DPOP_NOT_BOUND_HINT =
  'the IdP may not support DPoP for this client (dpop_signing_alg_values_supported in discovery)';

/** The jkt a token is bound to (cnf.jkt), from JWT claims or an introspection response. */
export function jktOf(claims: Record<string, unknown> | undefined): string | undefined {
  const cnf = claims?.cnf;
  if (!cnf || typeof cnf !== 'object') return undefined;
  const jkt = (cnf as Record<string, unknown>).jkt;
  return typeof jkt === 'string' ? jkt : undefined;
}
