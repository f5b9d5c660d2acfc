// The smoke test: one run that proves an IdP's mutual-TLS setup end to end, as a list of steps a
// person or a CI pipeline can read:
//
//   discovery                the metadata document, validated, and its mTLS analysis as checks
//   tls                      a TLS probe of each origin the plan calls with the certificate:
//                            client certificate requested? sent? accepted?
//   token                    a token: client_credentials, refresh_token or (deprecated) password
//   binding                  the access token is bound to our certificate (cnf.x5t#S256)
//   introspect               introspection: active, and bound to our certificate
//   revoke                   revocation of the access token
//   introspect-after-revoke  introspection again: inactive
//
// Each step passes, fails, warns or is skipped, with its duration and, on failure, the error and its
// hint. A step whose input an earlier step failed to produce is skipped ("needs token"). An expected
// failure (`expectFail`) inverts a step for negative tests: the IdP must refuse what it must refuse.
//
// One HttpClient for the whole run: one handshake per host and identity (the TLS probe's connection
// carries the token request that follows), every connection recorded for the report.
//
//   const report = await runSmoke({ settings, warn: console.error });
//   report.steps   // [{ name: 'discovery', status: 'pass', timeMs: 12.3, detail: '...' }, ...]
//   report.ok      // no step failed
//   report.unreachable  // set when the IdP could not be reached at all (no answer to anything)

import type { Check, CheckStatus } from './check.ts';
import {
  type AuthMethod,
  type ClientCredentials,
  defaultAuthMethod,
  parseAuthMethod,
  usesCertificate,
} from './client-auth.ts';
import { now } from './clock.ts';
import type { ResolvedSettings, Settings } from './config.ts';
import { groupByOrigin, probeEndpoint } from './diagnosis/probe.ts';
import { verdictFacts, verdictOf, worstStatus } from './diagnosis/verdict.ts';
import {
  type DiscoveryReport,
  discover,
  invalidDocumentError,
  type Metadata,
  MTLS_AUTH_METHODS,
} from './discovery/index.ts';
import {
  type CodeOfKind,
  type ErrorCode,
  type ErrorKind,
  isMtlsOAuthError,
  type MtlsOAuthError,
  usageError,
} from './errors.ts';
import { CLIENT_REFUSED, CLIENT_REFUSED_AS } from './oauth-error.ts';
import { redactJson } from './redact.ts';
import {
  chooseEndpoint,
  credentialsFor,
  type Endpoint,
  httpClientFor,
  noCertificateWarning,
  type Operation,
} from './session.ts';
import type { CachedTokens, TokenCache } from './token-cache.ts';
import {
  bindingFromIntrospection,
  checkTokenBinding,
  grantParams,
  introspectToken,
  type OAuthClient,
  revokeToken,
  type TokenResponse,
  tokenRequest,
} from './token-endpoint.ts';
import { assertCachedTokenTarget } from './token-origin.ts';
import type { ConnectionRecord } from './transport/diagnostics.ts';
import type { HttpClient } from './transport/http-client.ts';
import type { ClientIdentity } from './transport/identity.ts';

// ---------------------------------------------------------------------------------------------
// The steps and the plan

export const STEPS = [
  'discovery',
  'tls',
  'token',
  'binding',
  'introspect',
  'revoke',
  'introspect-after-revoke',
] as const;
export type StepName = (typeof STEPS)[number];

/** One line per step, for --help. */
export const STEP_SUMMARY: Record<StepName, string> = {
  discovery: 'discovery document: valid, and its mTLS analysis (auth methods, bound tokens, aliases)',
  tls: 'TLS probe of each endpoint origin used: client certificate requested, sent, accepted',
  token: 'a token: client_credentials (default), refresh_token or password',
  binding: 'the access token is bound to our certificate (cnf.x5t#S256)',
  introspect: 'introspection: active, bound to our certificate',
  revoke: 'revocation of the access token',
  'introspect-after-revoke': 'introspection after revocation: inactive',
};

/** What each step needs from earlier ones: when one of these failed (or was skipped), the step is skipped. */
const NEEDS: Record<StepName, StepName[]> = {
  discovery: [],
  tls: ['discovery'],
  token: ['discovery', 'tls'],
  binding: ['token'],
  introspect: ['token'],
  revoke: ['token'],
  'introspect-after-revoke': ['revoke'],
};

