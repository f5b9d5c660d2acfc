// ID token validation (OIDC Core §3.1.3.7, docs/standards.md "Tokens"). jose does the JOSE work (JWS
// parsing, key selection from the JWK Set, signature); the OIDC rules are explicit checks below, each
// named, so a person sees which one failed and why.
//
// The JWKS comes from a caller-supplied fetcher (our transport has its own TLS: a custom CA, maybe a
// client certificate), turned into a local key set. On an unknown `kid` the JWKS is fetched once
// more (the IdP may have rotated its keys); if the key is still missing, the signature check fails.

import { createHash } from 'node:crypto';
import {
  type CompactVerifyResult,
  compactVerify,
  createLocalJWKSet,
  decodeProtectedHeader,
  errors,
  type JSONWebKeySet,
  type JWSHeaderParameters,
  type JWTPayload,
} from 'jose';
import type { Check } from './check.ts';
import { MtlsOAuthError, usageError } from './errors.ts';
import { constantTimeEqual } from './pkce.ts';

/** Asymmetric signature algorithms accepted by default. Never `none`, never HS* (docs/standards.md "Tokens"). */
export const DEFAULT_ID_TOKEN_ALGS: readonly string[] = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
];

export const DEFAULT_SKEW_SEC = 300;

export interface IdTokenValidationOptions {
  /** The issuer the flow started with; `iss` must equal it character for character. */
  issuer: string;
  clientId: string;
  /** The nonce sent in the authorization request; the token must carry it. */
  nonce?: string;
  /** Audiences besides the client id the client trusts (--trusted-audience); any other fails aud. */
  trustedAudiences?: readonly string[];
  /** Fetches the issuer's JWK Set (jwks_uri) over our own transport. Called once, and once more on an unknown kid. */
  fetchJwks: () => Promise<JSONWebKeySet>;
  /** The access token from the same response: checked against `at_hash` when the token has one. */
  accessToken?: string;
  /** The authorization code: checked against `c_hash` when the token has one. */
  code?: string;
  /** Clock skew tolerated for `exp`, `nbf` and both sides of the `iat` window (default 300 s). */
  maxAgeSkewSec?: number;
  /** A subset of DEFAULT_ID_TOKEN_ALGS (or other asymmetric JWS algorithms); `none` and HS* are refused. */
  allowedAlgs?: readonly string[];
  /** The current time (tests). */
  now?: Date;
}

export interface IdTokenClaims extends JWTPayload {
  iss: string;
  sub: string;
  aud: string | string[];
  exp: number;
  iat: number;
  nonce?: string;
  azp?: string;
  at_hash?: string;
  c_hash?: string;
  [claim: string]: unknown;
}

export interface IdTokenValidation {
  claims: IdTokenClaims;
  header: JWSHeaderParameters;
  /** alg, signature, iss, aud, azp, sub, exp, iat, [nbf], nonce, at_hash, c_hash: all pass or skip. */
  checks: Check[];
  /** 1, or 2 when the kid was found only after refetching the JWKS. */
  jwksFetches: number;
}

// ---------------------------------------------------------------------------------------------
// Helpers

/** OIDC Core §3.1.3.6: base64url of the left half of the hash of the ASCII value, the hash per `alg`. */
export function hashForAlg(alg: string): 'sha256' | 'sha384' | 'sha512' | undefined {
  if (alg === 'EdDSA' || alg === 'Ed25519') return 'sha512'; // jose supports EdDSA with Ed25519 only
  const m = /^(?:RS|PS|ES)(256|384|512)K?$/.exec(alg);
  return m ? (`sha${m[1]}` as 'sha256' | 'sha384' | 'sha512') : undefined;
}

export function leftHalfHash(value: string, alg: string): string {
  const hash = hashForAlg(alg);
  if (!hash) throw new MtlsOAuthError('check', 'ID_TOKEN_INVALID', `no token hash is defined for alg ${alg}`);
  const digest = createHash(hash).update(value, 'ascii').digest();
  return digest.subarray(0, digest.length / 2).toString('base64url');
}

