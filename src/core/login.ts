// The authorization-code flow of `login` (RFC 6749 §4.1 with PKCE, RFC 7636; native-app loopback
// redirect, RFC 8252; OpenID Connect Core §3.1; the code exchanged over mutual TLS, RFC 8705), put
// together from the modules that do each part:
//
//   discovery (session.ts / discovery/)  the authorization, token and JWKS endpoints
//   pkce.ts                                fresh state, PKCE verifier and nonce for this flow
//   loopback.ts                            the callback listener (state, iss, Host; one response)
//   authorization-request.ts               the URL the browser is sent to
//   token-endpoint.ts                      the code exchange (same redirect_uri, the verifier) and
//                                          the certificate binding of the access token
//   id-token.ts                            the ID token, against the issuer's JWKS
//   token-cache.ts                         the tokens kept for introspect, revoke and refresh
//
// Opening the browser and printing belong to the caller (onAuthorizationUrl): this module never
// prints. The browser's request to the callback is held while the code is exchanged and the tokens
// checked (loopback.ts bounds the wait), so the page it gets tells the real outcome: success, or the
// step that failed with its error code. The result carries the named checks `state`, `iss`, `pkce`, `par`, `id_token` and `binding`.
// A failure of the flow itself (the IdP's error response, a wrong issuer, a timeout, Ctrl-C, a
// refused code exchange) is thrown as an MtlsOAuthError; an ID token that fails validation is not
// thrown but reported (the `id_token` check fails, `failure` says why, and nothing is cached).

import {
  type DeliveredRequest,
  type DeliveryOptions,
  deliverAuthorizationRequest,
} from './authorization-delivery.ts';
import {
  assertExtraParamsAllowed,
  type ExtraParams,
  normalizeScope,
  parseAuthorizationEndpoint,
  scopeHasOpenid,
} from './authorization-request.ts';
import { type CallbackPage, loginFailedPage, successPage } from './callback-page.ts';
import type { Check } from './check.ts';
import { fetchJwkSet } from './discovery/index.ts';
import type { Metadata } from './discovery/metadata.ts';
import { type ErrorCode, isMtlsOAuthError, MtlsOAuthError, usageError } from './errors.ts';
import { fapi2LoginChecks, profileFailure, type SecurityProfile } from './fapi2.ts';
import { type IdTokenClaims, type IdTokenValidation, validateIdToken } from './id-token.ts';
import {
  assertLoopbackHost,
  type CallbackEvent,
  type CallbackResult,
  DEFAULT_CALLBACK_PATH,
  type LoopbackHost,
  startCallbackListener,
} from './loopback.ts';
import { type PushedRequest, parCheck } from './par.ts';
import { pastedCallback } from './pasted-callback.ts';
import { generateNonce, generatePkce, generateState } from './pkce.ts';
import { requestObjectCheck } from './request-object.ts';
import type { Endpoint, Session } from './session.ts';
import type { TokenCache } from './token-cache.ts';
import type { BindingCheck, TokenResponse } from './token-endpoint.ts';

// ---------------------------------------------------------------------------------------------
// Where the callback listens

export interface CallbackSpec {
  host: LoopbackHost;
  /** 0: an ephemeral port. */
  port: number;
  path: string;
  /** The exact redirect_uri to send, when the IdP registered one (--redirect-uri). */
  redirectUri?: string;
  /** Said once on stderr: the redirect URI names localhost rather than a loopback IP literal. */
  warning?: string;
}

const REDIRECT_HINT =
  'give the exact URI registered at the IdP, on a loopback IP literal (http://127.0.0.1:8765/callback or http://[::1]:8765/callback) or, with a warning, localhost';

/**
 * The listener's address from --redirect-uri, --port and --ipv6. --redirect-uri is used verbatim
 * in both requests (an IdP that registered an exact URI compares strings); it must be plain http on
 * 127.0.0.1 or [::1] (RFC 8252 §7.3, §8.3), or localhost with a warning, without query or fragment. --port and --ipv6 may
 * accompany it only when they agree with it.
 */