/** Steps that produce what a chosen step cannot run without: added to a --steps list. */
function dataDependencies(step: StepName, hasIssuer: boolean): StepName[] {
  switch (step) {
    case 'tls':
    case 'token':
      return hasIssuer ? ['discovery'] : [];
    case 'binding':
    case 'introspect':
    case 'revoke':
      return ['token'];
    case 'introspect-after-revoke':
      return ['revoke'];
    default:
      return [];
  }
}

const STEP_HINT = `steps: ${STEPS.join(', ')}`;

/** Parses `--steps a,b,c` (also accepts "all"). */
export function parseSteps(list: string): StepName[] {
  const names = list
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  if (names.length === 0) throw usageError('BAD_STEPS', '--steps is empty', { hint: STEP_HINT });
  if (names.includes('all')) return [...STEPS];
  for (const n of names) {
    if (!(STEPS as readonly string[]).includes(n)) {
      throw usageError('BAD_STEPS', `unknown step "${n}"`, { hint: STEP_HINT });
    }
  }
  return names as StepName[];
}

export interface ExpectFail {
  step: StepName;
  /** The error the step must fail with: an OAuth error ("invalid_client") or an error code ("TLS_CLIENT_CERT_REJECTED"). */
  error?: string;
}

/** Parses repeated `--expect-fail STEP[=ERROR]`. */
export function parseExpectFail(values: string[]): ExpectFail[] {
  const out: ExpectFail[] = [];
  for (const v of values) {
    const eq = v.indexOf('=');
    const step = (eq < 0 ? v : v.slice(0, eq)).trim().toLowerCase();
    const error = eq < 0 ? undefined : v.slice(eq + 1).trim();
    if (!(STEPS as readonly string[]).includes(step)) {
      throw usageError('BAD_EXPECT_FAIL', `--expect-fail ${v}: unknown step "${step}"`, {
        hint: `${STEP_HINT}; e.g. --expect-fail token=invalid_client`,
      });
    }
    if (error === '') {
      throw usageError('BAD_EXPECT_FAIL', `--expect-fail ${v}: the error after "=" is empty`, {
        hint: 'e.g. --expect-fail token=invalid_client, or --expect-fail token for any failure',
      });
    }
    if (out.some((x) => x.step === step)) {
      throw usageError('BAD_EXPECT_FAIL', `--expect-fail names step "${step}" twice`);
    }
    out.push({ step: step as StepName, ...(error ? { error } : {}) });
  }
  return out;
}

/**
 * The steps to run, in order. Without a choice: every step (discovery only with an issuer). A
 * chosen step brings along the steps that produce its input (token for introspect, revoke for
 * introspect-after-revoke, discovery when endpoints come from the issuer).
 */
export function planSteps(chosen: StepName[] | undefined, settings: Settings): StepName[] {
  const hasIssuer = !!settings.issuer;
  if (!chosen) return STEPS.filter((s) => s !== 'discovery' || hasIssuer);
  if (chosen.includes('discovery') && !hasIssuer) {
    throw usageError('MISSING_ISSUER', 'the discovery step needs --issuer URL', {
      hint: 'give --issuer (or MTLS_OAUTH_ISSUER), or leave discovery out of --steps',
    });
  }
  const wanted = new Set<StepName>();
  const add = (s: StepName) => {
    if (wanted.has(s)) return;
    wanted.add(s);
    for (const d of dataDependencies(s, hasIssuer)) add(d);
  };
  for (const s of chosen) add(s);
  return STEPS.filter((s) => wanted.has(s));
}

// ---------------------------------------------------------------------------------------------
// Results

/** A step's status is a check's. */
export type StepStatus = CheckStatus;

export interface StepError {
  code: ErrorCode;
  kind: ErrorKind;
  message: string;
  hint?: string;
  /** The OAuth error the IdP answered with (RFC 6749 §5.2), if it did. */
  oauthError?: string;
  /** The IdP's error response as received. */
  response?: unknown;
}

export interface StepResult {
  name: StepName;
  status: StepStatus;
  /** Wall time of the step in milliseconds (0 for a skipped step). */
  timeMs: number;
  detail: string;
  hint?: string;
  /** The failure (for an expected failure too). */
  error?: StepError;
  /** --expect-fail for this step, and whether the expectation held. */
  expected?: { error?: string; met: boolean };
  /** Finer checks: the discovery analysis, one per probed origin, the token response's. */
  checks?: Check[];
  /** Machine-readable details: the IdP's responses as received, secrets redacted unless asked. */
  data?: Record<string, unknown>;
}

