// FAPI 2.0 readiness: the IdP's metadata checked against the FAPI 2.0 Security Profile (final,
// https://openid.net/specs/fapi-security-profile-2_0-final.html), one check per requirement that
// metadata can show, each naming its clause (docs/fapi2.md lists them). What metadata cannot show
// (authorization codes used once, their lifetime, ...) is not claimed here; `login
// --security-profile fapi2` shows what the IdP did in practice.

import type { Check } from './check.ts';
import type { Metadata } from './discovery/metadata.ts';
import { type ErrorCode, usageError } from './errors.ts';

export const SECURITY_PROFILES = ['fapi2'] as const;
export type SecurityProfile = (typeof SECURITY_PROFILES)[number];

/** A --security-profile value. */
export function parseSecurityProfile(value: string): SecurityProfile {
  const v = value
    .trim()
    .toLowerCase()
    .replace(/[-_ .]/g, '');
  if (v === 'fapi2' || v === 'fapi20') return 'fapi2';
  throw usageError('UNKNOWN_SECURITY_PROFILE', `unknown security profile "${value}"`, {
    hint: `use one of: ${SECURITY_PROFILES.join(', ')} (the FAPI 2.0 Security Profile)`,
  });
}

/** §5.3.2.1 item 6: client authentication by mutual TLS (RFC 8705 §2) or private_key_jwt. */
export const FAPI2_AUTH_METHODS = ['tls_client_auth', 'self_signed_tls_client_auth', 'private_key_jwt'];
/** §5.4.1 item 1.2: the JWS algorithms allowed. */
export const FAPI2_ALGS = ['PS256', 'ES256', 'EdDSA'];

/** The metadata members listing signature algorithms for JWTs the IdP makes or accepts. */
const ALG_MEMBERS = [
  'id_token_signing_alg_values_supported',
  'token_endpoint_auth_signing_alg_values_supported',
  'request_object_signing_alg_values_supported',
  'userinfo_signing_alg_values_supported',
  'introspection_signing_alg_values_supported',
  'authorization_signing_alg_values_supported',
  'dpop_signing_alg_values_supported',
];

const list = (v: unknown): string[] | undefined =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined;

function check(name: string, clause: string, ok: boolean, pass: string, fail: string): Check {
  return {
    name: `fapi2.${name}`,
    status: ok ? 'pass' : 'fail',
    detail: `${ok ? pass : fail} (FAPI 2.0 Security Profile ${clause})`,
  };
}

/** The FAPI 2.0 Security Profile checks of a metadata document, in the order of the profile. */
export function fapi2Checks(m: Metadata): Check[] {
  const checks: Check[] = [];
  const grants = list(m.grant_types_supported);
  checks.push(
    check(
      'password_grant',
      '§5.3.2.1 item 2',
      !grants?.includes('password'),
      'the resource owner password grant is not offered',
      'grant_types_supported offers "password": the profile requires it to be rejected',
    ),
  );
  const dpop = list(m.dpop_signing_alg_values_supported);
  const mtlsBound = m.tls_client_certificate_bound_access_tokens === true;
  checks.push(
    check(
      'sender_constrained',
      '§5.3.2.1 items 4-5',
      mtlsBound || !!dpop?.length,
      [
        mtlsBound ? 'mTLS certificate-bound access tokens (RFC 8705)' : '',
        dpop?.length ? 'DPoP (RFC 9449)' : '',
      ]
        .filter(Boolean)
        .join(' and '),
      'neither tls_client_certificate_bound_access_tokens nor dpop_signing_alg_values_supported: access tokens are bearer tokens',
    ),
  );
  const methods = list(m.token_endpoint_auth_methods_supported);
  const others = methods?.filter((x) => !FAPI2_AUTH_METHODS.includes(x)) ?? [];
  checks.push(
    check(
      'client_auth',
      '§5.3.2.1 item 6',
      !!methods && methods.length > 0 && others.length === 0,
      `only ${methods?.join(', ')}`,
      !methods
        ? 'token_endpoint_auth_methods_supported is not advertised (the default is client_secret_basic)'
        : others.length
          ? `also offers ${others.join(', ')}: only tls_client_auth, self_signed_tls_client_auth and private_key_jwt are allowed`
          : 'no client authentication method is advertised',
    ),
  );
  const responseTypes = list(m.response_types_supported);
  const notCode = responseTypes?.filter((t) => t !== 'code') ?? [];
  checks.push(
    check(
      'response_type',
      '§5.3.2.2 item 1',
      !!responseTypes && notCode.length === 0,
      'only "code"',
      responseTypes
        ? `also offers ${notCode.map((t) => `"${t}"`).join(', ')}: implicit and hybrid response types are not allowed`
        : 'response_types_supported is not advertised',
    ),
  );
  checks.push(
    check(
      'par_offered',
      '§5.3.2.2 item 2',
      typeof m.pushed_authorization_request_endpoint === 'string',
      `pushed_authorization_request_endpoint ${m.pushed_authorization_request_endpoint}`,
      'no pushed_authorization_request_endpoint (RFC 9126)',
    ),
  );
  checks.push(
    check(
      'par_required',
      '§5.3.2.2 item 3',
      m.require_pushed_authorization_requests === true,
      'require_pushed_authorization_requests: true',
      'require_pushed_authorization_requests is not true: requests sent without PAR are accepted',
    ),
  );
  const pkce = list(m.code_challenge_methods_supported);
  checks.push(
    check(
      'pkce_s256',
      '§5.3.2.2 item 5',
      !!pkce?.includes('S256') && !pkce.includes('plain'),
      'code_challenge_methods_supported: S256 only',
      !pkce
        ? 'code_challenge_methods_supported is not advertised'
        : pkce.includes('S256')
          ? 'also offers "plain": PKCE is required with S256'
          : `S256 is not offered (${pkce.join(', ') || 'none'})`,
    ),
  );
  checks.push(
    check(
      'iss_response',
      '§5.3.2.2 item 7',
      m.authorization_response_iss_parameter_supported === true,
      'authorization_response_iss_parameter_supported: true (RFC 9207)',
      'authorization_response_iss_parameter_supported is not true: clients cannot rely on iss against mix-up (RFC 9207)',
    ),
  );
  const offending: string[] = [];
  for (const member of ALG_MEMBERS) {
    const algs = list(m[member]);
    const bad = algs?.filter((a) => !FAPI2_ALGS.includes(a)) ?? [];
    if (bad.length) offending.push(`${member}: ${bad.join(', ')}`);
  }
  checks.push(
    check(
      'signing_algs',
      '§5.4.1 item 1',
      offending.length === 0,
      `every advertised signing algorithm is one of ${FAPI2_ALGS.join(', ')}`,
      `algorithms outside ${FAPI2_ALGS.join(', ')}: ${offending.join('; ')}`,
    ),
  );
  return checks;
}

