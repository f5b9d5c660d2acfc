// Discovery (RFC 8414, OpenID Connect Discovery 1.0): find the IdP's metadata document at the
// well-known locations (well-known.ts), validate it against the issuer that was asked for
// (metadata.ts), fetch its JWKS (jwks.ts), and analyse what it means for mutual TLS (mtls.ts).
//
// Discovery and JWKS requests never present the client certificate (withClientCert: false): they
// are public documents, and an alias-aware IdP may serve them from a host that does not ask for one.

import type { Check } from '../check.ts';
import { isMtlsOAuthError, MtlsOAuthError } from '../errors.ts';
import { fetchJwks, type JwksSummary } from './jwks.ts';
import { type LocationKind, type Metadata, urlProblem, validateMetadata } from './metadata.ts';
import { analyzeMtls, type MtlsAnalysis } from './mtls.ts';
import {
  ISSUER_HINT,
  type IssuerInput,
  parseIssuerInput,
  type WellKnownLocation,
  wellKnownUrls,
} from './well-known.ts';

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