export type SmokeGrant = 'client_credentials' | 'refresh_token' | 'password';
export const SMOKE_GRANTS: SmokeGrant[] = ['client_credentials', 'refresh_token', 'password'];

export interface SmokeReport {
  /** The issuer (--issuer), when discovery was used. */
  issuer?: string;
  /** The client_id ('' when no step needed one and none was given). */
  clientId: string;
  authMethod: AuthMethod;
  grant: SmokeGrant;
  identity: { subject: string; issuer: string; x5tS256: string; source: string } | null;
  /** The endpoints used with the certificate (or without, when none is configured). */
  endpoints: Partial<Record<'token' | 'introspection' | 'revocation', Endpoint>>;
  steps: StepResult[];
  /** No step failed (warnings and skips do not fail a run). */
  ok: boolean;
  /** Set when the IdP could not be reached at all: the run's first failure was a network error and nothing ever answered. */
  unreachable?: { code: ErrorCode; message: string; hint?: string; step: StepName };
  /** Every connection made, in order. */
  connections: ConnectionRecord[];
  timeMs: number;
}

export interface SmokeOptions {
  settings: Settings;
  /** Steps chosen (--steps); default all. Dependencies are added (planSteps). */
  steps?: StepName[];
  expectFail?: ExpectFail[];
  /** Default client_credentials. */
  grant?: SmokeGrant;
  /** refresh_token grant: the refresh token and where it came from (see refreshTokenFor). */
  refreshToken?: CachedRefreshToken;
  /** Where each setting came from (resolveSettings), to label endpoints with their real source. */
  sources?: ResolvedSettings['sources'];
  /** password grant: the user and the password. */
  username?: string;
  password?: string;
  /** RFC 8707 resource, audience, extra token request parameters. */
  resource?: string;
  audience?: string;
  extra?: Record<string, string>;
  /** The token cache: after a refresh, a rotated refresh token is stored there (never the access token, which the run revokes). */
  cache?: TokenCache;
  /** Tokens in full in the report's data (else redacted, redact.ts). */
  showSecrets?: boolean;
  /** Verbose sink for requests, responses and connections (secrets redacted). */
  log?: (line: string) => void;
  warn?: (message: string) => void;
  /** Called as each step starts (progress). */
  onStep?: (step: StepName) => void;
  /** Transport overrides (tests): e.g. a lookup function. */
  http?: Partial<import('./transport/http-client.ts').HttpClientOptions>;
}

// ---------------------------------------------------------------------------------------------
// The refresh token for the refresh_token grant

/** A refresh token and where it came from; `cached`: the cache entry it was read from. */
export interface CachedRefreshToken {
  token: string;
  source: string;
  cached?: { key: string; entry: CachedTokens };
}

/**
 * The refresh token for `grant refresh_token`: from the environment variable named by
 * --refresh-token-env, else the token cache: the newest entry of this client at this issuer (and
 * token endpoint, when one is set). Its key is only known once discovery names the token endpoint,
 * so the entry is found by what it records; stepToken sends it only to the issuer's origins
 * (token-origin.ts). A usage error when there is none.
 */
export function refreshTokenFor(o: {
  envVar?: string;
  env?: NodeJS.ProcessEnv;
  cache?: TokenCache;
  settings: Settings;
  /** x5t#S256 of the certificate this run uses: a cached token from another one gets a warning. */
  x5tS256?: string;
  warn?: (message: string) => void;
}): CachedRefreshToken {
  const env = o.env ?? process.env;
  if (o.envVar) {
    const v = env[o.envVar]?.trim();
    if (!v) {
      throw usageError(
        'NO_REFRESH_TOKEN',
        `--refresh-token-env ${o.envVar}: the variable is not set or empty`,
        {
          hint: `export ${o.envVar}=... (in CI, from the secret store)`,
        },
      );
    }
    return { token: v, source: `environment variable ${o.envVar}` };
  }
  const { issuer, tokenEndpoint, clientId } = o.settings;
  const found =
    o.cache && clientId && (issuer || tokenEndpoint)
      ? o.cache.find(
          (e) =>
            e.client_id === clientId &&
            !!e.refresh_token &&
            (issuer ? e.issuer === issuer : !e.issuer) &&
            (!tokenEndpoint || e.token_endpoint === tokenEndpoint),
        )[0]
      : undefined;
  if (!found) {
    throw usageError(
      'NO_REFRESH_TOKEN',
      `the refresh_token grant needs a refresh token, and ${o.cache ? `the token cache (${o.cache.file}) has none for client ${clientId ?? '?'}` : '--no-cache leaves only --refresh-token-env'}`,
      {
        hint: 'pass --refresh-token-env VAR naming an environment variable that holds it, or get one first with `mtls-oauth login` (scope offline_access): it is cached',
      },
    );
  }
  const [key, entry] = found;
  if (entry.x5t_s256 && o.x5tS256 && entry.x5t_s256 !== o.x5tS256) {
    o.warn?.(
      `the cached refresh token was obtained with another client certificate (x5t#S256 ${entry.x5t_s256}): a certificate-bound refresh token works only with that certificate`,
    );
  }
  return { token: entry.refresh_token!, source: `token cache ${o.cache!.file}`, cached: { key, entry } };
}