/** What a login under the profile showed in practice (login/finish.ts's result, checked after the flow). */
export interface ProfiledLogin {
  authMethod: string;
  /** The login's checks so far: iss, pkce, par, binding, dpop. */
  checks: Check[];
  pushed: boolean;
}

/**
 * The requirements a login can show the IdP met in practice: the request pushed (§5.3.3.2 items
 * 2 and 6), PKCE S256 accepted (§5.3.2.2 item 5), iss in the authorization response (§5.3.2.2
 * item 7), the access token sender-constrained (§5.3.2.1 item 4), a permitted client
 * authentication (§5.3.2.1 item 6).
 */
export function fapi2LoginChecks(l: ProfiledLogin): Check[] {
  const status = (name: string) => l.checks.find((c) => c.name === name)?.status;
  return [
    check(
      'par',
      '§5.3.3.2 items 2 and 6',
      l.pushed,
      'the request was pushed; the browser got only client_id and request_uri',
      'the request was not pushed',
    ),
    check(
      'pkce_s256',
      '§5.3.2.2 item 5',
      status('pkce') !== 'fail',
      'an S256 challenge was sent and the verifier accepted',
      'PKCE S256 was not honoured',
    ),
    check(
      'iss_response',
      '§5.3.2.2 item 7',
      status('iss') === 'pass',
      'the authorization response carried iss, equal to the issuer (RFC 9207)',
      'the authorization response did not carry the issuer in iss (RFC 9207)',
    ),
    ...fapi2TokenChecks({
      authMethod: l.authMethod,
      certificateBound: status('binding') === 'pass',
      dpopBound: status('dpop') === 'pass',
    }),
  ];
}

/**
 * What any run that obtained a token shows (login, smoke): the access token sender-constrained
 * (§5.3.2.1 items 4-5) and a permitted client authentication (§5.3.2.1 item 6).
 */
export function fapi2TokenChecks(t: {
  authMethod: string;
  certificateBound: boolean;
  dpopBound: boolean;
}): Check[] {
  return [
    check(
      'bound_token',
      '§5.3.2.1 items 4-5',
      t.certificateBound || t.dpopBound,
      `the access token is sender-constrained (${t.certificateBound ? 'bound to the client certificate' : 'bound to the DPoP key'})`,
      'the access token is not bound to the client certificate or a DPoP key: a bearer token',
    ),
    check(
      'client_auth',
      '§5.3.2.1 item 6',
      FAPI2_AUTH_METHODS.includes(t.authMethod),
      `the client authenticated with ${t.authMethod}`,
      `the client authenticated with ${t.authMethod}; the profile allows only ${FAPI2_AUTH_METHODS.join(', ')}`,
    ),
  ];
}

/** The failure of a profile whose checks did not all pass (exit 1). */
export function profileFailure(
  checks: Check[],
): { code: ErrorCode; message: string; hint: string } | undefined {
  const failed = checks.filter((c) => c.name.startsWith('fapi2.') && c.status === 'fail');
  if (!failed.length) return undefined;
  return {
    code: 'FAPI2_NOT_MET',
    message: `${failed.length} FAPI 2.0 Security Profile requirement${failed.length > 1 ? 's' : ''} not met: ${failed.map((c) => c.name.slice('fapi2.'.length)).join(', ')}`,
    hint: 'each failed check names its clause of the profile (docs/fapi2.md); the IdP, or the client registration, must change to meet it',
  };
}
