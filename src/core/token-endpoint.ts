// The token (RFC 6749 §3.2), introspection (RFC 7662) and revocation (RFC 7009) endpoints,
// each called with client authentication and, when a client certificate is configured, over it.
//
// Every function takes an OAuthClient (an HttpClient, the credentials, the identity) and the URL
// to call; choosing the URL (mtls_endpoint_aliases, RFC 8705 §5) is session.ts's job. HTTP error
// statuses become MtlsOAuthErrors: an OAuth error body (RFC 6749 §5.2) is kind 'oauth' with an
// mTLS-aware hint (oauth-error.ts); anything else is kind 'network' (HTTP_ERROR, NOT_JSON).

import { checkBinding, jwtClaims } from './binding.ts';
import type { Check } from './check.ts';
import { authenticate, type ClientCredentials } from './client-auth.ts';
import { type DpopSigner, jktOf } from './dpop.ts';
import { MtlsOAuthError, usageError } from './errors.ts';
import { clientRefused, isOAuthErrorBody, type OAuthErrorBody, oauthError } from './oauth-error.ts';
import {
  looksLikeForm,
  looksLikeHtml,
  quotableTokenResponse,
  redactJson,
  responseExcerpt,
  secretValues,
  stripBom,
} from './redact.ts';
import { ACCESS_TOKEN_TYPE, tokenTypeName } from './token-types.ts';
import type { HttpClient, HttpResult } from './transport/http-client.ts';
import type { ClientIdentity } from './transport/identity.ts';

export type { Check };

export interface OAuthClient {
  http: HttpClient;
  credentials: ClientCredentials;
  /** The client certificate; when set, every call presents it. */
  identity?: ClientIdentity;
  /** DPoP (RFC 9449): when set, every token request carries a proof of this key. */
  dpop?: DpopSigner;
}

export interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in?: number;
  refresh_token?: string;
  id_token?: string;
  scope?: string;
  [k: string]: unknown;
}

export interface IntrospectionResponse {
  active: boolean;
  [k: string]: unknown;
}

/** An answer, and the secret values its request sent (redacted wherever the answer echoes them). */
interface Answer {
  res: HttpResult;
  sent: string[];
  /** The server asked for a DPoP nonce (use_dpop_nonce) and the request was sent again with it. */
  nonceRetried?: boolean;
}

/** RFC 9449 §8: a 400 use_dpop_nonce with a DPoP-Nonce header asks for the request again, with it. */
function wantsNonce(res: HttpResult): boolean {
  const body = res.json as { error?: unknown } | undefined;
  return res.status === 400 && body?.error === 'use_dpop_nonce' && !!res.headers['dpop-nonce'];
}

async function post(
  c: OAuthClient,
  endpoint: string,
  step: string,
  params: Record<string, string | undefined>,
  o: { tokenResponse?: boolean; dpop?: boolean } = {},
  retried = false,
): Promise<Answer> {
  const auth = await authenticate(c.credentials, endpoint, params);
  const sent = secretValues(auth.form, auth.headers);
  const dpop: Record<string, string> =
    o.dpop && c.dpop ? { dpop: await c.dpop.proof({ method: 'POST', url: endpoint }) } : {};
  const res = await c.http.request({
    method: 'POST',
    url: endpoint,
    form: auth.form,
    headers: { accept: 'application/json', ...auth.headers, ...dpop },
    // RFC 8705 §4/§5: with a certificate configured, every call presents it (the URL chosen
    // accordingly); without one, none can.
    withClientCert: !!c.identity,
    // Error statuses may come with HTML; they are explained below rather than as NOT_JSON.
    expectJson: false,
    step,
    // A token response's body is never echoed as text (-v), whatever it looks like.
    secretResponse: o.tokenResponse,
  });
  if (c.dpop) {
    const nonce = res.headers['dpop-nonce'];
    if (typeof nonce === 'string' && nonce) c.dpop.rememberNonce(endpoint, nonce);
    // Once: a server that asks again with every answer would loop.
    if (o.dpop && !retried && wantsNonce(res)) {
      return { ...(await post(c, endpoint, step, params, o, true)), nonceRetried: true };
    }
  }
  return { res, sent, nonceRetried: retried || undefined };
}