// ---------------------------------------------------------------------------------------------
// Running

interface StepOutcome {
  status: StepStatus;
  detail: string;
  hint?: string;
  /** The step produced what later steps need. */
  ok: boolean;
  error?: StepError;
  checks?: Check[];
  data?: Record<string, unknown>;
}

interface RunState {
  o: SmokeOptions;
  http: HttpClient;
  client: OAuthClient;
  identity?: ClientIdentity;
  metadata?: Metadata;
  discovery?: DiscoveryReport;
  token?: TokenResponse;
  plan: StepName[];
  /** Steps the user named (an IdP without the endpoint fails them instead of skipping). */
  explicit: Set<StepName>;
  redact: <T>(v: T) => T;
}

const worst = (statuses: StepStatus[]): StepStatus =>
  statuses.includes('fail')
    ? 'fail'
    : statuses.includes('warn')
      ? 'warn'
      : statuses.every((s) => s === 'skip') && statuses.length > 0
        ? 'skip'
        : 'pass';

/** A failure as a step error (the IdP's OAuth error picked out). */
function stepError(e: MtlsOAuthError): StepError {
  const response = e.details?.response as { error?: unknown } | undefined;
  const oauth = e.kind === 'oauth' && typeof response?.error === 'string' ? response.error : undefined;
  return {
    code: e.code,
    kind: e.kind,
    message: e.message,
    ...(e.hint ? { hint: e.hint } : {}),
    ...(oauth ? { oauthError: oauth, response } : {}),
  };
}

function failed(e: MtlsOAuthError, extra: Partial<StepOutcome> = {}): StepOutcome {
  return { status: 'fail', detail: e.message, hint: e.hint, ok: false, error: stepError(e), ...extra };
}

/** A check failure (not an exception) with a code --expect-fail can name. */
function checkFailure(code: CodeOfKind<'check'>, message: string, hint?: string): StepError {
  return { code, kind: 'check', message, ...(hint ? { hint } : {}) };
}

function errorMatches(err: StepError | undefined, expected: string): boolean {
  if (!err) return false;
  const want = expected.toLowerCase();
  // A bare HTTP 401/403 is the IdP refusing the client: it meets an expected invalid_client.
  const refused = err.code === CLIENT_REFUSED ? CLIENT_REFUSED_AS : undefined;
  const names = [err.code, err.oauthError, refused]
    .filter((x): x is string => !!x)
    .map((x) => x.toLowerCase());
  return names.includes(want) || names.includes(`oauth_${want.replace(/[^a-z0-9]+/g, '_')}`);
}

function endpointOf(st: RunState, op: Operation): Endpoint | undefined {
  return chooseEndpoint(op, {
    settings: st.o.settings,
    metadata: st.metadata,
    withClientCert: !!st.identity,
    sources: st.o.sources,
  });
}

function noEndpoint(st: RunState, step: StepName, op: Operation): StepOutcome {
  const flag = `--${op}-endpoint`;
  const where = st.metadata ? `the IdP's metadata has no ${op}_endpoint` : `no ${op} endpoint (${flag})`;
  if (st.explicit.has(step)) {
    const e = usageError('NO_ENDPOINT', `${where}`, {
      hint: st.metadata
        ? `the IdP may not support ${op}; if it does, give the URL with ${flag} URL`
        : `give ${flag} URL, or --issuer for discovery`,
    });
    return failed(e);
  }
  return { status: 'skip', detail: `${where}: nothing to call`, ok: false };
}

