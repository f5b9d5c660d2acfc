// The authorization request of the code flow (RFC 6749 §4.1.1, RFC 7636 §4.3, OIDC Core §3.1.2.1):
// the URL the browser is sent to. Everything secret about the flow (state, PKCE verifier, nonce) is
// generated here, per flow, and returned so the callback and the token request can use it.

import { usageError } from './errors.ts';
import { generateNonce, generatePkce, generateState } from './pkce.ts';
import { CLEARTEXT_HINT, schemeProblem } from './url-policy.ts';

/** Parameters that protect the flow: an extra parameter may never replace them. */
const SECURITY_PARAMS = ['state', 'code_challenge', 'code_challenge_method', 'nonce', 'redirect_uri'];

/** Parameters with a flag of their own (or fixed by the flow), named in the refusal. */
const OWN_FLAG: Record<string, string> = {
  response_type: 'login runs the authorization-code flow, so response_type is always "code"',
  client_id: 'use --client-id',
  scope: 'use --scope',
  prompt: 'use --prompt',
};

export const DEFAULT_SCOPE = 'openid';

export type ExtraParams = ReadonlyArray<readonly [string, string]>;

export interface AuthorizationUrlInput {
  authorizationEndpoint: string;
  clientId: string;
  redirectUri: string;
  /** Space-separated; default `openid`. */
  scope?: string;
  state: string;
  codeChallenge: string;
  /** Required when the scope contains `openid`. */
  nonce?: string;
  prompt?: string;
  /** From `-p key=value`, in order; a name may repeat (e.g. `resource`, RFC 8707). */
  extraParams?: ExtraParams;
}

export function scopeHasOpenid(scope: string): boolean {
  return scope.split(/\s+/).includes('openid');
}

/** Collapses whitespace; an empty scope becomes the default `openid`. */
export function normalizeScope(scope: string | undefined): string {
  return scope?.trim().split(/\s+/).join(' ') || DEFAULT_SCOPE;
}

/** Parses `-p key=value` arguments (split at the first `=`; the value may be empty). */
export function parseExtraParams(args: readonly string[] = []): Array<[string, string]> {
  return args.map((arg) => {
    const i = arg.indexOf('=');
    if (i <= 0) {
      throw usageError('BAD_PARAM', `extra parameter "${arg}" is not of the form key=value`, {
        hint: 'example: -p acr_values=urn:mace:incommon:iap:silver -p resource=https://api.example',
      });
    }
    return [arg.slice(0, i), arg.slice(i + 1)];
  });
}

/** Refuses extra parameters that would replace what protects the flow or what has a flag of its own. */
export function assertExtraParamsAllowed(extra: ExtraParams): void {
  for (const [name] of extra) {
    if (SECURITY_PARAMS.includes(name)) {
      throw usageError(
        'AUTHZ_PARAM_RESERVED',
        `refusing to override "${name}" with -p: it protects the flow`,
        {
          hint: 'state, nonce and the PKCE challenge are generated fresh for every login; the redirect_uri comes from --port / --redirect-uri',
        },
      );
    }
    const own = OWN_FLAG[name];
    if (own) throw usageError('AUTHZ_PARAM_RESERVED', `refusing to set "${name}" with -p`, { hint: own });
  }
}

/** RFC 6749 §3.1: the endpoint may carry a query (kept) but no fragment; https, or http on loopback. */
export function parseAuthorizationEndpoint(endpoint: string): URL {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw usageError('AUTHZ_ENDPOINT_INVALID', `authorization endpoint "${endpoint}" is not a URL`);
  }
  if (schemeProblem(url)) {
    throw usageError('AUTHZ_ENDPOINT_INVALID', `authorization endpoint ${endpoint} must use https`, {
      hint: CLEARTEXT_HINT,
    });
  }
  if (url.hash) {
    throw usageError('AUTHZ_ENDPOINT_INVALID', `authorization endpoint ${endpoint} must not have a fragment`);
  }
  return url;
}

/**
 * The authorization request's parameters, in order (pure: the caller supplies state, challenge and
 * nonce): the query of the URL, or the body pushed to the PAR endpoint (RFC 9126 §2.1), or the
 * claims of a request object (RFC 9101 §4).
 */
export function authorizationParams(
  input: Omit<AuthorizationUrlInput, 'authorizationEndpoint'>,
): Array<[string, string]> {
  const scope = normalizeScope(input.scope);
  const extra = input.extraParams ?? [];
  assertExtraParamsAllowed(extra);
  if (scopeHasOpenid(scope) && !input.nonce) {
    throw usageError(
      'AUTHZ_NONCE_MISSING',
      'an OpenID Connect request (scope contains "openid") needs a nonce',
    );
  }
  const own: Array<[string, string | undefined]> = [
    ['response_type', 'code'],
    ['client_id', input.clientId],
    ['redirect_uri', input.redirectUri],
    ['scope', scope],
    ['state', input.state],
    ['code_challenge', input.codeChallenge],
    ['code_challenge_method', 'S256'],
    ['nonce', input.nonce],
    ['prompt', input.prompt],
  ];
  const params = own.filter((p): p is [string, string] => p[1] !== undefined && p[1] !== '');
  return [...params, ...extra.map(([k, v]) => [k, v] as [string, string])];
}

/**
 * The authorization endpoint with `params`: they replace same-named ones already in the endpoint's
 * query (RFC 6749 §3.1 keeps the rest).
 */
export function authorizationUrl(authorizationEndpoint: string, params: ExtraParams): URL {
  const url = parseAuthorizationEndpoint(authorizationEndpoint);
  const q = url.searchParams;
  for (const [name] of params) q.delete(name);
  for (const [name, value] of params) q.append(name, value);
  return url;
}

/** Builds the authorization URL. Pure: the caller supplies state, challenge and nonce. */
export function buildAuthorizationUrl(input: AuthorizationUrlInput): URL {
  parseAuthorizationEndpoint(input.authorizationEndpoint);
  return authorizationUrl(input.authorizationEndpoint, authorizationParams(input));
}

export interface AuthorizationRequestOptions {
  authorizationEndpoint: string;
  clientId: string;
  redirectUri: string;
  scope?: string;
  prompt?: string;
  extraParams?: ExtraParams;
}

/** Everything the rest of the flow needs: keep it in memory only; state, verifier and nonce are secrets. */
export interface AuthorizationRequest {
  url: URL;
  redirectUri: string;
  scope: string;
  state: string;
  codeVerifier: string;
  codeChallenge: string;
  /** Present when the scope contains `openid`. */
  nonce?: string;
}

/** Generates a fresh state, PKCE pair and (for OIDC) nonce, and builds the URL with them. */
export function createAuthorizationRequest(opts: AuthorizationRequestOptions): AuthorizationRequest {
  const scope = normalizeScope(opts.scope);
  const pkce = generatePkce();
  const state = generateState();
  const nonce = scopeHasOpenid(scope) ? generateNonce() : undefined;
  const url = buildAuthorizationUrl({ ...opts, scope, state, codeChallenge: pkce.challenge, nonce });
  return {
    url,
    redirectUri: opts.redirectUri,
    scope,
    state,
    codeVerifier: pkce.verifier,
    codeChallenge: pkce.challenge,
    nonce,
  };
}