function isForbiddenAlg(alg: string): boolean {
  return alg === 'none' || /^HS\d+$/.test(alg);
}

function allowedAlgorithms(algs: readonly string[] | undefined): string[] {
  const list = [...(algs ?? DEFAULT_ID_TOKEN_ALGS)];
  const forbidden = list.filter(isForbiddenAlg);
  if (forbidden.length > 0) {
    throw usageError(
      'ID_TOKEN_ALG_FORBIDDEN',
      `ID token algorithms ${forbidden.join(', ')} are never accepted`,
      {
        hint: '"none" has no signature, and HS* would let anyone holding the client secret (or the public key) forge tokens',
      },
    );
  }
  if (list.length === 0)
    throw usageError('ID_TOKEN_ALG_FORBIDDEN', 'the list of allowed ID token algorithms is empty');
  return list;
}

function rejected(checks: Check[]): MtlsOAuthError {
  const failed = checks.filter((c) => c.status === 'fail');
  return new MtlsOAuthError(
    'check',
    'ID_TOKEN_INVALID',
    `ID token rejected: ${failed.map((c) => `${c.name}: ${c.detail ?? 'failed'}`).join('; ')}`,
    {
      hint: `failed check${failed.length > 1 ? 's' : ''}: ${failed.map((c) => c.name).join(', ')} (OIDC Core §3.1.3.7)`,
      details: { checks },
    },
  );
}

const iso = (sec: number) => {
  const d = new Date(sec * 1000);
  return Number.isNaN(d.getTime()) ? String(sec) : d.toISOString();
};

const quote = (v: unknown) => (typeof v === 'string' ? `"${v}"` : (JSON.stringify(v) ?? 'undefined'));

// ---------------------------------------------------------------------------------------------
// Structure and signature

function parseHeader(idToken: string, checks: Check[]): JWSHeaderParameters {
  const parts = typeof idToken === 'string' ? idToken.split('.').length : 0;
  if (parts === 5) {
    checks.push({ name: 'format', status: 'fail', detail: 'an encrypted ID token (JWE) is not supported' });
    throw rejected(checks);
  }
  try {
    if (parts !== 3) throw new Error('not three dot-separated parts');
    return decodeProtectedHeader(idToken) as JWSHeaderParameters;
  } catch (e) {
    checks.push({ name: 'format', status: 'fail', detail: `not a compact JWS: ${(e as Error).message}` });
    throw rejected(checks);
  }
}

function checkAlg(header: JWSHeaderParameters, algs: string[], checks: Check[]): string {
  const alg = header.alg;
  if (typeof alg === 'string' && algs.includes(alg)) {
    checks.push({ name: 'alg', status: 'pass', detail: `${alg} is allowed` });
    return alg;
  }
  const why =
    alg === 'none'
      ? 'alg "none": an unsigned token is never accepted'
      : typeof alg === 'string' && isForbiddenAlg(alg)
        ? `alg ${alg}: symmetric algorithms are never accepted`
        : `alg ${quote(alg)} is not in the allow-list (${algs.join(', ')})`;
  checks.push({ name: 'alg', status: 'fail', detail: why });
  throw rejected(checks);
}

async function loadJwks(fetchJwks: () => Promise<JSONWebKeySet>) {
  const jwks = await fetchJwks();
  return createLocalJWKSet(jwks); // throws JWKSInvalid on anything that is not a JWK Set
}

/** Verifies with the key set; when several keys match (no kid), tries each. */
async function verifyWithKeySet(
  idToken: string,
  keySet: ReturnType<typeof createLocalJWKSet>,
  algorithms: string[],
): Promise<CompactVerifyResult> {
  try {
    return await compactVerify(idToken, keySet, { algorithms });
  } catch (e) {
    if (!(e instanceof errors.JWKSMultipleMatchingKeys)) throw e;
    for await (const key of e) {
      try {
        return await compactVerify(idToken, key, { algorithms });
      } catch (inner) {
        if (!(inner instanceof errors.JWSSignatureVerificationFailed)) throw inner;
      }
    }
    throw new errors.JWSSignatureVerificationFailed();
  }
}