const describeEndpoint = (e: Endpoint) =>
  `${e.url}${e.via === 'mtls alias' ? ' (mtls alias)' : e.via === 'setting' ? ` (${e.source ?? 'setting'})` : ''}`;

// --- discovery

async function stepDiscovery(st: RunState): Promise<StepOutcome> {
  const issuer = st.o.settings.issuer!;
  const report = await discover(st.http, issuer, { jwks: false });
  st.discovery = report;
  const data = {
    documentUrl: report.documentUrl,
    document: report.document,
  };
  if (!report.valid || !report.metadata) {
    return failed(invalidDocumentError(report), { checks: report.checks, data });
  }
  st.metadata = report.metadata;
  const a = report.analysis!;
  const methods = (a.clientAuth.token.methods ?? []).filter((m) =>
    (MTLS_AUTH_METHODS as readonly string[]).includes(m),
  );
  const facts = [
    methods.length ? methods.join(' + ') : 'no mTLS client authentication advertised',
    // Not advertised is not "not bound": the binding step reads the token itself.
    a.certificateBoundAccessTokens ? 'certificate-bound tokens' : 'certificate-bound tokens not advertised',
    a.hasAliases ? 'mtls_endpoint_aliases' : 'no mtls_endpoint_aliases',
  ];
  const warnings = report.checks.filter((c) => c.status === 'warn').length;
  const status = worst(report.checks.map((c) => c.status));
  return {
    status: status === 'skip' ? 'pass' : status,
    detail: `${facts.join(', ')}${warnings ? ` (${warnings} warning${warnings > 1 ? 's' : ''})` : ''}`,
    ok: true,
    checks: report.checks,
    data,
  };
}

// --- tls

async function stepTls(st: RunState): Promise<StepOutcome> {
  const ops: Operation[] = ['token'];
  if (st.plan.includes('introspect') || st.plan.includes('introspect-after-revoke'))
    ops.push('introspection');
  if (st.plan.includes('revoke')) ops.push('revocation');
  const groups = groupByOrigin(ops.map((op) => ({ name: op, url: endpointOf(st, op)?.url })));
  if (groups.length === 0) {
    return { status: 'skip', detail: 'no endpoint to probe', ok: true };
  }
  const probes = [];
  for (const g of groups) {
    const p = await probeEndpoint(st.http, g.url);
    probes.push({ ...g, ...p, verdict: verdictOf(p) });
  }
  const checks: Check[] = probes.map((p) => ({
    name: `${p.origin} (${p.names.join(', ')})`,
    status: p.verdict.status,
    detail: p.verdict.summary,
  }));
  const data = {
    probes: probes.map((p) => ({
      origin: p.origin,
      url: p.url,
      operations: p.names,
      status: p.status ?? null,
      verdict: verdictFacts(p.verdict),
      ...(p.error ? { error: { code: p.error.code, message: p.error.message, hint: p.error.hint } } : {}),
      connection: p.record ?? null,
    })),
  };
  const firstFail = probes.find((p) => p.error);
  if (firstFail?.error) {
    const e = firstFail.error;
    return {
      ...failed(e, { checks, data }),
      detail: probes.length > 1 ? `${firstFail.origin}: ${e.message}` : e.message,
    };
  }
  const warned = probes.find((p) => p.verdict.status === 'warn');
  const detail =
    probes.length === 1
      ? probes[0].verdict.summary
      : `${probes.length} origins: ${probes.map((p) => `${p.origin} ${p.verdict.status}${p.verdict.code ? ` (${p.verdict.code})` : ''}`).join(', ')}`;
  return {
    status: worstStatus(checks.map((c) => c.status)),
    detail,
    ...(warned?.verdict.hint ? { hint: warned.verdict.hint } : {}),
    ok: true,
    checks,
    data,
  };
}

// --- token