/**
 * The JSON of a 200 answer (res.json: parsed by the HttpClient, a leading BOM ignored). A token
 * response in the form encoding is refused by name: RFC 6749 §5.1 requires JSON, and this tool
 * reports what clients would trip on rather than papering over it. A token response that is
 * neither is not quoted: an opaque token in it would not look like one.
 */
function parseJson({ res, sent }: Answer, step: string, o: { tokenResponse?: boolean } = {}): unknown {
  if (res.json !== undefined) return res.json;
  const contentType = res.headers['content-type'];
  const text = stripBom(res.text).trim();
  if (o.tokenResponse && text && looksLikeForm(text, contentType)) {
    throw new MtlsOAuthError(
      'oauth',
      'BAD_TOKEN_RESPONSE',
      `${step}: the token response is form-encoded (${contentType ?? 'no content type'}), not JSON as RFC 6749 §5.1 requires; its tokens were not used, cached or shown`,
      {
        hint: 'the IdP or a gateway in front of it answers in the form encoding of older APIs although the request asked for application/json: configure the endpoint to answer JSON',
        details: {
          status: res.status,
          url: res.url,
          contentType: contentType ?? null,
          response: redactJson(Object.fromEntries(new URLSearchParams(text))),
        },
      },
    );
  }
  const what = text === '' ? 'an empty body' : (contentType ?? 'no content type');
  const html = looksLikeHtml(text, contentType);
  const quoted =
    o.tokenResponse && !quotableTokenResponse(text, contentType)
      ? ` (${res.text.length} bytes, not shown: a token response may hold tokens; -v --show-secrets shows it)`
      : `: "${responseExcerpt(res.text, { contentType, known: sent })}"`;
  throw new MtlsOAuthError(
    'network',
    'NOT_JSON',
    `${step}: ${res.url} answered HTTP ${res.status} with ${what} instead of JSON${text ? quoted : ''}`,
    {
      hint: html
        ? 'an HTML page usually comes from a proxy, a login page or a wrong URL: check the endpoint URL (`mtls-oauth discover ISSUER`) and any proxy in between, and run with -v'
        : 'the URL may point at a web page, a proxy or a gateway rather than the IdP endpoint; check it and run with -v',
      details: {
        status: res.status,
        url: res.url,
        contentType: res.headers['content-type'] ?? null,
        ...(res.connection ? { tls: res.connection } : {}),
      },
    },
  );
}

/** `error="invalid_token", error_description="..."` from a WWW-Authenticate header (RFC 6750 §3). */
export function oauthErrorFromChallenge(header: string | undefined): OAuthErrorBody | undefined {
  if (!header) return undefined;
  const param = (name: string) => new RegExp(`\\b${name}="((?:[^"\\\\]|\\\\.)*)"`, 'i').exec(header)?.[1];
  const error = param('error');
  if (!error) return undefined;
  const description = param('error_description');
  return { error, ...(description ? { error_description: description.replace(/\\(.)/g, '$1') } : {}) };
}

/** The MtlsOAuthError for a non-200 answer (`sent`: the request's secrets, redacted if echoed). */
export function failure(
  c: OAuthClient,
  res: HttpResult,
  step: string,
  endpoint: string,
  sent: string[] = [],
): MtlsOAuthError {
  const body = res.json;
  const oauthBody = isOAuthErrorBody(body) ? body : oauthErrorFromChallenge(res.headers['www-authenticate']);
  const context = {
    step,
    status: res.status,
    authMethod: c.credentials.method,
    clientId: c.credentials.clientId,
    identity: c.identity,
    connection: res.connection,
    endpoint,
  };
  if (oauthBody) return oauthError({ ...context, body: oauthBody });
  const start = responseExcerpt(res.text, { contentType: res.headers['content-type'], known: sent });
  // A bare 401/403 is the IdP refusing the client all the same (RFC 6749 §5.2 answers 401 for invalid_client).
  if (res.status === 401 || res.status === 403) {
    return clientRefused({ ...context, bodyStart: start });
  }
  return new MtlsOAuthError(
    'network',
    'HTTP_ERROR',
    `${step}: HTTP ${res.status} from ${endpoint}${start ? ` without an OAuth error: "${start}"` : ' with an empty body'}`,
    {
      hint:
        res.status === 404 || res.status === 405
          ? 'the endpoint URL is wrong: check discovery (`mtls-oauth discover ISSUER`) or the --*-endpoint flag'
          : res.status >= 300 && res.status < 400
            ? `the endpoint redirected${res.headers.location ? ` to ${res.headers.location.slice(0, 120)}` : ''}; OAuth endpoints answer directly, so the URL is probably not the ${step.replace(/ request$/, '')} endpoint`
            : res.status >= 500
              ? 'the IdP (or a proxy in front of it) failed; look at its logs, and run with -v to see the exchange'
              : 'the answer is not an OAuth error response (RFC 6749 §5.2): a proxy or gateway may be in the way; run with -v',
      details: {
        status: res.status,
        url: endpoint,
        contentType: res.headers['content-type'] ?? null,
        ...(res.connection ? { tls: res.connection } : {}),
      },
    },
  );
}

