// Authorization server metadata (RFC 8414, OpenID Connect Discovery 1.0): the members this tool
// knows, their types, and the validation of a document against the issuer that was asked for.

import type { Check } from '../check.ts';

/** A metadata document as received; the known members typed, the rest kept. */
export interface Metadata {
  issuer: string;
  authorization_endpoint?: string;
  token_endpoint?: string;
  jwks_uri?: string;
  userinfo_endpoint?: string;
  registration_endpoint?: string;
  introspection_endpoint?: string;
  revocation_endpoint?: string;
  pushed_authorization_request_endpoint?: string;
  end_session_endpoint?: string;
  device_authorization_endpoint?: string;
  scopes_supported?: string[];
  response_types_supported?: string[];
  response_modes_supported?: string[];
  grant_types_supported?: string[];
  subject_types_supported?: string[];
  id_token_signing_alg_values_supported?: string[];
  token_endpoint_auth_methods_supported?: string[];
  token_endpoint_auth_signing_alg_values_supported?: string[];
  introspection_endpoint_auth_methods_supported?: string[];
  revocation_endpoint_auth_methods_supported?: string[];
  code_challenge_methods_supported?: string[];
  tls_client_certificate_bound_access_tokens?: boolean;
  authorization_response_iss_parameter_supported?: boolean;
  require_pushed_authorization_requests?: boolean;
  mtls_endpoint_aliases?: Record<string, string>;
  [member: string]: unknown;
}

type FieldType = 'url' | 'string[]' | 'boolean' | 'aliases';

/** Members whose type this tool checks (a wrong type is a failed validation, not a crash). */
export const FIELD_TYPES: Record<string, FieldType> = {
  issuer: 'url',
  authorization_endpoint: 'url',
  token_endpoint: 'url',
  jwks_uri: 'url',
  userinfo_endpoint: 'url',
  registration_endpoint: 'url',
  introspection_endpoint: 'url',
  revocation_endpoint: 'url',
  pushed_authorization_request_endpoint: 'url',
  end_session_endpoint: 'url',
  device_authorization_endpoint: 'url',
  backchannel_authentication_endpoint: 'url',
  scopes_supported: 'string[]',
  response_types_supported: 'string[]',
  response_modes_supported: 'string[]',
  grant_types_supported: 'string[]',
  subject_types_supported: 'string[]',
  id_token_signing_alg_values_supported: 'string[]',
  token_endpoint_auth_methods_supported: 'string[]',
  token_endpoint_auth_signing_alg_values_supported: 'string[]',
  introspection_endpoint_auth_methods_supported: 'string[]',
  revocation_endpoint_auth_methods_supported: 'string[]',
  code_challenge_methods_supported: 'string[]',
  claims_supported: 'string[]',
  tls_client_certificate_bound_access_tokens: 'boolean',
  authorization_response_iss_parameter_supported: 'boolean',
  require_pushed_authorization_requests: 'boolean',
  claims_parameter_supported: 'boolean',
  request_parameter_supported: 'boolean',
  request_uri_parameter_supported: 'boolean',
  mtls_endpoint_aliases: 'aliases',
};

/** Client authentication methods registered at IANA (OAuth Token Endpoint Authentication Methods). */
export const KNOWN_AUTH_METHODS = [
  'none',
  'client_secret_basic',
  'client_secret_post',
  'client_secret_jwt',
  'private_key_jwt',
  'tls_client_auth',
  'self_signed_tls_client_auth',
] as const;
export const MTLS_AUTH_METHODS = ['tls_client_auth', 'self_signed_tls_client_auth'] as const;

/** Where a document was found: OIDC appends the well-known suffix, RFC 8414 inserts it. */
export type LocationKind = 'oidc' | 'rfc8414' | 'rfc8414-appended';

import { urlProblem } from '../url-policy.ts';

export { isLoopbackHost, urlProblem } from '../url-policy.ts';

const typeName = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

function typeProblem(type: FieldType, v: unknown): string | undefined {
  switch (type) {
    case 'url':
      return typeof v === 'string' ? undefined : `must be a URL string, got ${typeName(v)}`;
    case 'boolean':
      return typeof v === 'boolean' ? undefined : `must be true or false, got ${JSON.stringify(v)}`;
    case 'string[]':
      return Array.isArray(v) && v.every((x) => typeof x === 'string')
        ? undefined
        : `must be an array of strings, got ${Array.isArray(v) ? 'an array with non-strings' : typeName(v)}`;
    case 'aliases':
      return v &&
        typeof v === 'object' &&
        !Array.isArray(v) &&
        Object.values(v).every((x) => typeof x === 'string')
        ? undefined
        : `must be an object of endpoint URLs, got ${typeName(v)}`;
  }
}

export interface Validation {
  /** false when any check failed */
  valid: boolean;
  checks: Check[];
  /** the document, when it is an object, with members of a wrong type removed */
  metadata?: Metadata;
  /** the members removed because of their type */
  invalidMembers: string[];
}

const list = (xs: string[]) => xs.join(', ');

