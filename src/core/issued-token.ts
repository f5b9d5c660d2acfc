// What every grant does with a token it has just obtained (token, login, login --device): check
// its binding to our certificate (RFC 8705 §3) and, with DPoP, to our key (RFC 9449 §6), then keep
// it in the cache with where it came from (docs/security.md "Stolen cached tokens"). One place, so
// that the commands cannot disagree on either.

import type { Check } from './check.ts';
import { describeEndpoint, type Session } from './session.ts';
import type { TokenCache } from './token-cache.ts';
import type { BindingCheck, TokenResponse } from './token-endpoint.ts';

export interface IssuedTokenChecks {
  /** The certificate binding, as read (with the introspection response it used, if any). */
  binding: BindingCheck;
  /** The DPoP binding, when the session uses DPoP. */
  dpop?: Check;
  /** binding, then dpop: as the report lists them. */
  checks: Check[];
}

/**
 * The binding checks of a new token. It is introspected (for binding information an opaque token
 * does not carry) only at an endpoint of the issuer that issued it; `onNotSent` gets the warning
 * for one configured elsewhere.
 */
export async function checkIssuedToken(
  session: Session,
  token: TokenResponse,
  o: { introspect?: boolean; idpBinds?: boolean; onNotSent?: (warning: string) => void } = {},
): Promise<IssuedTokenChecks> {
  const { checkTokenBinding, checkDpopBinding } = await import('./token-endpoint.ts');
  let introspectionEndpoint: string | undefined;
  if (o.introspect !== false && session.hasEndpoint('introspection')) {
    const at = session.endpoint('introspection');
    if (session.belongsToIssuer(at.url)) introspectionEndpoint = at.url;
    else
      o.onNotSent?.(
        `the new access token is not sent to ${describeEndpoint(at)} to check its binding: not an origin of the issuer that issued it`,
      );
  }
  const binding = await checkTokenBinding(session.client, token, {
    idpBinds: o.idpBinds ?? session.idpBindsTokens,
    introspectionEndpoint,
  });
  const dpop = await checkDpopBinding(session.client, token, { binding, introspectionEndpoint });
  const checks: Check[] = [
    { name: binding.name, status: binding.status, ...(binding.detail ? { detail: binding.detail } : {}) },
    ...(dpop ? [dpop] : []),
  ];
  return { binding, ...(dpop ? { dpop } : {}), checks };
}

/**
 * Keeps a new token in the cache under the session's key, recording the issuer, token endpoint,
 * certificate and origins it belongs to. A refresh keeps the refresh token and ID token the IdP
 * did not renew. Returns the cache file, or undefined when nothing was written.
 */
export async function cacheIssuedToken(
  cache: TokenCache | undefined,
  session: Session,
  token: TokenResponse,
  o: { grantType: string; now: number; issuer?: string },
): Promise<string | undefined> {
  const key = session.cacheKey();
  if (!cache || !key) return undefined;
  const { entryFromTokenResponse } = await import('./token-cache.ts');
  const ok = cache.update(key, (previous) =>
    entryFromTokenResponse(token, {
      clientId: session.credentials.clientId,
      issuer: session.issuer ?? o.issuer,
      tokenEndpoint: session.hasEndpoint('token') ? session.endpoint('token').url : undefined,
      grantType: o.grantType,
      x5tS256: session.identity?.x5tS256,
      origins: session.origins(),
      ...(session.client.dpop ? { dpop: session.client.dpop } : {}),
      previous,
      now: o.now,
    }),
  );
  return ok ? cache.file : undefined;
}