/** RFC 6749 §5.1: validates a successful token response; returns it and the checks made. */
export function validateTokenResponse(
  body: unknown,
  step = 'token request',
): { token: TokenResponse; checks: Check[] } {
  const bad = (why: string) =>
    new MtlsOAuthError('oauth', 'BAD_TOKEN_RESPONSE', `${step}: the token response ${why}`, {
      hint: 'the IdP answered 200 with a document that is not an RFC 6749 §5.1 token response',
      // Never the tokens it may hold: an error is printed, logged and kept by CI.
      details: { response: redactJson(body) },
    });
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw bad('is not a JSON object');
  const t = body as Record<string, unknown>;
  if (isOAuthErrorBody(t)) throw bad(`is an error (${t.error}) with HTTP 200`);
  if (typeof t.access_token !== 'string' || t.access_token === '') throw bad('has no access_token');
  if (typeof t.token_type !== 'string' || t.token_type === '') throw bad('has no token_type');
  for (const k of ['refresh_token', 'id_token', 'scope'] as const) {
    if (t[k] !== undefined && typeof t[k] !== 'string') throw bad(`has a ${k} that is not a string`);
  }
  const checks: Check[] = [];
  if (t.expires_in === undefined) {
    checks.push({
      name: 'expires_in',
      status: 'warn',
      detail: 'the response has no expires_in (RFC 6749 §5.1 recommends it): the expiry is unknown',
    });
  } else if (typeof t.expires_in !== 'number' || !Number.isFinite(t.expires_in) || t.expires_in < 0) {
    throw bad(`has an expires_in that is not a non-negative number: ${JSON.stringify(t.expires_in)}`);
  } else {
    checks.push({ name: 'expires_in', status: 'pass', detail: `${t.expires_in} s` });
  }
  if (!/^(bearer|dpop|n_a)$/i.test(t.token_type)) {
    checks.push({ name: 'token_type', status: 'warn', detail: `unusual token_type "${t.token_type}"` });
  }
  return { token: t as TokenResponse, checks };
}

/**
 * Token exchange (RFC 8693 §2.2.1): the response must say what it issued (issued_token_type), and
 * it should be what was asked for.
 */
export function exchangeCheck(token: TokenResponse, requested: string | undefined): Check {
  const issued = token.issued_token_type;
  if (typeof issued !== 'string' || issued === '') {
    return {
      name: 'issued_token_type',
      status: 'fail',
      detail: 'the token exchange response has no issued_token_type (RFC 8693 §2.2.1 requires it)',
    };
  }
  if (requested && issued !== requested) {
    return {
      name: 'issued_token_type',
      status: 'warn',
      detail: `${tokenTypeName(issued)} issued, ${tokenTypeName(requested)} requested`,
    };
  }
  return { name: 'issued_token_type', status: 'pass', detail: tokenTypeName(issued) };
}

export type GrantType =
  | 'client_credentials'
  | 'refresh_token'
  | 'authorization_code'
  | 'password'
  | 'token-exchange'
  | 'jwt-bearer';
export const GRANT_TYPES: GrantType[] = [
  'client_credentials',
  'refresh_token',
  'authorization_code',
  'password',
  'token-exchange',
  'jwt-bearer',
];

/** The grant_type value on the wire: extension grants are URNs (RFC 8693 §2.1, RFC 7523 §2.1). */
export const GRANT_TYPE_URI: Record<GrantType, string> = {
  client_credentials: 'client_credentials',
  refresh_token: 'refresh_token',
  authorization_code: 'authorization_code',
  password: 'password',
  'token-exchange': 'urn:ietf:params:oauth:grant-type:token-exchange',
  'jwt-bearer': 'urn:ietf:params:oauth:grant-type:jwt-bearer',
};

