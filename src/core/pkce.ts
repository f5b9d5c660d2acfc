// PKCE (RFC 7636) and the other per-flow secrets of the authorization-code flow: `state` and `nonce`.
// RFC 9700 §2.1.1: S256 always, a fresh verifier of 256 random bits per flow. `state` carries at
// least 128 random bits and is single use. Secrets are compared in constant time.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Check } from './check.ts';
import type { Metadata } from './discovery/metadata.ts';
import { usageError } from './errors.ts';

/** base64url (unpadded) of `bytes` fresh random bytes. */
export function randomToken(bytes = 32): string {
  if (!Number.isInteger(bytes) || bytes < 16) throw new RangeError('a random token needs at least 16 bytes');
  return randomBytes(bytes).toString('base64url');
}

/** RFC 7636 §4.1: 43..128 characters of [A-Za-z0-9-._~]. */
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

export function isValidCodeVerifier(verifier: string): boolean {
  return VERIFIER.test(verifier);
}

/** A code verifier of 256 random bits: 43 base64url characters. */
export function generateCodeVerifier(): string {
  return randomToken(32);
}

/** RFC 7636 §4.2: BASE64URL(SHA256(ASCII(code_verifier))). */
export function codeChallengeS256(verifier: string): string {
  if (!isValidCodeVerifier(verifier)) {
    throw usageError(
      'PKCE_VERIFIER_INVALID',
      'a PKCE code verifier must be 43 to 128 characters of [A-Za-z0-9-._~]',
    );
  }
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

export interface Pkce {
  verifier: string;
  challenge: string;
  method: 'S256';
}

/** A fresh verifier and its S256 challenge. */
export function generatePkce(): Pkce {
  const verifier = generateCodeVerifier();
  return { verifier, challenge: codeChallengeS256(verifier), method: 'S256' };
}

/** `state`: 256 random bits (docs/standards.md asks for at least 128). */
export function generateState(): string {
  return randomToken(32);
}

/** `nonce` for OpenID Connect: 256 random bits. */
export function generateNonce(): string {
  return randomToken(32);
}

/**
 * Compares a received value with the expected secret in constant time. Anything that is not a
 * string, or differs in length, is simply unequal (no exception): the length of our own secrets
 * is not a secret.
 */
export function constantTimeEqual(received: unknown, expected: string): boolean {
  if (typeof received !== 'string') return false;
  const a = Buffer.from(received, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  if (a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}

/** The `pkce` check: we always send S256; what the IdP advertises tells whether it will check it. */
export function pkceCheck(metadata: Pick<Metadata, 'code_challenge_methods_supported'>): Check {
  const methods = metadata.code_challenge_methods_supported;
  if (!Array.isArray(methods)) {
    return {
      name: 'pkce',
      status: 'warn',
      detail:
        'S256 challenge sent and verifier accepted, but the IdP does not advertise code_challenge_methods_supported: it may not check PKCE at all',
    };
  }
  if (!methods.includes('S256')) {
    return {
      name: 'pkce',
      status: 'warn',
      detail: `S256 challenge sent and verifier accepted, but the IdP advertises only ${methods.join(', ') || 'no methods'} (RFC 9700 §2.1.1 asks for S256)`,
    };
  }
  return {
    name: 'pkce',
    status: 'pass',
    detail: 'S256 with a fresh 256-bit verifier; the IdP accepted the verifier',
  };
}