async function verifySignature(
  idToken: string,
  header: JWSHeaderParameters,
  algorithms: string[],
  fetchJwks: () => Promise<JSONWebKeySet>,
  checks: Check[],
): Promise<{ payload: Uint8Array; fetches: number }> {
  const keyName = header.kid === undefined ? 'no kid' : `kid ${quote(header.kid)}`;
  let fetches = 0;
  try {
    try {
      fetches++;
      const r = await verifyWithKeySet(idToken, await loadJwks(fetchJwks), algorithms);
      checks.push({
        name: 'signature',
        status: 'pass',
        detail: `verified with the issuer's key (${keyName})`,
      });
      return { payload: r.payload, fetches };
    } catch (e) {
      if (!(e instanceof errors.JWKSNoMatchingKey)) throw e;
    }
    fetches++; // unknown kid: the IdP may have rotated its keys; fetch once more
    const r = await verifyWithKeySet(idToken, await loadJwks(fetchJwks), algorithms);
    checks.push({
      name: 'signature',
      status: 'pass',
      detail: `verified with the issuer's key (${keyName}), found after refetching the JWKS`,
    });
    return { payload: r.payload, fetches };
  } catch (e) {
    const detail = signatureFailure(e, header, keyName);
    if (detail === undefined) throw e; // not a JOSE failure (e.g. the JWKS fetch failed): the caller's error
    checks.push({ name: detail.name, status: 'fail', detail: detail.text });
    throw rejected(checks);
  }
}

function signatureFailure(e: unknown, header: JWSHeaderParameters, keyName: string) {
  if (e instanceof errors.JWKSNoMatchingKey) {
    return {
      name: 'signature',
      text: `no key in the issuer's JWKS matches ${keyName} and alg ${header.alg}, even after fetching it again`,
    };
  }
  if (e instanceof errors.JWSSignatureVerificationFailed) {
    return { name: 'signature', text: `the signature does not verify with the issuer's key (${keyName})` };
  }
  if (e instanceof errors.JWKSInvalid)
    return { name: 'signature', text: `the issuer's JWKS is unusable: ${e.message}` };
  if (e instanceof errors.JOSEAlgNotAllowed) return { name: 'alg', text: e.message };
  if (e instanceof errors.JWSInvalid) return { name: 'format', text: e.message };
  if (e instanceof errors.JOSEError) return { name: 'signature', text: e.message };
  // jose reports unusable keys (e.g. RSA under 2048 bits) as TypeError
  if (e instanceof TypeError) return { name: 'signature', text: e.message };
  return undefined;
}

function parsePayload(payload: Uint8Array, checks: Check[]): Record<string, unknown> {
  try {
    const claims: unknown = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
    if (claims && typeof claims === 'object' && !Array.isArray(claims))
      return claims as Record<string, unknown>;
  } catch {
    // reported below
  }
  checks.push({ name: 'format', status: 'fail', detail: 'the payload is not a JSON object' });
  throw rejected(checks);
}

// ---------------------------------------------------------------------------------------------
// Claims (each returns one named check)

function checkIss(c: Record<string, unknown>, issuer: string): Check {
  return c.iss === issuer
    ? { name: 'iss', status: 'pass', detail: `equals ${issuer}` }
    : { name: 'iss', status: 'fail', detail: `${quote(c.iss)} is not the issuer "${issuer}"` };
}

/**
 * OIDC Core §3.1.3.7 (3): aud contains the client id, and the token is rejected if it lists
 * audiences the client does not trust (`trusted`: --trusted-audience), whatever azp says.
 */
