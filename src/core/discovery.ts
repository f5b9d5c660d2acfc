// Discovery (RFC 8414, OpenID Connect Discovery 1.0): find the IdP's metadata document at the
// well-known locations, validate it against the issuer that was asked for, fetch its JWKS, and
// analyse what it means for mutual TLS (discovery/mtls.ts).
//
// Discovery and JWKS requests never present the client certificate (withClientCert: false): they
// are public documents, and an alias-aware IdP may serve them from a host that does not ask for one.

import type { JSONWebKeySet } from 'jose';
import type { Check } from './check.ts';
import {
  isLoopbackHost,
  type LocationKind,
  type Metadata,
  urlProblem,
  validateMetadata,
} from './discovery/metadata.ts';
import { analyzeMtls, type MtlsAnalysis } from './discovery/mtls.ts';
import { type ErrorCode, isMtlsOAuthError, MtlsOAuthError, usageError } from './errors.ts';

export * from './discovery/metadata.ts';
export * from './discovery/mtls.ts';

// ---------------------------------------------------------------------------------------------
// Locations

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

const ISSUER_HINT =
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

// ---------------------------------------------------------------------------------------------
// Fetching

/** The part of the transport's HttpClient that discovery uses (src/core/transport/http-client.ts). */
export interface DiscoveryHttp {
  request(opts: {
    url: string;
    method?: 'GET';
    withClientCert?: boolean;
    expectJson?: boolean;
    step?: string;
  }): Promise<{ status: number; headers: Record<string, string>; text: string; json?: unknown; url: string }>;
}

export interface Attempt {
  url: string;
  kind: LocationKind;
  /** HTTP status, when the server answered */
  status?: number;
  outcome: 'found' | 'http-status' | 'not-json' | 'too-large';
  detail?: string;
}

export interface JwkSummary {
  kid?: string;
  kty?: string;
  alg?: string;
  use?: string;
  crv?: string;
  /** RSA modulus size in bits */
  bits?: number;
  x5c?: boolean;
}

export interface JwksSummary {
  uri: string;
  keys: JwkSummary[];
  error?: { code: ErrorCode; message: string };
}

export interface DiscoveryReport {
  /** The issuer the document must name (as given, or derived from a document URL). */
  issuer: string;
  /** Where the document was found. */
  documentUrl: string;
  location: LocationKind;
  /** Every location tried, in order. */
  attempts: Attempt[];
  /** The document as received. */
  document: unknown;
  contentType?: string;
  valid: boolean;
  /** Validation, mTLS and JWKS checks, in that order. */
  checks: Check[];
  /** The document with members of a wrong type removed (absent when it is not an object with an issuer). */
  metadata?: Metadata;
  analysis?: MtlsAnalysis;
  jwks?: JwksSummary;
}

const CONTINUE = new Set(['NOT_JSON', 'RESPONSE_TOO_LARGE']);

function summarizeJwk(k: unknown): JwkSummary {
  const o = (k && typeof k === 'object' ? k : {}) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const s: JwkSummary = {
    kid: str(o.kid),
    kty: str(o.kty),
    alg: str(o.alg),
    use: str(o.use),
    crv: str(o.crv),
  };
  if (o.kty === 'RSA' && typeof o.n === 'string') {
    const n = Buffer.from(o.n, 'base64url');
    s.bits = (n.length - (n[0] === 0 ? 1 : 0)) * 8;
  }
  if (Array.isArray(o.x5c) && o.x5c.length) s.x5c = true;
  for (const key of Object.keys(s) as Array<keyof JwkSummary>) if (s[key] === undefined) delete s[key];
  return s;
}

/**
 * The one JWKS fetcher: the issuer's JWK Set over our own transport, without the client
 * certificate (a public document). Throws JWKS_HTTP_STATUS for an HTTP error (JSON or not) and
 * JWKS_INVALID for a document without a "keys" array; transport failures as they come.
 */
