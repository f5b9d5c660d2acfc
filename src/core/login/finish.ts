// Steps 5-8 of the login (flow.ts), run while the browser waits for the page that tells how they
// went: the code exchange over mTLS, the ID token, the access token's binding, the cache.

import { scopeHasOpenid } from '../authorization-request.ts';
import type { Check } from '../check.ts';
import type { Metadata } from '../discovery/metadata.ts';
import { DPOP_NOT_BOUND_HINT } from '../dpop.ts';
import { isMtlsOAuthError, MtlsOAuthError } from '../errors.ts';
import { fapi2LoginChecks, profileFailure } from '../fapi2.ts';
import { cacheIssuedToken, checkIssuedToken } from '../issued-token.ts';
import { type PushedRequest, parCheck } from '../par.ts';
import { pkceCheck } from '../pkce.ts';
import { requestObjectCheck } from '../request-object.ts';
import type { Endpoint } from '../session.ts';
import type { CallbackPage } from './callback-page.ts';
import { loginFailedPage } from './callback-page.ts';
import { checkLoginIdToken } from './id-token-step.ts';
import type { CallbackResult } from './loopback.ts';
import type { LoginOptions, LoginResult, LoginStep } from './types.ts';

export function loginInterrupted(): MtlsOAuthError {
  return new MtlsOAuthError('interrupted', 'INTERRUPTED', 'interrupted: the login was cancelled');
}

/** What steps 1-4 of login() established. */
export interface AcceptedFlow {
  metadata: Metadata;
  authorizationEndpoint: string;
  tokenEndpoint: Endpoint;
  callback: CallbackResult;
  redirectUri: string;
  scope: string;
  pkce: { verifier: string };
  nonce?: string;
  pushed?: PushedRequest;
  requestObject?: string;
}

/** The step running (for the browser's page), and the one whose check failed. */
export interface Progress {
  step: LoginStep;
  failedStep?: LoginStep;
}

/** Steps 5-8 of login(): the code exchange, the ID token, the binding, the cache. */
export async function finishLogin(
  o: LoginOptions,
  flow: AcceptedFlow,
  progress: Progress,
): Promise<LoginResult> {
  const { session } = o;
  const { metadata, authorizationEndpoint, tokenEndpoint, callback, redirectUri, scope, pkce, nonce } = flow;
  const issuer = metadata.issuer;
  const openid = scopeHasOpenid(scope);
  const aborted = () => {
    if (o.signal?.aborted) throw loginInterrupted();
  };
  const enter = (step: LoginStep, detail: string) => {
    progress.step = step;
    o.onStep?.(step, detail);
  };

  // 5. The code exchange: over mTLS (the alias, where there is one), the same redirect_uri, the verifier.
  const { tokenRequest, grantParams } = await import('../token-endpoint.ts');
  enter('token request', tokenEndpoint.url);
  const exchange = await tokenRequest(
    session.client,
    tokenEndpoint.url,
    grantParams({
      grant: 'authorization_code',
      code: callback.code,
      redirectUri,
      codeVerifier: pkce.verifier,
    }),
  );
  const obtainedAt = Math.floor(Date.now() / 1000);
  const token = exchange.token;
  aborted();

  // 6. The ID token.
  const checks: Check[] = [...callback.checks, pkceCheck(metadata), parCheck(flow.pushed, metadata)];
  if (flow.requestObject) checks.push(requestObjectCheck(flow.requestObject));
  if (openid && token.id_token) enter('ID token validation', metadata.jwks_uri ?? issuer);
  const outcome = await checkLoginIdToken({
    session,
    token,
    openid,
    metadata,
    nonce,
    code: callback.code,
    trustedAudiences: o.trustedAudiences,
  });
  checks.push(outcome.check);
  const { idToken, user } = outcome;
  let failure = outcome.failure;
  if (failure) progress.failedStep = 'ID token validation';
  aborted();

  // 7. The access token's binding to our certificate (RFC 8705 §3), and to our DPoP key.
  enter('binding check', session.identity ? session.identity.x5tS256 : 'no client certificate');
  const {
    binding,
    dpop,
    checks: bindingChecks,
  } = await checkIssuedToken(session, token, {
    introspect: o.introspect,
    idpBinds: session.idpBindsTokens ?? metadata.tls_client_certificate_bound_access_tokens === true,
  });
  checks.push(...bindingChecks, ...exchange.checks);
  if (!failure && dpop?.status === 'fail') {
    progress.failedStep = 'binding check';
    failure = {
      code: 'DPOP_NOT_BOUND',
      message: `the access token is not bound to our DPoP key: ${dpop.detail}`,
      hint: DPOP_NOT_BOUND_HINT,
    };
  }
  if (!failure && binding.status === 'fail') {
    progress.failedStep = 'binding check';
    failure = {
      code: 'BINDING_MISMATCH',
      message: `the access token is not bound to the client certificate used: ${binding.detail}`,
      hint: 'the IdP bound the token to another certificate: check which certificate reaches the token endpoint (a proxy terminating TLS?)',
    };
  }

  // 8. The cache: only tokens whose ID token passed (or that had none to check).
  const idTokenFailed = checks.some((c) => c.name === 'id_token' && c.status === 'fail');
  const cachedIn = idTokenFailed
    ? undefined
    : await cacheIssuedToken(o.cache, session, token, {
        grantType: 'authorization_code',
        now: obtainedAt,
        issuer,
      });

  return {
    issuer,
    clientId: session.credentials.clientId,
    authMethod: session.credentials.method,
    authorizationEndpoint,
    redirectUri,
    tokenEndpoint,
    scope: { requested: scope, ...(typeof token.scope === 'string' ? { granted: token.scope } : {}) },
    token,
    obtainedAt,
    ...(typeof token.expires_in === 'number' ? { expiresAt: obtainedAt + Math.floor(token.expires_in) } : {}),
    ...(user ? { user } : {}),
    ...(idToken ? { idToken } : {}),
    binding,
    checks,
    ...(cachedIn ? { cachedIn } : {}),
    rejectedCallbacks: callback.rejected,
    ...(flow.pushed ? { par: flow.pushed } : {}),
    ...(failure ? { failure } : {}),
  };
}

/** Adds what the login showed of the FAPI 2.0 Security Profile; a requirement not met fails the login. */
export function applyFapi2(r: LoginResult): void {
  const checks = fapi2LoginChecks({ authMethod: r.authMethod, checks: r.checks, pushed: !!r.par });
  r.checks.push(...checks);
  r.failure ??= profileFailure(checks);
}

/** The browser's page for a login that failed in `step` with `e` (and the IdP's OAuth error code, if any). */
export function failedStepPage(step: LoginStep, e: unknown): CallbackPage {
  if (!isMtlsOAuthError(e)) return loginFailedPage(step, 'INTERNAL');
  const response = e.details?.response as { error?: unknown } | undefined;
  return loginFailedPage(step, e.code, typeof response?.error === 'string' ? response.error : undefined);
}