/** A --grant value: a name of GRANT_TYPES, or the URN of one. */
export function grantNamed(value: string): GrantType | undefined {
  return GRANT_TYPES.find((g) => g === value || GRANT_TYPE_URI[g] === value);
}

export interface GrantInput {
  grant: GrantType;
  scope?: string;
  /** RFC 8707 resource indicator */
  resource?: string;
  /** audience (Auth0, Okta and others) */
  audience?: string;
  refreshToken?: string;
  code?: string;
  codeVerifier?: string;
  redirectUri?: string;
  username?: string;
  password?: string;
  /** token-exchange (RFC 8693 §2.1): the token to exchange and its type URI */
  subjectToken?: string;
  subjectTokenType?: string;
  actorToken?: string;
  actorTokenType?: string;
  requestedTokenType?: string;
  /** jwt-bearer (RFC 7523 §2.1): the signed assertion */
  assertion?: string;
  /** extra parameters (-p key=value); they override the ones above */
  extra?: Record<string, string>;
}

/** The form parameters of a token request, with usage errors for missing inputs. */
export function grantParams(g: GrantInput): Record<string, string | undefined> {
  const need = (value: string | undefined, what: string, hint: string) => {
    if (!value) throw usageError('MISSING_GRANT_INPUT', `--grant ${g.grant} needs ${what}`, { hint });
    return value;
  };
  const p: Record<string, string | undefined> = { grant_type: GRANT_TYPE_URI[g.grant] };
  switch (g.grant) {
    case 'client_credentials':
      break;
    case 'refresh_token':
      p.refresh_token = need(
        g.refreshToken,
        'a refresh token',
        'pass --refresh-token - (stdin), or get one first (token --grant authorization_code with offline_access, or login): it is cached',
      );
      break;
    case 'authorization_code':
      p.code = need(
        g.code,
        'the authorization code (--code)',
        'the code from the redirect to your redirect_uri',
      );
      p.redirect_uri = need(
        g.redirectUri,
        'the redirect URI (--redirect-uri)',
        'the same redirect_uri as in the authorization request (RFC 6749 §4.1.3)',
      );
      p.code_verifier = g.codeVerifier;
      break;
    case 'password':
      p.username = need(g.username, 'a username (--username)', 'pass --username NAME');
      p.password = need(
        g.password,
        'a password',
        'set MTLS_OAUTH_PASSWORD, or run on a terminal to be asked',
      );
      break;
    case 'token-exchange':
      p.subject_token = need(
        g.subjectToken,
        'a subject token (--subject-token)',
        'pass --subject-token - and pipe it in, or --subject-token cache for the cached access token',
      );
      p.subject_token_type = g.subjectTokenType ?? ACCESS_TOKEN_TYPE;
      // RFC 8693 §2.1: actor_token_type is REQUIRED when actor_token is present, and only then.
      if (g.actorToken) {
        p.actor_token = g.actorToken;
        p.actor_token_type = need(
          g.actorTokenType,
          'the actor token type (--actor-token-type) with --actor-token',
          'e.g. --actor-token-type access_token (RFC 8693 §3)',
        );
      } else if (g.actorTokenType) {
        throw usageError('GRANT_OPTION', '--actor-token-type belongs with --actor-token');
      }
      p.requested_token_type = g.requestedTokenType;
      break;
    case 'jwt-bearer':
      p.assertion = need(
        g.assertion,
        'a signed JWT assertion (--assertion)',
        'pass --assertion - and pipe the JWT in (RFC 7523 §2.1)',
      );
      break;
    default:
      throw usageError('UNKNOWN_GRANT', `unknown grant "${g.grant as string}"`, {
        hint: `use one of: ${GRANT_TYPES.join(', ')}`,
      });
  }
  p.scope = g.scope;
  p.resource = g.resource;
  p.audience = g.audience;
  return { ...p, ...g.extra };
}

export async function tokenRequest(
  c: OAuthClient,
  endpoint: string,
  params: Record<string, string | undefined>,
  step = 'token request',
): Promise<{ token: TokenResponse; checks: Check[]; http: HttpResult }> {
  const answer = await post(c, endpoint, step, params, { tokenResponse: true, dpop: true });
  const { res } = answer;
  if (res.status !== 200) throw failure(c, res, step, endpoint, answer.sent);
  const { token, checks } = validateTokenResponse(parseJson(answer, step, { tokenResponse: true }), step);
  if (answer.nonceRetried) {
    checks.push({
      name: 'dpop nonce',
      status: 'pass',
      detail: 'the IdP asked for a DPoP nonce (use_dpop_nonce); the request was sent again with it',
    });
  }
  return { token, checks, http: res };
}