function checkAud(c: Record<string, unknown>, clientId: string, trusted: readonly string[] = []): Check {
  const aud = c.aud;
  const list = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : undefined;
  if (!list || list.some((a) => typeof a !== 'string')) {
    return { name: 'aud', status: 'fail', detail: `missing or malformed (${quote(aud)})` };
  }
  if (!list.includes(clientId)) {
    return {
      name: 'aud',
      status: 'fail',
      detail: `${quote(aud)} does not contain the client id "${clientId}"`,
    };
  }
  const others = list.filter((a) => a !== clientId && !trusted.includes(a));
  if (others.length) {
    return {
      name: 'aud',
      status: 'fail',
      detail: `also names ${others.map((a) => quote(a)).join(', ')}, which this client does not trust (--trusted-audience names one it does)`,
    };
  }
  return { name: 'aud', status: 'pass', detail: `contains the client id "${clientId}"` };
}

/** NumericDate bounds (RFC 7519 §2): a real date, 2000-01-01 to 2200-01-01, as a finite number. */
const MIN_TIME = 946_684_800;
const MAX_TIME = 7_258_118_400;

/** Undefined when a time claim is a usable NumericDate, else why not. */
function badTime(v: unknown): string | undefined {
  if (typeof v !== 'number') return `missing or not a number (${quote(v)})`;
  if (!Number.isFinite(v) || v < MIN_TIME || v > MAX_TIME) {
    return `${quote(v)} is not a date between 2000 and 2200 (seconds since 1970)`;
  }
  return undefined;
}

/** OIDC Core: azp, when present, is our client id; with several audiences it must be present. */
function checkAzp(c: Record<string, unknown>, clientId: string): Check {
  const several = Array.isArray(c.aud) && c.aud.length > 1;
  if (c.azp === undefined) {
    return several
      ? { name: 'azp', status: 'fail', detail: 'missing, although the token has several audiences' }
      : { name: 'azp', status: 'skip', detail: 'not present (single audience)' };
  }
  return c.azp === clientId
    ? { name: 'azp', status: 'pass', detail: `equals the client id "${clientId}"` }
    : { name: 'azp', status: 'fail', detail: `${quote(c.azp)} is not the client id "${clientId}"` };
}

function checkSub(c: Record<string, unknown>): Check {
  return typeof c.sub === 'string' && c.sub.length > 0
    ? { name: 'sub', status: 'pass', detail: `"${c.sub}"` }
    : { name: 'sub', status: 'fail', detail: `missing or not a string (${quote(c.sub)})` };
}

function checkExp(c: Record<string, unknown>, now: number, skew: number): Check {
  const bad = badTime(c.exp);
  if (bad || typeof c.exp !== 'number') return { name: 'exp', status: 'fail', detail: bad ?? '' };
  const left = Math.round(c.exp - now);
  return c.exp > now - skew
    ? { name: 'exp', status: 'pass', detail: `expires ${iso(c.exp)} (in ${left} s)` }
    : {
        name: 'exp',
        status: 'fail',
        detail: `expired ${iso(c.exp)} (${-left} s ago, ${skew} s skew allowed)`,
      };
}

function checkIat(c: Record<string, unknown>, now: number, skew: number): Check {
  const bad = badTime(c.iat);
  if (bad || typeof c.iat !== 'number') return { name: 'iat', status: 'fail', detail: bad ?? '' };
  const age = Math.round(now - c.iat);
  if (c.iat > now + skew) {
    return {
      name: 'iat',
      status: 'fail',
      detail: `issued ${iso(c.iat)}, ${-age} s in the future (${skew} s skew allowed)`,
    };
  }
  if (c.iat < now - skew) {
    return {
      name: 'iat',
      status: 'fail',
      detail: `issued ${iso(c.iat)}, ${age} s ago: outside the ±${skew} s window`,
    };
  }
  return { name: 'iat', status: 'pass', detail: `issued ${iso(c.iat)} (${age} s ago)` };
}