/**
 * Validates a metadata document against the issuer that was asked for (RFC 8414 §3.3, OIDC
 * Discovery §4.3): `issuer` equal character for character, required members present, members of
 * the right type, https endpoints (http only on loopback), known client authentication methods.
 */
export function validateMetadata(doc: unknown, issuer: string, kind: LocationKind = 'oidc'): Validation {
  const checks: Check[] = [];
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) {
    checks.push({
      name: 'document',
      status: 'fail',
      detail: `the document must be a JSON object, got ${typeName(doc)}`,
    });
    return { valid: false, checks, invalidMembers: [] };
  }
  const d = doc as Record<string, unknown>;

  // issuer
  if (typeof d.issuer !== 'string') {
    checks.push({
      name: 'issuer',
      status: 'fail',
      detail:
        d.issuer === undefined ? 'the document has no "issuer"' : `"issuer" ${typeProblem('url', d.issuer)}`,
    });
  } else if (d.issuer !== issuer) {
    const slash =
      d.issuer.replace(/\/$/, '') === issuer.replace(/\/$/, '')
        ? ' (they differ only in the trailing "/", which counts)'
        : '';
    checks.push({
      name: 'issuer',
      status: 'fail',
      detail: `the document says "${d.issuer}" but "${issuer}" was asked for${slash}`,
    });
  } else {
    checks.push({ name: 'issuer', status: 'pass', detail: `"${issuer}" matches exactly` });
  }

  // types
  const clean: Record<string, unknown> = { ...d };
  const wrongTypes: string[] = [];
  for (const [name, type] of Object.entries(FIELD_TYPES)) {
    if (d[name] === undefined || name === 'issuer') continue;
    const problem = typeProblem(type, d[name]);
    if (problem) {
      wrongTypes.push(`"${name}" ${problem}`);
      delete clean[name];
    }
  }
  checks.push(
    wrongTypes.length
      ? { name: 'member types', status: 'fail', detail: wrongTypes.join('; ') }
      : { name: 'member types', status: 'pass' },
  );

  // required members
  const grantTypes = Array.isArray(clean.grant_types_supported)
    ? (clean.grant_types_supported as string[])
    : ['authorization_code', 'implicit']; // RFC 8414 §2 default
  const required = ['token_endpoint', 'response_types_supported'];
  if (grantTypes.includes('authorization_code') || grantTypes.includes('implicit')) {
    required.push('authorization_endpoint');
  }
  if (kind === 'oidc')
    required.push('jwks_uri', 'subject_types_supported', 'id_token_signing_alg_values_supported');
  const missing = required.filter((m) => d[m] === undefined);
  checks.push(
    missing.length
      ? {
          name: 'required members',
          status: 'fail',
          detail: `missing ${list(missing.map((m) => `"${m}"`))}${kind === 'oidc' ? ' (OpenID Connect Discovery §3)' : ' (RFC 8414 §2)'}`,
        }
      : { name: 'required members', status: 'pass' },
  );

  // https everywhere (http on loopback only)
  const insecure: string[] = [];
  for (const [name, type] of Object.entries(FIELD_TYPES)) {
    if (type === 'url' && typeof clean[name] === 'string') {
      const p = urlProblem(clean[name] as string);
      if (p) insecure.push(`"${name}" ${p}: ${clean[name]}`);
    }
  }
  const aliases = clean.mtls_endpoint_aliases as Record<string, string> | undefined;
  for (const [name, url] of Object.entries(aliases ?? {})) {
    const p = urlProblem(url);
    if (p) insecure.push(`mtls_endpoint_aliases."${name}" ${p}: ${url}`);
  }
  if (typeof clean.issuer === 'string') {
    try {
      const u = new URL(clean.issuer);
      if (u.search || u.hash)
        insecure.push(`"issuer" must have no query or fragment (RFC 8414 §2): ${clean.issuer}`);
    } catch {}
  }
  checks.push(
    insecure.length
      ? { name: 'https endpoints', status: 'fail', detail: insecure.join('; ') }
      : { name: 'https endpoints', status: 'pass', detail: 'every URL is https (or http on loopback)' },
  );

  // authentication methods
  const unknown = new Set<string>();
  for (const m of [
    'token_endpoint_auth_methods_supported',
    'introspection_endpoint_auth_methods_supported',
    'revocation_endpoint_auth_methods_supported',
  ]) {
    for (const v of (clean[m] as string[] | undefined) ?? []) {
      if (!(KNOWN_AUTH_METHODS as readonly string[]).includes(v)) unknown.add(v);
    }
  }
  checks.push(
    unknown.size
      ? {
          name: 'auth methods',
          status: 'warn',
          detail: `unknown client authentication method${unknown.size > 1 ? 's' : ''} ${list([...unknown].map((m) => `"${m}"`))}`,
        }
      : { name: 'auth methods', status: 'pass', detail: 'all known' },
  );

  const valid = !checks.some((c) => c.status === 'fail');
  return {
    valid,
    checks,
    metadata: typeof clean.issuer === 'string' ? (clean as Metadata) : undefined,
    invalidMembers: Object.keys(d).filter((k) => !(k in clean)),
  };
}