async function stepToken(st: RunState): Promise<StepOutcome> {
  const { o } = st;
  const grant = o.grant ?? 'client_credentials';
  const endpoint = endpointOf(st, 'token');
  if (!endpoint) return noEndpoint(st, 'token', 'token');
  if (grant === 'refresh_token' && o.refreshToken?.cached) {
    assertCachedTokenTarget(o.refreshToken.cached.entry, endpoint, {
      what: 'refresh token',
      issuer: st.metadata?.issuer,
      metadata: st.metadata,
    });
  }
  const params = tokenParams(o);
  const { token, checks } = await tokenRequest(st.client, endpoint.url, params);
  st.token = token;
  const allChecks: Check[] = [...checks];
  if (grant === 'password') {
    allChecks.push({
      name: 'password grant',
      status: 'warn',
      detail: 'deprecated: RFC 9700 §2.4 says the password grant MUST NOT be used',
    });
  }
  const cached = grant === 'refresh_token' ? o.refreshToken?.cached : undefined;
  if (cached && o.cache) {
    // Keep a rotated refresh token; the access token is not cached (this run revokes it).
    const rotated = token.refresh_token;
    if (rotated && rotated !== o.refreshToken?.token) {
      o.cache.update(cached.key, (current) =>
        current
          ? { ...current, refresh_token: rotated, ...(token.id_token ? { id_token: token.id_token } : {}) }
          : current,
      );
      allChecks.push({
        name: 'refresh token',
        status: 'pass',
        detail: `rotated; the new one is in ${o.cache.file}`,
      });
    }
  }
  const facts = [
    `${grant}: ${token.token_type}`,
    typeof token.expires_in === 'number' ? `expires in ${token.expires_in} s` : undefined,
    token.scope ? `scope "${token.scope}"` : undefined,
    token.refresh_token ? 'with a refresh token' : undefined,
    `from ${describeEndpoint(endpoint)}`,
  ].filter(Boolean);
  const status = worst(allChecks.map((c) => c.status));
  return {
    status: status === 'skip' ? 'pass' : status,
    detail: facts.join(', '),
    ok: true,
    checks: allChecks,
    data: { endpoint, grant, response: st.redact(token) },
  };
}

/** The token request's parameters (usage errors for missing inputs, before anything is sent). */
export function tokenParams(o: SmokeOptions): Record<string, string | undefined> {
  return grantParams({
    grant: o.grant ?? 'client_credentials',
    scope: o.settings.scope,
    resource: o.resource,
    audience: o.audience,
    refreshToken: o.refreshToken?.token,
    username: o.username,
    password: o.password,
    extra: o.extra,
  });
}

// --- binding

async function stepBinding(st: RunState): Promise<StepOutcome> {
  const introspection = endpointOf(st, 'introspection');
  const b = await checkTokenBinding(st.client, st.token!, {
    idpBinds: st.metadata ? st.metadata.tls_client_certificate_bound_access_tokens === true : undefined,
    introspectionEndpoint: introspection?.url,
  });
  const detail = b.detail ?? b.status;
  const hint =
    'the IdP bound the token to a certificate other than the one presented: is a proxy in front of the IdP terminating TLS with its own client certificate?';
  return {
    status: b.status,
    detail,
    ok: true,
    ...(b.status === 'fail' ? { error: checkFailure('BINDING_MISMATCH', detail, hint), hint } : {}),
    data: { source: b.source ?? null, boundTo: b.boundTo ?? null, expected: st.identity?.x5tS256 ?? null },
  };
}

// --- introspection and revocation

async function stepIntrospect(st: RunState, after: boolean): Promise<StepOutcome> {
  const name: StepName = after ? 'introspect-after-revoke' : 'introspect';
  const endpoint = endpointOf(st, 'introspection');
  if (!endpoint) return noEndpoint(st, name, 'introspection');
  const { response } = await introspectToken(st.client, endpoint.url, st.token!.access_token, 'access_token');
  const data = { endpoint, response: st.redact(response) };
  if (after) {
    if (response.active) {
      const hint =
        'revocation answered 200 but the token is still active: the IdP may not revoke this kind of token (self-contained JWT access tokens often stay valid until they expire), or introspection reads a stale replica';
      const message = 'the access token is still active after revocation';
      return {
        status: 'fail',
        detail: message,
        hint,
        ok: true,
        error: checkFailure('STILL_ACTIVE', message, hint),
        data,
      };
    }
    return { status: 'pass', detail: 'inactive (active: false)', ok: true, data };
  }
  if (!response.active) {
    const hint =
      'a token issued a moment ago should be active: the IdP may not introspect this kind of token (some cannot introspect JWT access tokens), or introspection needs other permissions for this client';
    const message = 'the IdP says the new access token is not active';
    return {
      status: 'fail',
      detail: message,
      hint,
      ok: false,
      error: checkFailure('TOKEN_INACTIVE', message, hint),
      data,
    };
  }
  const b = bindingFromIntrospection(response, {
    expected: st.identity?.x5tS256,
    idpBinds: st.metadata ? st.metadata.tls_client_certificate_bound_access_tokens === true : undefined,
  });
  const who = typeof response.client_id === 'string' ? `, client_id ${response.client_id}` : '';
  const status: StepStatus = b.status === 'skip' ? 'pass' : b.status;
  const detail = `active${who}; ${b.detail ?? ''}`.replace(/; $/, '');
  return {
    status,
    detail,
    ok: true,
    ...(status === 'fail' ? { error: checkFailure('BINDING_MISMATCH', detail) } : {}),
    checks: [{ name: b.name, status: b.status, ...(b.detail ? { detail: b.detail } : {}) }],
    data,
  };
}

