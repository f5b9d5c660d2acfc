// Step 6 of the login: the ID token (OIDC Core §3.1.3.7), validated by id-token.ts against the
// issuer's JWKS, summed up as the login's `id_token` check.

import type { Check } from '../check.ts';
import { fetchJwkSet } from '../discovery/index.ts';
import type { Metadata } from '../discovery/metadata.ts';
import { isMtlsOAuthError } from '../errors.ts';
import { type IdTokenClaims, type IdTokenValidation, validateIdToken } from '../id-token.ts';
import type { Session } from '../session.ts';
import type { TokenResponse } from '../token-endpoint.ts';
import type { LoginResult, LoginUser } from './types.ts';

/** One check that sums up id-token.ts's detailed checks. */
function idTokenSummary(v: IdTokenValidation): Check {
  const passed = v.checks.filter((c) => c.status === 'pass').map((c) => c.name);
  const alg = typeof v.header.alg === 'string' ? v.header.alg : '?';
  const kid = typeof v.header.kid === 'string' ? `, kid ${v.header.kid}` : '';
  return {
    name: 'id_token',
    status: 'pass',
    detail: `valid (${alg}${kid}${v.jwksFetches > 1 ? ', key found after refetching the JWKS' : ''}): ${passed.join(', ')} checked`,
  };
}

function userOf(claims: IdTokenClaims): LoginUser {
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const user: LoginUser = { sub: claims.sub };
  const name = str(claims.name);
  const email = str(claims.email);
  const preferred = str(claims.preferred_username);
  if (name) user.name = name;
  if (email) user.email = email;
  if (preferred) user.preferred_username = preferred;
  return user;
}

export interface IdTokenStepInput {
  session: Session;
  token: TokenResponse;
  /** The scope asked for openid. */
  openid: boolean;
  metadata: Metadata;
  nonce?: string;
  code: string;
  trustedAudiences?: readonly string[];
}

export interface IdTokenStepOutcome {
  /** The login's `id_token` check. */
  check: Check;
  idToken?: LoginResult['idToken'];
  user?: LoginUser;
  /** Set when the check failed: the tokens must not be cached. */
  failure?: LoginResult['failure'];
}

/** Validates the ID token of the code exchange; a token that fails is reported, not thrown. */
export async function checkLoginIdToken(x: IdTokenStepInput): Promise<IdTokenStepOutcome> {
  const { token, metadata } = x;
  if (!x.openid) {
    return {
      check: {
        name: 'id_token',
        status: 'skip',
        detail: token.id_token
          ? 'the scope has no openid, so the ID token that came anyway was not validated'
          : 'the scope has no openid: no ID token requested (OAuth 2.0 only)',
      },
    };
  }
  if (!token.id_token) {
    const detail =
      'the token response has no id_token although the scope includes openid (OIDC Core §3.1.3.3)';
    return {
      check: { name: 'id_token', status: 'fail', detail },
      failure: {
        code: 'ID_TOKEN_MISSING',
        message: detail,
        hint: 'the IdP may not treat this client as an OpenID Connect client; check its configuration, or log in without openid in --scope',
      },
    };
  }
  const jwksUri = metadata.jwks_uri;
  if (!jwksUri) {
    const detail = "the IdP's metadata has no jwks_uri: the ID token's signature cannot be checked";
    return {
      check: { name: 'id_token', status: 'fail', detail },
      failure: {
        code: 'ID_TOKEN_INVALID',
        message: detail,
        hint: 'fix the IdP: OpenID Connect Discovery requires jwks_uri',
      },
    };
  }
  try {
    const v = await validateIdToken(token.id_token, {
      issuer: metadata.issuer,
      clientId: x.session.credentials.clientId,
      nonce: x.nonce,
      trustedAudiences: x.trustedAudiences,
      accessToken: token.access_token,
      code: x.code,
      fetchJwks: () => fetchJwkSet(x.session.http, jwksUri),
    });
    return {
      check: idTokenSummary(v),
      idToken: {
        valid: true,
        header: v.header,
        claims: v.claims,
        checks: v.checks,
        jwksFetches: v.jwksFetches,
      },
      user: userOf(v.claims),
    };
  } catch (e) {
    if (!isMtlsOAuthError(e) || e.code !== 'ID_TOKEN_INVALID') throw e;
    return {
      check: { name: 'id_token', status: 'fail', detail: e.message.replace(/^ID token rejected: /, '') },
      idToken: { valid: false, checks: (e.details?.checks as Check[] | undefined) ?? [] },
      failure: { code: e.code, message: `${e.message}; the tokens were not cached`, hint: e.hint },
    };
  }
}