/**
 * A POST with client authentication to an endpoint that answers JSON on success (the device
 * authorization endpoint, RFC 8628 §3.1; the PAR endpoint, RFC 9126 §2.1): the JSON, or the usual MtlsOAuthError for an error answer.
 */
export async function authenticatedPost(
  c: OAuthClient,
  endpoint: string,
  step: string,
  params: Record<string, string | undefined>,
  /** The success statuses (the PAR endpoint answers 201, RFC 9126 §2.2). */
  ok: number[] = [200],
): Promise<{ body: unknown; http: HttpResult }> {
  const answer = await post(c, endpoint, step, params);
  if (!ok.includes(answer.res.status)) throw failure(c, answer.res, step, endpoint, answer.sent);
  return { body: parseJson(answer, step), http: answer.res };
}

export async function introspectToken(
  c: OAuthClient,
  endpoint: string,
  token: string,
  hint?: string,
): Promise<{ response: IntrospectionResponse; http: HttpResult }> {
  const step = 'introspection';
  const answer = await post(c, endpoint, step, { token, token_type_hint: hint });
  const { res } = answer;
  if (res.status !== 200) throw failure(c, res, step, endpoint, answer.sent);
  const body = parseJson(answer, step);
  if (
    !body ||
    typeof body !== 'object' ||
    Array.isArray(body) ||
    typeof (body as { active?: unknown }).active !== 'boolean'
  ) {
    throw new MtlsOAuthError(
      'oauth',
      'BAD_INTROSPECTION_RESPONSE',
      `introspection: the response has no boolean "active" (RFC 7662 §2.2): ${responseExcerpt(JSON.stringify(body), { known: answer.sent })}`,
      {
        hint: 'the URL may not be an RFC 7662 introspection endpoint; check it',
        details: { response: redactJson(body) },
      },
    );
  }
  return { response: body as IntrospectionResponse, http: res };
}

export async function revokeToken(
  c: OAuthClient,
  endpoint: string,
  token: string,
  hint?: string,
): Promise<{ status: number; http: HttpResult }> {
  const step = 'revocation';
  const answer = await post(c, endpoint, step, { token, token_type_hint: hint });
  const { res } = answer;
  // RFC 7009 §2.2: 200 means revoked, or the token was unknown. 503: it may still be valid.
  if (res.status === 200) return { status: 200, http: res };
  if (res.status === 503) {
    const retry = res.headers['retry-after'];
    throw new MtlsOAuthError(
      'oauth',
      'REVOCATION_UNAVAILABLE',
      'revocation: the IdP answered 503 (service unavailable): the token was NOT revoked and may still be valid',
      {
        hint: `retry later${retry ? ` (Retry-After: ${retry})` : ''}, and treat the token as live until revocation succeeds (RFC 7009 §2.2.1)`,
        details: { status: 503, url: endpoint, ...(res.connection ? { tls: res.connection } : {}) },
      },
    );
  }
  throw failure(c, res, step, endpoint, answer.sent);
}

export interface BindingCheck extends Check {
  /** the thumbprint the token is bound to, if known */
  boundTo?: string;
  /** where the binding was read: the JWT access token, or an introspection response */
  source?: 'jwt' | 'introspection';
  /** the introspection response read, for the DPoP check to reuse */
  introspection?: IntrospectionResponse;
}

/**
 * The `binding` check of a token response (RFC 8705 §3). A JWT access token is read directly. An
 * opaque one is introspected when an introspection endpoint is given and the IdP advertises bound
 * tokens (or nothing is known: no metadata); a failure there makes the check a warning, never the
 * command's failure.
 */
