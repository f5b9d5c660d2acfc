// Where an issuer's metadata document is (OpenID Connect Discovery 1.0 §4, RFC 8414 §3), and what
// the user typed as the issuer: an issuer identifier or the URL of its discovery document.

import { usageError } from '../errors.ts';
import { isLoopbackHost, type LocationKind } from './metadata.ts';

export interface WellKnownLocation {
  url: string;
  kind: LocationKind;
}

/**
 * Where an issuer's metadata may be, in the order tried. OpenID Connect Discovery appends
 * `/.well-known/openid-configuration` to the issuer; RFC 8414 §3 inserts
 * `/.well-known/oauth-authorization-server` between the host and the path. For an issuer with a
 * path, some servers serve the RFC 8414 name appended (pre-RFC practice): tried last. A terminating
 * "/" is removed first in every form, so `https://idp/` and `https://idp` share locations.
 */
export function wellKnownUrls(issuer: string): WellKnownLocation[] {
  const u = new URL(issuer);
  const origin = `${u.protocol}//${u.host}`;
  const path = u.pathname.replace(/\/+$/, '');
  const out: WellKnownLocation[] = [
    { kind: 'oidc', url: `${origin}${path}/.well-known/openid-configuration` },
    { kind: 'rfc8414', url: `${origin}/.well-known/oauth-authorization-server${path}` },
  ];
  if (path)
    out.push({ kind: 'rfc8414-appended', url: `${origin}${path}/.well-known/oauth-authorization-server` });
  return out;
}

export interface IssuerInput {
  /** The issuer the document must name. */
  issuer: string;
  /** When the user gave a document URL rather than an issuer: that URL, and its kind. */
  document?: WellKnownLocation;
  /** Issuers consistent with that document URL (with and without a trailing "/"). */
  candidates?: string[];
}

export const ISSUER_HINT =
  'give the issuer identifier as the IdP publishes it, e.g. https://idp.example.com/realms/demo';

/** Checks what the user typed as the issuer; a `/.well-known/...` document URL is accepted too. */
export function parseIssuerInput(input: string): IssuerInput {
  let u: URL;
  try {
    u = new URL(input);
  } catch {
    throw usageError('BAD_ISSUER', `"${input}" is not a URL`, { hint: ISSUER_HINT });
  }
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && isLoopbackHost(u.hostname))) {
    throw usageError('BAD_ISSUER', `the issuer must be an https:// URL, got ${input}`, {
      hint: `${ISSUER_HINT} (http:// only for 127.0.0.1, [::1] or localhost)`,
    });
  }
  if (u.search || u.hash) {
    throw usageError('BAD_ISSUER', `the issuer must have no query or fragment (RFC 8414 §2), got ${input}`, {
      hint: ISSUER_HINT,
    });
  }
  const at = u.pathname.indexOf('/.well-known/');
  if (at < 0) return { issuer: input };

  const origin = `${u.protocol}//${u.host}`;
  const before = u.pathname.slice(0, at);
  const after = u.pathname.slice(at + '/.well-known/'.length);
  let issuerPath: string;
  let kind: LocationKind;
  if (after === 'openid-configuration') {
    issuerPath = before;
    kind = 'oidc';
  } else if (
    !before &&
    (after.startsWith('oauth-authorization-server/') || after === 'oauth-authorization-server')
  ) {
    issuerPath = after.slice('oauth-authorization-server'.length);
    kind = 'rfc8414';
  } else if (!before && after.startsWith('openid-configuration/')) {
    issuerPath = after.slice('openid-configuration'.length);
    kind = 'rfc8414';
  } else if (after === 'oauth-authorization-server') {
    issuerPath = before;
    kind = 'rfc8414-appended';
  } else {
    throw usageError('BAD_ISSUER', `${input} is neither an issuer nor a known discovery document URL`, {
      hint: `${ISSUER_HINT}; or the URL of its /.well-known/openid-configuration`,
    });
  }
  const issuer = `${origin}${issuerPath}`;
  return {
    issuer,
    document: { url: `${origin}${u.pathname}`, kind },
    candidates: [issuer, `${issuer}/`],
  };
}