async function stepRevoke(st: RunState): Promise<StepOutcome> {
  const endpoint = endpointOf(st, 'revocation');
  if (!endpoint) return noEndpoint(st, 'revoke', 'revocation');
  const r = await revokeToken(st.client, endpoint.url, st.token!.access_token, 'access_token');
  return {
    status: 'pass',
    detail: `access token revoked (HTTP ${r.status} from ${describeEndpoint(endpoint)})`,
    ok: true,
    data: { endpoint, status: r.status },
  };
}

const RUN: Record<StepName, (st: RunState) => Promise<StepOutcome>> = {
  discovery: stepDiscovery,
  tls: stepTls,
  token: stepToken,
  binding: stepBinding,
  introspect: (st) => stepIntrospect(st, false),
  revoke: stepRevoke,
  'introspect-after-revoke': (st) => stepIntrospect(st, true),
};

/** Applies --expect-fail to a step's outcome. */
function applyExpectation(out: StepOutcome, expect: ExpectFail | undefined, skippedByNeeds: boolean) {
  if (!expect) return { ...out, expected: undefined };
  const want = expect.error ? ` with ${expect.error}` : '';
  if (skippedByNeeds) return { ...out, expected: { ...expect, met: false } };
  if (out.status === 'fail') {
    if (!expect.error || errorMatches(out.error, expect.error)) {
      return {
        ...out,
        status: 'pass' as const,
        detail: `failed as expected: ${out.detail}`,
        hint: undefined,
        expected: { ...expect, met: true },
      };
    }
    const got = out.error?.oauthError ?? out.error?.code ?? 'a failure';
    return {
      ...out,
      detail: `expected to fail${want}, but failed with ${got}: ${out.detail}`,
      expected: { ...expect, met: false },
    };
  }
  const hint =
    expect.step === 'token'
      ? 'the IdP issued a token it was expected to refuse: check the client registration (subject DN, trusted CAs) and the IdP’s mTLS settings'
      : 'the IdP accepted what this run expected it to refuse';
  return {
    ...out,
    status: 'fail' as const,
    detail: `expected to fail${want}, but ${out.status === 'skip' ? 'it was skipped' : 'it succeeded'}: ${out.detail}`,
    hint,
    error: checkFailure('EXPECTED_FAILURE', `expected to fail${want}`, hint),
    expected: { ...expect, met: false },
  };
}

