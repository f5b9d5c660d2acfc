// Certificate-bound access tokens (RFC 8705 §3): the token's `cnf` claim carries `x5t#S256`,
// the SHA-256 thumbprint of the client certificate it was issued to.

import type { CheckStatus } from './check.ts';

export interface BindingVerdict {
  status: CheckStatus;
  detail: string;
  /** The thumbprint the token is bound to, if any. */
  boundTo?: string;
  expected?: string;
}

/** The `cnf` claims of a JWT, or undefined when the string is not a JWT (an opaque token). */
export function jwtClaims(token: string): Record<string, unknown> | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    return payload && typeof payload === 'object' && !Array.isArray(payload) ? payload : undefined;
  } catch {
    return undefined;
  }
}

export function thumbprintOf(claims: Record<string, unknown> | undefined): string | undefined {
  const cnf = claims?.cnf;
  if (!cnf || typeof cnf !== 'object') return undefined;
  const t = (cnf as Record<string, unknown>)['x5t#S256'];
  return typeof t === 'string' ? t : undefined;
}

/**
 * Compares the binding found in a token (JWT claims or an introspection response) with our
 * certificate's thumbprint.
 */
export function checkBinding(o: {
  claims: Record<string, unknown> | undefined;
  /** Our certificate's x5t#S256, when one was used. */
  expected?: string;
  /** Whether the IdP advertises tls_client_certificate_bound_access_tokens. */
  idpBinds?: boolean;
  /** Where the claims came from, for the message ("JWT access token", "introspection"). */
  source: string;
}): BindingVerdict {
  const boundTo = thumbprintOf(o.claims);
  if (!o.claims) {
    return o.idpBinds
      ? { status: 'skip', detail: 'the access token is opaque; introspect it to see its binding' }
      : { status: 'skip', detail: 'the access token is opaque' };
  }
  if (!o.expected) {
    return boundTo
      ? { status: 'warn', detail: `token is bound to ${boundTo} but no client certificate was used`, boundTo }
      : { status: 'skip', detail: 'no client certificate was used' };
  }
  if (!boundTo) {
    // RFC 9449: a token bound to a DPoP key instead is sender-constrained all the same.
    const cnf = o.claims.cnf as Record<string, unknown> | undefined;
    if (cnf && typeof cnf === 'object' && typeof cnf.jkt === 'string') {
      return {
        status: 'skip',
        detail: `the ${o.source} is bound to a DPoP key (cnf.jkt), not to the certificate`,
        expected: o.expected,
      };
    }
    return o.idpBinds
      ? {
          status: 'warn',
          detail: `the IdP advertises certificate-bound tokens, but the ${o.source} has no cnf.x5t#S256`,
          expected: o.expected,
        }
      : { status: 'skip', detail: `the ${o.source} is not bound to a certificate`, expected: o.expected };
  }
  if (boundTo === o.expected) {
    return {
      status: 'pass',
      detail: `bound to our certificate (x5t#S256 ${boundTo})`,
      boundTo,
      expected: o.expected,
    };
  }
  return {
    status: 'fail',
    detail: `bound to another certificate: cnf.x5t#S256 is ${boundTo}, ours is ${o.expected}`,
    boundTo,
    expected: o.expected,
  };
}
