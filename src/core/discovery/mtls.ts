// What a metadata document means for a client that authenticates with a certificate (RFC 8705):
// which mTLS methods each endpoint accepts, whether tokens get bound, and which URL this tool calls
// for each operation (§5: the mtls_endpoint_aliases entry with a certificate, else the plain one).

import type { Check } from '../check.ts';
import { type Metadata, MTLS_AUTH_METHODS } from './metadata.ts';

export type Operation =
  | 'token'
  | 'introspection'
  | 'revocation'
  | 'userinfo'
  | 'pushed_authorization_request'
  | 'device_authorization';
export const OPERATIONS: Operation[] = [
  'token',
  'introspection',
  'revocation',
  'userinfo',
  'pushed_authorization_request',
  'device_authorization',
];

/** The metadata member (and mtls_endpoint_aliases key) of each operation. */
export const ENDPOINT_MEMBER: Record<Operation, string> = {
  token: 'token_endpoint',
  introspection: 'introspection_endpoint',
  revocation: 'revocation_endpoint',
  userinfo: 'userinfo_endpoint',
  pushed_authorization_request: 'pushed_authorization_request_endpoint',
  device_authorization: 'device_authorization_endpoint',
};

type MetadataLike = Pick<Metadata, 'mtls_endpoint_aliases'> & Record<string, unknown>;

function aliasesOf(metadata: MetadataLike): Record<string, unknown> {
  const a = metadata.mtls_endpoint_aliases;
  return a && typeof a === 'object' && !Array.isArray(a) ? a : {};
}

/**
 * The URL to call for an operation. With a client certificate: the mtls_endpoint_aliases entry
 * where there is one, else the plain endpoint. Without: the plain endpoint, never an alias.
 */
export function endpointFor(
  metadata: MetadataLike,
  operation: Operation,
  opts: { withCert: boolean },
): string | undefined {
  return endpointChoice(metadata, operation, opts)?.url;
}

/** endpointFor, saying whether the alias or the plain endpoint was chosen. */
export function endpointChoice(
  metadata: MetadataLike,
  operation: Operation,
  opts: { withCert: boolean },
): { url: string; via: 'alias' | 'plain' } | undefined {
  const member = ENDPOINT_MEMBER[operation];
  const alias = aliasesOf(metadata)[member];
  if (opts.withCert && typeof alias === 'string') return { url: alias, via: 'alias' };
  const plain = metadata[member];
  return typeof plain === 'string' ? { url: plain, via: 'plain' } : undefined;
}

export interface AuthSupport {
  /** The methods advertised, or null when the member is absent. */
  methods: string[] | null;
  /** What absence means: RFC 8414 defaults the token endpoint to client_secret_basic; the others are unspecified. */
  assumed?: string;
  tls_client_auth: boolean | null;
  self_signed_tls_client_auth: boolean | null;
}

export interface EndpointRow {
  operation: Operation;
  member: string;
  plain?: string;
  alias?: string;
  /** the URL this tool calls with a client certificate, and whether it is the alias */
  withCert?: { url: string; via: 'alias' | 'plain' };
  /** the URL this tool calls without one (never an alias) */
  withoutCert?: string;
}

export interface MtlsAnalysis {
  clientAuth: Record<'token' | 'introspection' | 'revocation', AuthSupport>;
  /** tls_client_certificate_bound_access_tokens */
  certificateBoundAccessTokens: boolean;
  hasAliases: boolean;
  endpoints: EndpointRow[];
  /** mtls_endpoint_aliases keys that are not endpoints this tool uses, or have no plain endpoint */
  otherAliases: Array<{ member: string; url: string; note: string }>;
  grantTypes: { values: string[]; advertised: boolean };
  pkce: { methods: string[] | null; s256: boolean; plainOnly: boolean };
  /** authorization_response_iss_parameter_supported (RFC 9207) */
  issParameter: boolean;
  jwksUri?: string;
  /** what will bite, as checks (pass / warn) */
  checks: Check[];
}

function authSupport(metadata: MetadataLike, member: string, fallback?: string): AuthSupport {
  const v = metadata[member];
  if (!Array.isArray(v)) {
    return {
      methods: null,
      assumed: fallback,
      tls_client_auth: fallback ? false : null,
      self_signed_tls_client_auth: fallback ? false : null,
    };
  }
  const methods = v.filter((x): x is string => typeof x === 'string');
  return {
    methods,
    tls_client_auth: methods.includes('tls_client_auth'),
    self_signed_tls_client_auth: methods.includes('self_signed_tls_client_auth'),
  };
}

const mtlsOf = (a: AuthSupport) =>
  (a.methods ?? []).filter((m) => (MTLS_AUTH_METHODS as readonly string[]).includes(m));

/**
 * The mTLS picture of a metadata document, with warnings for what will bite. `invalidMembers`
 * (from validateMetadata) are members removed for their type: said so rather than "absent".
 */