/** Runs the smoke test. Usage errors (bad settings, unreadable certificate) throw before any request. */
export async function runSmoke(o: SmokeOptions): Promise<SmokeReport> {
  const started = now();
  const { settings } = o;
  const plan = planSteps(o.steps, settings);
  const expectations = new Map((o.expectFail ?? []).map((x) => [x.step, x]));
  for (const step of expectations.keys()) {
    if (!plan.includes(step)) {
      throw usageError('BAD_EXPECT_FAIL', `--expect-fail ${step}: that step is not in this run`, {
        hint: `the run's steps: ${plan.join(', ')}`,
      });
    }
  }
  if (!settings.issuer && !settings.tokenEndpoint) {
    throw usageError('NO_ENDPOINT', 'no IdP: pass --issuer URL (discovery) or --token-endpoint URL', {
      hint: 'e.g. --issuer https://idp.example.com (or MTLS_OAUTH_ISSUER)',
    });
  }
  const grant = o.grant ?? 'client_credentials';
  if (!SMOKE_GRANTS.includes(grant)) {
    throw usageError('UNKNOWN_GRANT', `smoke cannot use the grant "${grant}"`, {
      hint: `use one of: ${SMOKE_GRANTS.join(', ')} (authorization_code needs a person: \`mtls-oauth login\`)`,
    });
  }
  // Every input is checked before the first request. Without a token step (--steps discovery,tls)
  // no client credentials are needed.
  const needsClient = plan.includes('token');
  if (needsClient) tokenParams(o);
  if (needsClient && grant === 'password') {
    o.warn?.(
      'the resource owner password credentials grant is deprecated: RFC 9700 (OAuth 2.0 Security BCP) §2.4 says it MUST NOT be used. It is supported here because gateways such as Kong still offer it',
    );
  }

  const { loadClientIdentity } = await import('./transport/identity.ts');
  const identity = await loadClientIdentity(settings);
  const credentials: ClientCredentials = needsClient
    ? await credentialsFor(settings, !!identity)
    : {
        clientId: settings.clientId ?? '',
        method: settings.auth
          ? parseAuthMethod(settings.auth)
          : defaultAuthMethod({
              hasCertificate: !!identity,
              hasSecret: !!settings.clientSecret,
              hasSigningKey: !!settings.signingKey,
            }),
      };
  if (needsClient && usesCertificate(credentials.method) && !identity)
    o.warn?.(noCertificateWarning(credentials.method));
  const { HttpClient } = await import('./transport/http-client.ts');
  const http = httpClientFor(HttpClient, settings, identity, o);
  const st: RunState = {
    o,
    http,
    client: { http, credentials, identity },
    identity,
    plan,
    explicit: new Set(o.steps ?? []),
    redact: <T>(v: T) => (o.showSecrets ? v : (redactJson(v) as T)),
  };

  const results: StepResult[] = [];
  const done = new Map<StepName, StepOutcome>();
  try {
    for (const name of plan) {
      const blocker = NEEDS[name].find((d) => plan.includes(d) && !done.get(d)?.ok);
      let out: StepOutcome;
      let timeMs = 0;
      if (blocker) {
        const b = results.find((r) => r.name === blocker);
        const why = b?.expected?.met
          ? ', which failed as expected'
          : b?.status === 'skip'
            ? ', which was skipped'
            : '';
        out = { status: 'skip', detail: `needs ${blocker}${why}`, ok: false };
      } else {
        o.onStep?.(name);
        const t0 = now();
        try {
          out = await RUN[name](st);
        } catch (e) {
          if (!isMtlsOAuthError(e) || e.kind === 'internal' || e.kind === 'interrupted') throw e;
          out = failed(e);
        }
        timeMs = now() - t0;
      }
      done.set(name, out);
      const x = applyExpectation(out, expectations.get(name), !!blocker);
      results.push({
        name,
        status: x.status,
        timeMs: Math.round(timeMs * 10) / 10,
        detail: x.detail,
        ...(x.hint ? { hint: x.hint } : {}),
        ...(x.error ? { error: x.error } : {}),
        ...(x.expected ? { expected: x.expected } : {}),
        ...(x.checks ? { checks: x.checks } : {}),
        ...(x.data ? { data: x.data } : {}),
      });
    }
  } finally {
    await http.close();
  }

  const report: SmokeReport = {
    ...(settings.issuer ? { issuer: settings.issuer } : {}),
    clientId: credentials.clientId,
    authMethod: credentials.method,
    grant,
    identity: identity
      ? {
          subject: identity.subjectDn,
          issuer: identity.issuerDn,
          x5tS256: identity.x5tS256,
          source: identity.source,
        }
      : null,
    endpoints: {},
    steps: results,
    ok: !results.some((r) => r.status === 'fail'),
    connections: http.connections,
    timeMs: Math.round((now() - started) * 10) / 10,
  };
  for (const op of ['token', 'introspection', 'revocation'] as const) {
    const e = endpointOf(st, op);
    if (e) report.endpoints[op] = e;
  }
  // Unreachable: the first failure is a network error and the IdP never answered anything.
  const answered = http.connections.some((c) => (c.requests ?? 0) > 0);
  const first = results.find((r) => r.status === 'fail');
  if (
    !answered &&
    first?.error &&
    !first.expected &&
    (first.error.kind === 'network' || first.error.kind === 'timeout')
  ) {
    report.unreachable = {
      code: first.error.code,
      message: first.error.message,
      ...(first.error.hint ? { hint: first.error.hint } : {}),
      step: first.name,
    };
  }
  return report;
}