export async function fetchJwkSet(http: DiscoveryHttp, uri: string): Promise<JSONWebKeySet> {
  const httpStatus = (status: number) =>
    new MtlsOAuthError('network', 'JWKS_HTTP_STATUS', `JWKS: HTTP ${status} from ${uri}`, {
      hint: "the IdP's keys are not there: check jwks_uri in the discovery document",
      details: { status, url: uri },
    });
  let res: Awaited<ReturnType<DiscoveryHttp['request']>>;
  try {
    res = await http.request({ url: uri, method: 'GET', withClientCert: false, step: 'JWKS' });
  } catch (e) {
    const status = isMtlsOAuthError(e) ? e.details?.status : undefined;
    if (isMtlsOAuthError(e) && e.code === 'NOT_JSON' && typeof status === 'number' && status !== 200) {
      throw httpStatus(status);
    }
    throw e;
  }
  if (res.status !== 200) throw httpStatus(res.status);
  const body = res.json as { keys?: unknown } | undefined;
  if (!body || typeof body !== 'object' || Array.isArray(body) || !Array.isArray(body.keys)) {
    throw new MtlsOAuthError(
      'check',
      'JWKS_INVALID',
      `JWKS: ${uri} does not hold a JWK Set (no "keys" array)`,
      {
        hint: 'jwks_uri must point at a JSON Web Key Set (RFC 7517 §5)',
        details: { url: uri },
      },
    );
  }
  return body as JSONWebKeySet;
}

/** Fetches a JWKS and lists its keys; failures are reported in `error`, not thrown. */
export async function fetchJwks(http: DiscoveryHttp, uri: string): Promise<JwksSummary> {
  try {
    const set = await fetchJwkSet(http, uri);
    return { uri, keys: set.keys.map(summarizeJwk) };
  } catch (e) {
    if (!isMtlsOAuthError(e)) throw e;
    return { uri, keys: [], error: { code: e.code, message: e.message.replace(/^JWKS: /, '') } };
  }
}

function notFound(issuer: string, attempts: Attempt[]): MtlsOAuthError {
  const tried = attempts.map((a) => `${a.url} → ${a.detail ?? a.outcome}`).join('; ');
  return new MtlsOAuthError(
    'network',
    'DISCOVERY_NOT_FOUND',
    `no discovery document for ${issuer}: ${tried}`,
    {
      hint: `check the issuer URL (${ISSUER_HINT}); for an IdP without discovery, give the endpoints directly (--token-endpoint ...)`,
      details: { issuer, attempts },
    },
  );
}

/**
 * Finds, validates and analyses an issuer's metadata. Validation failures are in the report
 * (`valid: false`), not thrown; no document at any location, a transport or TLS failure, or a
 * location that answers with something other than JSON throw MtlsOAuthError.
 */
export async function discover(
  http: DiscoveryHttp,
  issuerInput: string,
  opts: { jwks?: boolean } = {},
): Promise<DiscoveryReport> {
  const input = parseIssuerInput(issuerInput);
  const locations = input.document ? [input.document] : wellKnownUrls(input.issuer);
  const attempts: Attempt[] = [];
  let firstBadBody: MtlsOAuthError | undefined;

  for (const loc of locations) {
    let res: Awaited<ReturnType<DiscoveryHttp['request']>>;
    try {
      res = await http.request({ url: loc.url, method: 'GET', withClientCert: false, step: 'discovery' });
    } catch (e) {
      if (!isMtlsOAuthError(e) || !CONTINUE.has(e.code)) throw e;
      const status = typeof e.details?.status === 'number' ? e.details.status : undefined;
      if (e.code === 'NOT_JSON' && status !== undefined && status !== 200) {
        // An error page: this location has no document.
        attempts.push({
          url: loc.url,
          kind: loc.kind,
          status,
          outcome: 'http-status',
          detail: `HTTP ${status}`,
        });
        continue;
      }
      attempts.push({
        url: loc.url,
        kind: loc.kind,
        status,
        outcome: e.code === 'NOT_JSON' ? 'not-json' : 'too-large',
        detail: e.message,
      });
      firstBadBody ??= e;
      continue;
    }
    if (res.status !== 200) {
      const location = res.headers.location ? ` → ${res.headers.location}` : '';
      attempts.push({
        url: loc.url,
        kind: loc.kind,
        status: res.status,
        outcome: 'http-status',
        detail: `HTTP ${res.status}${location}`,
      });
      continue;
    }
    attempts.push({ url: loc.url, kind: loc.kind, status: 200, outcome: 'found' });
    return analyse(http, input, loc, attempts, res.json, res.headers['content-type'], opts);
  }
  if (firstBadBody) {
    throw new MtlsOAuthError(firstBadBody.kind, firstBadBody.code, firstBadBody.message, {
      hint:
        firstBadBody.code === 'NOT_JSON'
          ? `no JSON discovery document there: a web page usually means the issuer URL is not the IdP's issuer identifier, or a proxy or login page is in the way (${ISSUER_HINT})`
          : 'a discovery document is a few kilobytes: the issuer URL probably points somewhere else',
      details: { ...firstBadBody.details, issuer: input.issuer, attempts },
      cause: firstBadBody,
    });
  }
  throw notFound(input.issuer, attempts);
}