export async function checkTokenBinding(
  c: OAuthClient,
  token: TokenResponse,
  o: { idpBinds?: boolean; introspectionEndpoint?: string },
): Promise<BindingCheck> {
  const expected = c.identity?.x5tS256;
  const claims = jwtClaims(token.access_token);
  if (claims) {
    const v = checkBinding({ claims, expected, idpBinds: o.idpBinds, source: 'JWT access token' });
    return { name: 'binding', status: v.status, detail: v.detail, boundTo: v.boundTo, source: 'jwt' };
  }
  if (!expected) {
    return {
      name: 'binding',
      status: 'skip',
      detail: 'no client certificate was used, so the token cannot be bound to one',
    };
  }
  // Unknown (no metadata) counts as "may bind": an explicit introspection endpoint shows it.
  if (o.idpBinds === false || (o.idpBinds === undefined && !o.introspectionEndpoint)) {
    const v = checkBinding({ claims: undefined, expected, idpBinds: o.idpBinds, source: 'access token' });
    return { name: 'binding', status: v.status, detail: v.detail };
  }
  if (!o.introspectionEndpoint) {
    return {
      name: 'binding',
      status: 'skip',
      detail: 'the access token is opaque and the IdP has no introspection endpoint to show its binding',
    };
  }
  try {
    const { response } = await introspectToken(
      c,
      o.introspectionEndpoint,
      token.access_token,
      'access_token',
    );
    return {
      ...bindingFromIntrospection(response, { expected, idpBinds: o.idpBinds }),
      source: 'introspection',
      introspection: response,
    };
  } catch (e) {
    if (!(e instanceof MtlsOAuthError)) throw e;
    return {
      name: 'binding',
      status: 'warn',
      detail: `the access token is opaque and introspecting it to see its binding failed: ${e.message}`,
    };
  }
}

/**
 * The `dpop` check (RFC 9449 §5, §6): a token requested with DPoP proofs is of type DPoP and bound
 * to our key, cnf.jkt, read from a JWT access token or from introspection (reusing the binding
 * check's response when it introspected already). Undefined when DPoP was not used.
 */
export async function checkDpopBinding(
  c: OAuthClient,
  token: TokenResponse,
  o: { binding?: BindingCheck; introspectionEndpoint?: string },
): Promise<Check | undefined> {
  if (!c.dpop) return undefined;
  const ours = c.dpop.jkt;
  if (!/^dpop$/i.test(token.token_type)) {
    return {
      name: 'dpop',
      status: 'fail',
      detail: `the IdP answered token_type "${token.token_type}", not DPoP: the token is not bound to our DPoP key (RFC 9449 §5)`,
    };
  }
  let claims: Record<string, unknown> | undefined = jwtClaims(token.access_token);
  let source = 'JWT access token';
  if (!claims) {
    let response = o.binding?.introspection;
    if (!response && o.introspectionEndpoint) {
      try {
        response = (await introspectToken(c, o.introspectionEndpoint, token.access_token, 'access_token'))
          .response;
      } catch (e) {
        if (!(e instanceof MtlsOAuthError)) throw e;
        return {
          name: 'dpop',
          status: 'warn',
          detail: `introspecting the token to see cnf.jkt failed: ${e.message}`,
        };
      }
    }
    if (!response) {
      return {
        name: 'dpop',
        status: 'skip',
        detail: 'the access token is opaque and no introspection shows its cnf.jkt',
      };
    }
    if (!response.active) return { name: 'dpop', status: 'skip', detail: 'the token is not active' };
    claims = response;
    source = 'introspection';
  }
  const jkt = jktOf(claims);
  if (!jkt) {
    return { name: 'dpop', status: 'fail', detail: `token_type DPoP, but the ${source} has no cnf.jkt` };
  }
  return jkt === ours
    ? { name: 'dpop', status: 'pass', detail: `bound to our DPoP key (cnf.jkt ${jkt}, from the ${source})` }
    : {
        name: 'dpop',
        status: 'fail',
        detail: `bound to another key: cnf.jkt ${jkt} in the ${source}, ours is ${ours}`,
      };
}

/** The `binding` check of an introspection response (cnf, RFC 8705 §3.2). */
export function bindingFromIntrospection(
  response: IntrospectionResponse,
  o: { expected?: string; idpBinds?: boolean },
): BindingCheck {
  if (!response.active) {
    return { name: 'binding', status: 'skip', detail: 'the token is not active' };
  }
  const v = checkBinding({
    claims: response,
    expected: o.expected,
    idpBinds: o.idpBinds,
    source: 'introspection response',
  });
  return {
    name: 'binding',
    status: v.status,
    detail: `${v.detail} (introspection)`,
    boundTo: v.boundTo,
  };
}