function checkNbf(c: Record<string, unknown>, now: number, skew: number): Check | undefined {
  if (c.nbf === undefined) return undefined;
  const bad = badTime(c.nbf);
  if (bad || typeof c.nbf !== 'number') return { name: 'nbf', status: 'fail', detail: bad ?? '' };
  return c.nbf <= now + skew
    ? { name: 'nbf', status: 'pass', detail: `valid from ${iso(c.nbf)}` }
    : { name: 'nbf', status: 'fail', detail: `not valid before ${iso(c.nbf)}` };
}

/** auth_time (OIDC Core §2), when present: a usable date like the other time claims. */
function checkAuthTime(c: Record<string, unknown>): Check | undefined {
  if (c.auth_time === undefined) return undefined;
  const bad = badTime(c.auth_time);
  return bad
    ? { name: 'auth_time', status: 'fail', detail: bad }
    : { name: 'auth_time', status: 'pass', detail: `authenticated ${iso(c.auth_time as number)}` };
}

function checkNonce(c: Record<string, unknown>, nonce: string | undefined): Check {
  if (nonce === undefined) return { name: 'nonce', status: 'skip', detail: 'no nonce was sent' };
  if (c.nonce === undefined)
    return { name: 'nonce', status: 'fail', detail: 'missing, but the request sent one' };
  return constantTimeEqual(c.nonce, nonce)
    ? { name: 'nonce', status: 'pass', detail: 'matches the nonce sent' }
    : {
        name: 'nonce',
        status: 'fail',
        detail: 'does not match the nonce sent (a replayed token, or one from another login)',
      };
}

/** at_hash / c_hash: checked when both the claim and the value it covers are present. */
function checkTokenHash(
  name: 'at_hash' | 'c_hash',
  c: Record<string, unknown>,
  value: string | undefined,
  alg: string,
): Check {
  const what = name === 'at_hash' ? 'access token' : 'code';
  const claim = c[name];
  if (claim === undefined) return { name, status: 'skip', detail: 'not in the token' };
  if (value === undefined) return { name, status: 'skip', detail: `no ${what} to compare with` };
  if (!hashForAlg(alg)) return { name, status: 'fail', detail: `no token hash is defined for alg ${alg}` };
  const expected = leftHalfHash(value, alg);
  return claim === expected
    ? { name, status: 'pass', detail: `matches the ${what}` }
    : { name, status: 'fail', detail: `${quote(claim)} does not match the ${what} (expected "${expected}")` };
}

// ---------------------------------------------------------------------------------------------

/**
 * Validates an ID token per OIDC Core §3.1.3.7. Returns the claims and every named check; throws
 * MtlsOAuthError kind 'check', code ID_TOKEN_INVALID (details.checks: all checks so far) when one
 * fails. Errors from fetchJwks (network) propagate unchanged.
 */
export async function validateIdToken(
  idToken: string,
  o: IdTokenValidationOptions,
): Promise<IdTokenValidation> {
  const algorithms = allowedAlgorithms(o.allowedAlgs);
  const skew = o.maxAgeSkewSec ?? DEFAULT_SKEW_SEC;
  const now = (o.now ?? new Date()).getTime() / 1000;
  const checks: Check[] = [];

  const header = parseHeader(idToken, checks);
  const alg = checkAlg(header, algorithms, checks);
  const { payload, fetches } = await verifySignature(idToken, header, algorithms, o.fetchJwks, checks);
  const claims = parsePayload(payload, checks);

  const nbf = checkNbf(claims, now, skew);
  checks.push(
    checkIss(claims, o.issuer),
    checkAud(claims, o.clientId, o.trustedAudiences),
    checkAzp(claims, o.clientId),
    checkSub(claims),
    checkExp(claims, now, skew),
    checkIat(claims, now, skew),
    ...(nbf ? [nbf] : []),
    ...[checkAuthTime(claims)].filter((x): x is Check => !!x),
    checkNonce(claims, o.nonce),
    checkTokenHash('at_hash', claims, o.accessToken, alg),
    checkTokenHash('c_hash', claims, o.code, alg),
  );
  if (checks.some((c) => c.status === 'fail')) throw rejected(checks);
  return { claims: claims as IdTokenClaims, header, checks, jwksFetches: fetches };
}