export function analyzeMtls(metadata: MetadataLike, invalidMembers: string[] = []): MtlsAnalysis {
  const clientAuth = {
    token: authSupport(metadata, 'token_endpoint_auth_methods_supported', 'client_secret_basic'),
    introspection: authSupport(metadata, 'introspection_endpoint_auth_methods_supported'),
    revocation: authSupport(metadata, 'revocation_endpoint_auth_methods_supported'),
  };
  const aliases = aliasesOf(metadata);
  const endpoints: EndpointRow[] = OPERATIONS.map((operation) => {
    const member = ENDPOINT_MEMBER[operation];
    const plain = typeof metadata[member] === 'string' ? (metadata[member] as string) : undefined;
    const alias = typeof aliases[member] === 'string' ? (aliases[member] as string) : undefined;
    return {
      operation,
      member,
      plain,
      alias,
      withCert: endpointChoice(metadata, operation, { withCert: true }),
      withoutCert: plain,
    };
  }).filter((r) => r.plain || r.alias);

  const known = new Set(Object.values(ENDPOINT_MEMBER));
  const otherAliases = Object.entries(aliases)
    .filter(([member]) => !known.has(member) || typeof metadata[member] !== 'string')
    .map(([member, url]) => ({
      member,
      url: String(url),
      note: known.has(member)
        ? 'no plain endpoint of that name in the document'
        : 'not an endpoint this tool calls',
    }));

  const grantAdvertised = Array.isArray(metadata.grant_types_supported);
  const grantTypes = {
    values: grantAdvertised
      ? (metadata.grant_types_supported as unknown[]).filter((x): x is string => typeof x === 'string')
      : ['authorization_code', 'implicit'],
    advertised: grantAdvertised,
  };
  const pkceMethods = Array.isArray(metadata.code_challenge_methods_supported)
    ? (metadata.code_challenge_methods_supported as unknown[]).filter(
        (x): x is string => typeof x === 'string',
      )
    : null;
  const pkce = {
    methods: pkceMethods,
    s256: !!pkceMethods?.includes('S256'),
    plainOnly: !!pkceMethods && !pkceMethods.includes('S256') && pkceMethods.includes('plain'),
  };
  const analysis: MtlsAnalysis = {
    clientAuth,
    certificateBoundAccessTokens: metadata.tls_client_certificate_bound_access_tokens === true,
    hasAliases: Object.keys(aliases).length > 0,
    endpoints,
    otherAliases,
    grantTypes,
    pkce,
    issParameter: metadata.authorization_response_iss_parameter_supported === true,
    jwksUri: typeof metadata.jwks_uri === 'string' ? metadata.jwks_uri : undefined,
    checks: [],
  };
  analysis.checks = mtlsChecks(analysis, (member) =>
    invalidMembers.includes(member) ? `${member} is unusable (wrong type)` : `${member} is absent`,
  );
  return analysis;
}

function mtlsChecks(a: MtlsAnalysis, missing: (member: string) => string): Check[] {
  const checks: Check[] = [];
  const tokenMtls = mtlsOf(a.clientAuth.token);
  if (tokenMtls.length) {
    checks.push({
      name: 'mTLS client authentication',
      status: 'pass',
      detail: `token endpoint accepts ${tokenMtls.join(', ')}`,
    });
  } else {
    checks.push({
      name: 'mTLS client authentication',
      status: 'warn',
      detail:
        a.clientAuth.token.methods === null
          ? `${missing('token_endpoint_auth_methods_supported')}, which means client_secret_basic only (RFC 8414 §2): no tls_client_auth`
          : `the token endpoint advertises neither tls_client_auth nor self_signed_tls_client_auth (only ${a.clientAuth.token.methods.join(', ') || 'nothing'})`,
    });
  }
  for (const ep of ['introspection', 'revocation'] as const) {
    const s = a.clientAuth[ep];
    const present = a.endpoints.some((r) => r.operation === ep);
    if (!present || s.methods === null) continue;
    if (!mtlsOf(s).length) {
      checks.push({
        name: `mTLS at ${ep}`,
        status: 'warn',
        detail: `${ep}_endpoint_auth_methods_supported lists no mTLS method (${s.methods.join(', ') || 'nothing'})`,
      });
    }
  }
  checks.push(
    a.certificateBoundAccessTokens
      ? {
          name: 'certificate-bound tokens',
          status: 'pass',
          detail: 'tls_client_certificate_bound_access_tokens: true',
        }
      : {
          name: 'certificate-bound tokens',
          status: 'warn',
          detail:
            'not advertised (tls_client_certificate_bound_access_tokens is not true): access tokens may not carry cnf.x5t#S256; the token itself tells (binding)',
        },
  );
  if (a.hasAliases) {
    const uncovered = a.endpoints.filter(
      (r) =>
        r.plain && !r.alias && r.operation !== 'userinfo' && r.operation !== 'pushed_authorization_request',
    );
    checks.push(
      uncovered.length
        ? {
            name: 'mtls_endpoint_aliases',
            status: 'warn',
            detail: `no alias for ${uncovered.map((r) => r.member).join(', ')}: calls with a certificate go to the plain endpoint there, which must then request client certificates`,
          }
        : {
            name: 'mtls_endpoint_aliases',
            status: 'pass',
            detail: 'every endpoint used with a certificate has an alias',
          },
    );
  } else {
    checks.push({
      name: 'mtls_endpoint_aliases',
      status: 'skip',
      detail:
        'none advertised: calls with a certificate go to the plain endpoints, which must request client certificates',
    });
  }
  for (const o of a.otherAliases) {
    checks.push({
      name: 'mtls_endpoint_aliases',
      status: 'warn',
      detail: `alias "${o.member}" (${o.url}): ${o.note}`,
    });
  }
  if (a.pkce.s256) {
    checks.push({ name: 'PKCE S256', status: 'pass' });
  } else {
    checks.push({
      name: 'PKCE S256',
      status: 'warn',
      detail:
        a.pkce.methods === null
          ? `${missing('code_challenge_methods_supported')}: the IdP may ignore PKCE (this tool always sends S256)`
          : `S256 is not advertised (${a.pkce.methods.join(', ') || 'nothing'}); this tool always sends S256`,
    });
  }
  return checks;
}