async function analyse(
  http: DiscoveryHttp,
  input: IssuerInput,
  loc: WellKnownLocation,
  attempts: Attempt[],
  document: unknown,
  contentType: string | undefined,
  opts: { jwks?: boolean },
): Promise<DiscoveryReport> {
  // Given a document URL, both the issuer with and without a trailing "/" build it.
  const docIssuer = (document as { issuer?: unknown } | null)?.issuer;
  const issuer =
    input.candidates && typeof docIssuer === 'string' && input.candidates.includes(docIssuer)
      ? docIssuer
      : input.issuer;
  const v = validateMetadata(document, issuer, loc.kind);
  const isObject = v.checks[0]?.name !== 'document'; // validateMetadata's first check fails a non-object
  const checks: Check[] = isObject
    ? [{ name: 'document', status: 'pass', detail: `found at ${loc.url}` }, ...v.checks]
    : [{ ...v.checks[0], detail: `${loc.url}: ${v.checks[0].detail}` }, ...v.checks.slice(1)];
  if (isObject && contentType !== undefined && !/^application\/json\b/i.test(contentType)) {
    checks.push({
      name: 'content type',
      status: 'warn',
      detail: `served as "${contentType}", not application/json`,
    });
  }
  if (loc.kind === 'rfc8414-appended') {
    checks.push({
      name: 'location',
      status: 'warn',
      detail: `found only at the non-standard ${loc.url}; RFC 8414 puts it at ${wellKnownUrls(issuer)[1].url}`,
    });
  }
  const report: DiscoveryReport = {
    issuer,
    documentUrl: loc.url,
    location: loc.kind,
    attempts,
    document,
    contentType,
    valid: v.valid,
    checks,
    metadata: v.metadata,
  };
  if (!v.metadata) return report;
  report.analysis = analyzeMtls(v.metadata, v.invalidMembers);
  checks.push(...report.analysis.checks);

  const jwksUri = v.metadata.jwks_uri;
  if (opts.jwks !== false && typeof jwksUri === 'string' && !urlProblem(jwksUri)) {
    report.jwks = await fetchJwks(http, jwksUri);
    if (report.jwks.error) checks.push({ name: 'JWKS', status: 'warn', detail: report.jwks.error.message });
    else if (report.jwks.keys.length === 0)
      checks.push({ name: 'JWKS', status: 'warn', detail: `${jwksUri} holds no keys` });
    else {
      const n = report.jwks.keys.length;
      checks.push({ name: 'JWKS', status: 'pass', detail: `${n} key${n > 1 ? 's' : ''}` });
    }
  }
  return report;
}

/**
 * The MtlsOAuthError (kind 'check', exit 1) for a report whose document failed validation.
 * `forDiscoverCommand`: the hint does not send the user to `discover` again.
 */
export function invalidDocumentError(report: DiscoveryReport, forDiscoverCommand = false): MtlsOAuthError {
  const failed = report.checks.filter((c) => c.status === 'fail');
  const issuerFail = failed.find((c) => c.name === 'issuer');
  const docIssuer = (report.document as { issuer?: unknown } | null)?.issuer;
  const hint =
    issuerFail && typeof docIssuer === 'string'
      ? `if ${docIssuer} is the IdP you mean, use exactly that as the issuer (a trailing "/" counts); otherwise the document is not this issuer's (RFC 8414 §3.3)`
      : forDiscoverCommand
        ? 'the IdP publishes a discovery document that clients cannot rely on: fix it at the IdP; meanwhile other commands can take the endpoints directly (--token-endpoint ...)'
        : `the IdP publishes an invalid discovery document; run \`mtls-oauth discover ${report.issuer}\` for the full report, or give the endpoints directly (--token-endpoint ...)`;
  return new MtlsOAuthError(
    'check',
    'DISCOVERY_INVALID',
    `the discovery document at ${report.documentUrl} is invalid: ${failed.map((c) => `${c.name}: ${c.detail ?? 'failed'}`).join('; ')}`,
    { hint, details: { checks: report.checks, url: report.documentUrl } },
  );
}

/** Discovery for commands that need endpoints: validated metadata, or an MtlsOAuthError. */
export async function discoverMetadata(
  http: DiscoveryHttp,
  issuer: string,
): Promise<{ metadata: Metadata; report: DiscoveryReport }> {
  const report = await discover(http, issuer, { jwks: false });
  if (!report.valid || !report.metadata) throw invalidDocumentError(report);
  return { metadata: report.metadata, report };
}