export function callbackSpec(o: { redirectUri?: string; port?: number; ipv6?: boolean }): CallbackSpec {
  if (o.port !== undefined && (!Number.isInteger(o.port) || o.port < 1 || o.port > 65535)) {
    throw usageError('BAD_PORT', `--port ${o.port} is not a port number (1-65535)`, {
      hint: 'omit --port for an ephemeral port (the IdP must accept any port on loopback, RFC 8252 §7.3)',
    });
  }
  if (o.redirectUri === undefined) {
    return { host: o.ipv6 ? '::1' : '127.0.0.1', port: o.port ?? 0, path: DEFAULT_CALLBACK_PATH };
  }
  let url: URL;
  try {
    url = new URL(o.redirectUri);
  } catch {
    throw usageError('REDIRECT_URI_INVALID', `--redirect-uri "${o.redirectUri}" is not a URL`, {
      hint: REDIRECT_HINT,
    });
  }
  if (url.protocol !== 'http:') {
    throw usageError(
      'REDIRECT_URI_INVALID',
      `--redirect-uri ${o.redirectUri} must use http: the callback is a plain listener on this machine`,
      { hint: REDIRECT_HINT },
    );
  }
  if (url.search || url.hash || o.redirectUri.includes('#') || url.username || url.password) {
    throw usageError(
      'REDIRECT_URI_INVALID',
      `--redirect-uri ${o.redirectUri} must have no query, fragment or user info`,
      { hint: REDIRECT_HINT },
    );
  }
  // RFC 8252 §8.3: localhost is NOT RECOMMENDED (it may resolve elsewhere, or be intercepted), but
  // many IdPs only register it: allowed, with a warning, listening where it resolves by default.
  const localhost = url.hostname.toLowerCase() === 'localhost';
  const host = localhost ? '127.0.0.1' : assertLoopbackHost(url.hostname);
  const port = url.port === '' ? 80 : Number(url.port);
  if (o.port !== undefined && o.port !== port) {
    throw usageError(
      'CALLBACK_OPTIONS_CONFLICT',
      `--port ${o.port} disagrees with --redirect-uri ${o.redirectUri} (port ${port})`,
      { hint: 'give only --redirect-uri: its port is the one the listener uses' },
    );
  }
  if (o.ipv6 && host !== '::1') {
    throw usageError(
      'CALLBACK_OPTIONS_CONFLICT',
      `--ipv6 disagrees with --redirect-uri ${o.redirectUri} (an IPv4 address)`,
      { hint: 'drop --ipv6, or register and give http://[::1]:PORT/... as the redirect URI' },
    );
  }
  return {
    host,
    port,
    path: url.pathname || '/',
    redirectUri: o.redirectUri,
    ...(localhost
      ? {
          warning: `--redirect-uri uses "localhost", which a browser may resolve to another address than 127.0.0.1, where the callback listens (RFC 8252 §8.3 recommends http://127.0.0.1:${port}${url.pathname}); register the IP literal at the IdP if you can`,
        }
      : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// The flow

export type LoginStep =
  | 'discovery'
  | 'pushed authorization request'
  | 'token request'
  | 'ID token validation'
  | 'binding check';

export interface AuthorizationUrlInfo {
  /** The authorization URL (carries state, the PKCE challenge and the nonce: single use, not secret). */
  url: string;
  redirectUri: string;
  /** When the wait for the callback ends (ms since the epoch). */
  deadline: number;
}

export interface LoginOptions {
  /** Opened with the operation 'token'; it needs --issuer (discovery). The caller closes it. */
  session: Session;
  /** Space-separated; default `openid`. */
  scope?: string;
  prompt?: string;
  /** -p key=value, in order. */
  extraParams?: ExtraParams;
  /** Default: 127.0.0.1, an ephemeral port, /callback. */
  callback?: CallbackSpec;
  /** The overall wait for the browser's callback. */
  timeoutMs: number;
  /** Aborting (the CLI does on SIGINT) closes the listener; the flow rejects with kind 'interrupted'. */
  signal?: AbortSignal;
  /** Audiences of the ID token besides the client id that the client trusts (--trusted-audience). */
  trustedAudiences?: readonly string[];
  /** Introspect an opaque access token to see its certificate binding (default true). */
  introspect?: boolean;
  /** Where to keep the tokens; none: not cached. */
  cache?: TokenCache;
  /** Called once the listener is up: open the browser, print the URL. May be async. */
  onAuthorizationUrl: (info: AuthorizationUrlInfo) => void | Promise<void>;
  /** Requests to the callback turned away (wrong state, other paths, foreign Host), as they happen. */
  onCallbackEvent?: (event: CallbackEvent) => void;
  /** The step that starts now (for a spinner). */
  onStep?: (step: LoginStep, detail: string) => void;
  /**
   * Keep the callback answering the outcome page on reloads until the process exits (the CLI; it
   * never keeps the process alive). Default: the listener shuts down once the page is out.
   */
  keepCallbackPage?: boolean;
  /** How the request reaches the IdP (PAR, request object: authorization-delivery.ts). */
  delivery?: DeliveryOptions;
  /** Check the flow against a security profile (fapi2.ts); set delivery.profileRequiresPar too. */
  securityProfile?: SecurityProfile;
  /**
   * No listener: the final redirect URL is pasted back (pasted-callback.ts), for a terminal without
   * a browser on this machine. The redirect URI is --redirect-uri, else the loopback one (no port
   * unless --port: what native clients register).
   */
  paste?: { readLine: () => Promise<string> };
}

/** The redirect URI of a pasted login: nothing listens on it, so any loopback port will do. */
function pasteRedirectUri(spec: CallbackSpec): string {
  const host = spec.host === '::1' ? '[::1]' : spec.host;
  return `http://${host}${spec.port ? `:${spec.port}` : ''}${spec.path}`;
}

export interface LoginUser {
  sub: string;
  name?: string;
  email?: string;
  preferred_username?: string;
}

export interface LoginResult {
  issuer: string;
  clientId: string;
  authMethod: string;
  authorizationEndpoint: string;
  redirectUri: string;
  tokenEndpoint: Endpoint;
  scope: { requested: string; granted?: string };
  /** The token response as received (contains the tokens). */
  token: TokenResponse;
  /** Seconds since the epoch. */
  obtainedAt: number;
  expiresAt?: number;
  /** From the validated ID token. */
  user?: LoginUser;
  idToken?: {
    valid: boolean;
    /** Absent when the token could not be parsed or verified. */
    header?: IdTokenValidation['header'];
    claims?: IdTokenClaims;
    /** id-token.ts's detailed checks (alg, signature, iss, aud, ...). */
    checks: Check[];
    jwksFetches?: number;
  };
  binding: BindingCheck;
  /** state, iss, pkce, par, id_token, binding, then the token response's own checks. */
  checks: Check[];
  /** Where the tokens were cached (absent: not cached). */
  cachedIn?: string;
  /** Requests to the callback that were turned away before the accepted one. */
  rejectedCallbacks: number;
  /** The pushed authorization request (PAR), when the request was pushed. */
  par?: PushedRequest;
  /** Set when a check failed: what the CLI reports as the error. */
  failure?: { code: ErrorCode; message: string; hint?: string };
}

function interrupted(): MtlsOAuthError {
  return new MtlsOAuthError('interrupted', 'INTERRUPTED', 'interrupted: the login was cancelled');
}

/** The discovery metadata, fetched now if the session did not need it (e.g. --token-endpoint). */
async function metadataOf(session: Session): Promise<Metadata> {
  if (session.metadata) return session.metadata;
  if (!session.settings.issuer) throw missingIssuer();
  const { discoverMetadata } = await import('./discovery/index.ts');
  return (await discoverMetadata(session.http, session.settings.issuer)).metadata;
}

export function missingIssuer(): MtlsOAuthError {
  return usageError('MISSING_ISSUER', 'login needs the issuer: pass --issuer URL (or MTLS_OAUTH_ISSUER)', {
    hint: 'the IdP is discovered from it (authorization, token and JWKS endpoints), and the ID token and the iss parameter are checked against it',
  });
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

export async function login(o: LoginOptions): Promise<LoginResult> {
  const { session } = o;
  const aborted = () => {
    if (o.signal?.aborted) throw interrupted();
  };
  if (!session.settings.issuer) throw missingIssuer();
  const scope = normalizeScope(o.scope);
  const extra = o.extraParams ?? [];
  const spec = o.callback ?? { host: '127.0.0.1', port: 0, path: DEFAULT_CALLBACK_PATH };

  // 1. Discovery, and everything that can be refused before a port is opened.
  o.onStep?.('discovery', session.settings.issuer);
  const metadata = await metadataOf(session);
  aborted();
  const issuer = metadata.issuer;
  const authorizationEndpoint = session.settings.authorizationEndpoint ?? metadata.authorization_endpoint;
  if (!authorizationEndpoint) {
    throw usageError('NO_ENDPOINT', "the IdP's metadata has no authorization_endpoint", {
      hint: 'the IdP may not support the authorization-code flow; if it does, give --authorization-endpoint URL',
    });
  }
  parseAuthorizationEndpoint(authorizationEndpoint);
  assertExtraParamsAllowed(extra);
  const tokenEndpoint = session.endpoint('token');
  const openid = scopeHasOpenid(scope);

  // 2. This flow's secrets, then the listener that expects its state.
  const state = generateState();
  const pkce = generatePkce();
  const nonce = openid ? generateNonce() : undefined;
  const expectations = {
    expectedState: state,
    issuer,
    issRequired: metadata.authorization_response_iss_parameter_supported === true,
  };
  const listener = o.paste
    ? pastedCallback({
        ...expectations,
        host: spec.host,
        port: spec.port,
        path: spec.path,
        redirectUri: spec.redirectUri ?? pasteRedirectUri(spec),
        readLine: o.paste.readLine,
        timeoutMs: o.timeoutMs,
        signal: o.signal,
      })
    : await startCallbackListener({
        host: spec.host,
        port: spec.port,
        path: spec.path,
        ...expectations,
        timeoutMs: o.timeoutMs,
        signal: o.signal,
        onEvent: o.onCallbackEvent,
        linger: o.keepCallbackPage,
      });
  const deadline = Date.now() + o.timeoutMs;
  const redirectUri = spec.redirectUri ?? listener.redirectUri;

  // 3. The authorization request (pushed first with PAR), handed to the browser.
  let delivered: DeliveredRequest;
  try {
    delivered = await deliverAuthorizationRequest(
      session,
      metadata,
      {
        authorizationEndpoint,
        clientId: session.credentials.clientId,
        redirectUri,
        scope,
        state,
        codeChallenge: pkce.challenge,
        nonce,
        prompt: o.prompt,
        extraParams: extra,
      },
      o.delivery ?? {},
    );
    await o.onAuthorizationUrl({ url: delivered.url.href, redirectUri, deadline });
  } catch (e) {
    await listener.close();
    throw e;
  }

  // 4. The one accepted response. A response that ends the flow (the IdP's error, a wrong iss), a
  // timeout or Ctrl-C: the listener has answered the browser (or closed) itself.
  const callback = await listener.result;

  // 5-8 run while the browser waits (bounded) for the page that tells how they went.
  const progress: Progress = { step: 'token request' };
  try {
    aborted();
    const flow = {
      metadata,
      authorizationEndpoint,
      tokenEndpoint,
      callback,
      redirectUri,
      scope,
      pkce,
      nonce,
      pushed: delivered.pushed,
      requestObject: delivered.requestObject,
    };
    const result = await finishLogin(o, flow, progress);
    if (o.securityProfile === 'fapi2') applyFapi2(result);
    const f = result.failure;
    await listener.finish(f ? loginFailedPage(progress.failedStep ?? progress.step, f.code) : successPage());
    return result;
  } catch (e) {
    await listener.finish(failedStepPage(progress.step, e));
    throw e;
  }
}

/** What steps 1-4 of login() established. */
interface AcceptedFlow {
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
interface Progress {
  step: LoginStep;
  failedStep?: LoginStep;
}

/** Steps 5-8 of login(): the code exchange, the ID token, the binding, the cache. */
async function finishLogin(o: LoginOptions, flow: AcceptedFlow, progress: Progress): Promise<LoginResult> {
  const { session } = o;
  const { metadata, authorizationEndpoint, tokenEndpoint, callback, redirectUri, scope, pkce, nonce } = flow;
  const issuer = metadata.issuer;
  const openid = scopeHasOpenid(scope);
  const aborted = () => {
    if (o.signal?.aborted) throw interrupted();
  };
  const enter = (step: LoginStep, detail: string) => {
    progress.step = step;
    o.onStep?.(step, detail);
  };

  // 5. The code exchange: over mTLS (the alias, where there is one), the same redirect_uri, the verifier.
  const { tokenRequest, grantParams, checkTokenBinding, checkDpopBinding } = await import(
    './token-endpoint.ts'
  );
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
  let idToken: LoginResult['idToken'];
  let user: LoginUser | undefined;
  let failure: LoginResult['failure'];
  if (!openid) {
    checks.push({
      name: 'id_token',
      status: 'skip',
      detail: token.id_token
        ? 'the scope has no openid, so the ID token that came anyway was not validated'
        : 'the scope has no openid: no ID token requested (OAuth 2.0 only)',
    });
  } else if (!token.id_token) {
    const detail =
      'the token response has no id_token although the scope includes openid (OIDC Core §3.1.3.3)';
    checks.push({ name: 'id_token', status: 'fail', detail });
    progress.failedStep = 'ID token validation';
    failure = {
      code: 'ID_TOKEN_MISSING',
      message: detail,
      hint: 'the IdP may not treat this client as an OpenID Connect client; check its configuration, or log in without openid in --scope',
    };
  } else {
    const jwksUri = metadata.jwks_uri;
    enter('ID token validation', jwksUri ?? issuer);
    if (!jwksUri) {
      const detail = "the IdP's metadata has no jwks_uri: the ID token's signature cannot be checked";
      checks.push({ name: 'id_token', status: 'fail', detail });
      progress.failedStep = 'ID token validation';
      failure = {
        code: 'ID_TOKEN_INVALID',
        message: detail,
        hint: 'fix the IdP: OpenID Connect Discovery requires jwks_uri',
      };
    } else {
      try {
        const v = await validateIdToken(token.id_token, {
          issuer,
          clientId: session.credentials.clientId,
          nonce,
          trustedAudiences: o.trustedAudiences,
          accessToken: token.access_token,
          code: callback.code,
          fetchJwks: () => fetchJwkSet(session.http, jwksUri),
        });
        idToken = {
          valid: true,
          header: v.header,
          claims: v.claims,
          checks: v.checks,
          jwksFetches: v.jwksFetches,
        };
        user = userOf(v.claims);
        checks.push(idTokenSummary(v));
      } catch (e) {
        if (!isMtlsOAuthError(e) || e.code !== 'ID_TOKEN_INVALID') throw e;
        const detailed = (e.details?.checks as Check[] | undefined) ?? [];
        idToken = { valid: false, checks: detailed };
        checks.push({
          name: 'id_token',
          status: 'fail',
          detail: e.message.replace(/^ID token rejected: /, ''),
        });
        progress.failedStep = 'ID token validation';
        failure = {
          code: e.code,
          message: `${e.message}; the tokens were not cached`,
          hint: e.hint,
        };
      }
    }
  }
  aborted();

  // 7. The access token's binding to our certificate (RFC 8705 §3).
  enter('binding check', session.identity ? session.identity.x5tS256 : 'no client certificate');
  // Only at an endpoint of the issuer that issued the token (token-origin.ts).
  const introspectAt = session.hasEndpoint('introspection')
    ? session.endpoint('introspection').url
    : undefined;
  const introspection =
    o.introspect !== false && introspectAt && session.belongsToIssuer(introspectAt)
      ? introspectAt
      : undefined;
  const binding = await checkTokenBinding(session.client, token, {
    idpBinds: session.idpBindsTokens ?? metadata.tls_client_certificate_bound_access_tokens === true,
    introspectionEndpoint: introspection,
  });
  checks.push({
    name: binding.name,
    status: binding.status,
    ...(binding.detail ? { detail: binding.detail } : {}),
  });
  const dpop = await checkDpopBinding(session.client, token, {
    binding,
    introspectionEndpoint: introspection,
  });
  if (dpop) checks.push(dpop);
  checks.push(...exchange.checks);
  if (!failure && dpop?.status === 'fail') {
    progress.failedStep = 'binding check';
    failure = {
      code: 'DPOP_NOT_BOUND',
      message: `the access token is not bound to our DPoP key: ${dpop.detail}`,
      hint: 'the IdP may not support DPoP for this client (dpop_signing_alg_values_supported in discovery)',
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
  let cachedIn: string | undefined;
  const key = session.cacheKey();
  const idTokenFailed = checks.some((c) => c.name === 'id_token' && c.status === 'fail');
  if (o.cache && key && !idTokenFailed) {
    const { entryFromTokenResponse } = await import('./token-cache.ts');
    const ok = o.cache.set(
      key,
      entryFromTokenResponse(token, {
        clientId: session.credentials.clientId,
        issuer: session.issuer ?? issuer,
        tokenEndpoint: tokenEndpoint.url,
        grantType: 'authorization_code',
        x5tS256: session.identity?.x5tS256,
        origins: session.origins(),
        now: obtainedAt,
      }),
    );
    if (ok) cachedIn = o.cache.file;
  }

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
function applyFapi2(r: LoginResult): void {
  const checks = fapi2LoginChecks({ authMethod: r.authMethod, checks: r.checks, pushed: !!r.par });
  r.checks.push(...checks);
  r.failure ??= profileFailure(checks);
}

/** The browser's page for a login that failed in `step` with `e` (and the IdP's OAuth error code, if any). */
function failedStepPage(step: LoginStep, e: unknown): CallbackPage {
  if (!isMtlsOAuthError(e)) return loginFailedPage(step, 'INTERNAL');
  const response = e.details?.response as { error?: unknown } | undefined;
  return loginFailedPage(step, e.code, typeof response?.error === 'string' ? response.error : undefined);
}
