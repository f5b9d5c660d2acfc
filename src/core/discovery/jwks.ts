// The issuer's JSON Web Key Set (RFC 7517 §5): the one JWKS fetcher, used by login's ID token
// validation and by discover's key summary. Never presents the client certificate (a public document).

import type { JSONWebKeySet } from 'jose';
import { type ErrorCode, isMtlsOAuthError, MtlsOAuthError } from '../errors.ts';
import { MAX_JWKS_KEYS } from '../limits.ts';
import type { DiscoveryHttp } from './discover.ts';

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
  if (body.keys.length > MAX_JWKS_KEYS) {
    throw new MtlsOAuthError(
      'check',
      'JWKS_INVALID',
      `JWKS: ${uri} holds ${body.keys.length} keys, over the limit of ${MAX_JWKS_KEYS}`,
      {
        hint: 'an IdP publishes a handful of keys; this many is a broken or hostile IdP',
        details: { url: uri, keys: body.keys.length, limit: MAX_JWKS_KEYS },
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
